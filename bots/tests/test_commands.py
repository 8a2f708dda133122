import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bots.models import Bot
from bots.tests.factories import manifest_data


def _write(tmp_path, data):
    path = tmp_path / "dit.json"
    path.write_text(json.dumps(data))
    return path


def _broken(**kwargs):
    data = manifest_data(**kwargs)
    data["settings"]["groups"][0]["fields"][0]["default"] = 500
    data["settings"]["groups"][1]["fields"][0]["type"] = "colour"
    return data


def test_validate_manifest_accepts_a_valid_file(tmp_path):
    out = StringIO()

    call_command("validate_manifest", str(_write(tmp_path, manifest_data())), stdout=out)

    assert "valid manifest for bot 'testbot'" in out.getvalue()


def test_validate_manifest_prints_every_problem_with_its_location(tmp_path):
    err = StringIO()

    with pytest.raises(CommandError, match="2 problems found") as caught:
        call_command("validate_manifest", str(_write(tmp_path, _broken())), stderr=err)

    assert caught.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "settings.groups[0].fields[0].default: 500 is above the maximum 120",
        "settings.groups[1].fields[0].type: unknown type 'colour' (expected one of: "
        "string, number, boolean, select, secret, discord_channel, discord_role)",
    ]


def test_validate_manifest_reports_malformed_json_with_line_and_column(tmp_path):
    path = tmp_path / "dit.json"
    path.write_text('{\n  "manifest_version": "1",\n  "bot": {"slug": "x",}\n}')
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("validate_manifest", str(path), stderr=err)

    assert err.getvalue().strip() == (
        "line 3, column 23: invalid JSON: Expecting property name enclosed in double quotes"
    )


def test_validate_manifest_exits_zero_for_a_valid_file_and_one_for_an_invalid_one(tmp_path, run_manage):
    good = _write(tmp_path, manifest_data())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_broken()))

    ok = run_manage("validate_manifest", str(good))
    failed = run_manage("validate_manifest", str(bad))

    assert ok.returncode == 0, ok.stderr
    assert failed.returncode == 1
    assert "settings.groups[1].fields[0].type: unknown type 'colour'" in failed.stderr
    assert "settings.groups[0].fields[0].default: 500 is above the maximum 120" in failed.stderr


@pytest.mark.django_db
def test_loadmanifest_creates_then_reports_unchanged_then_updates(tmp_path):
    path = _write(tmp_path, manifest_data(slug="cmd-bot"))
    outputs = []
    for data in (
        manifest_data(slug="cmd-bot"),
        manifest_data(slug="cmd-bot"),
        manifest_data(slug="cmd-bot", version="2.0.0"),
    ):
        path.write_text(json.dumps(data))
        out = StringIO()
        call_command("loadmanifest", str(path), stdout=out)
        outputs.append(out.getvalue().strip())

    assert outputs == [
        "Created bot 'cmd-bot' with manifest version 1",
        "Bot 'cmd-bot' unchanged: manifest version 1 is identical",
        "Updated bot 'cmd-bot' to manifest version 2",
    ]
    assert Bot.objects.get(slug="cmd-bot").manifests.count() == 2


@pytest.mark.django_db
def test_loadmanifest_of_an_invalid_file_prints_the_problems_and_changes_nothing(tmp_path):
    path = _write(tmp_path, manifest_data(slug="cmd-bot"))
    call_command("loadmanifest", str(path), stdout=StringIO())
    path.write_text(json.dumps(_broken(slug="cmd-bot", name="Changed")))
    err = StringIO()

    with pytest.raises(CommandError, match="nothing was changed") as caught:
        call_command("loadmanifest", str(path), stderr=err)

    assert caught.value.returncode == 1
    assert "settings.groups[1].fields[0].type: unknown type 'colour'" in err.getvalue()
    bot = Bot.objects.get(slug="cmd-bot")
    assert (bot.name, bot.manifests.count()) == ("Test Bot", 1)


def test_loadmanifest_exits_one_in_a_child_process_for_an_invalid_file(tmp_path, run_manage):
    bad = _write(tmp_path, _broken(slug="child-bot"))

    result = run_manage("loadmanifest", str(bad))

    assert result.returncode == 1
    assert "nothing was changed" in result.stderr
    assert not Bot.objects.filter(slug="child-bot").exists()


def test_loadmanifest_with_a_nul_in_the_bot_name_names_the_problem_without_a_traceback(tmp_path, run_manage):
    bad = _write(tmp_path, manifest_data(slug="nul-bot", name="Bad\x00Name"))

    result = run_manage("loadmanifest", str(bad))

    assert result.returncode == 1
    assert "bot.name: contains a NUL character" in result.stderr
    assert "Traceback" not in result.stderr
    assert not Bot.objects.filter(slug="nul-bot").exists()


@pytest.fixture
def unmigrated_database():
    """A database that exists and has never been migrated; dropped afterwards."""
    import os

    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    name = f"test_unmigrated_{os.getpid()}"
    admin_url = f"postgresql://{db['USER']}@/postgres?host={db['HOST']}&port={db['PORT']}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://{db['USER']}@/{name}?host={db['HOST']}&port={db['PORT']}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_runbot_on_a_database_never_migrated_says_to_migrate_without_a_traceback(unmigrated_database, run_manage):
    result = run_manage("runbot", "example", "--local", env={"DATABASE_URL": unmigrated_database})

    assert result.returncode == 1
    assert "run `python manage.py migrate` first" in result.stderr
    assert "Traceback" not in result.stderr
    assert "ProgrammingError" not in result.stderr
