import json

import pytest

from bots.choices import FieldType
from bots.manifest import read_manifest
from bots.models import Bot
from bots.services import manifest_load_file
from bots.tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
RECYCLER = EXAMPLES / "recycler" / "dit.json"
EXAMPLE_BOT = EXAMPLES / "example-bot" / "dit.json"


@pytest.mark.parametrize("path", [RECYCLER, EXAMPLE_BOT], ids=["recycler", "example-bot"])
@pytest.mark.django_db
def test_each_example_manifest_validates_and_loads(path):
    manifest = read_manifest(path)

    result = manifest_load_file(path=path)

    bot = Bot.objects.get(slug=manifest.slug)
    assert result.bot_created
    assert bot.current_manifest is not None
    assert bot.current_manifest.content == json.loads(path.read_text())
    assert bot.settings.keys() == [f.key for f in manifest.setting_fields()]


def test_the_recycler_manifest_is_the_one_from_the_framework_docs():
    manifest = read_manifest(RECYCLER)

    assert (manifest.slug, manifest.name, manifest.version) == ("recycler", "Recycler", "1.0.0")
    assert manifest.features == ("cogs.clanktank",)
    assert dict(manifest.provision) == {"database": "postgres"}
    wait = manifest.groups[0].fields[0]
    assert (wait.key, wait.default, wait.min, wait.max) == ("CLANK_ESCAPE_WAIT_MINUTES", 8, 1, 120)


def test_the_example_bot_declares_the_group_chat_settings():
    manifest = read_manifest(EXAMPLE_BOT)
    fields = {f.key: f for f in manifest.setting_fields()}

    assert (manifest.slug, manifest.name) == ("example", "Dit")
    assert fields["DISCORD_TOKEN"].is_secret
    assert fields["DISCORD_TOKEN"].is_credential
    assert [g.id for g in manifest.groups] == [
        "addressing",
        "fragments",
        "other_bots",
        "quiet",
        "judgement",
        "safety",
        "channels",
        "research",
        "tasks",
        "runtime",
        "followups",
        "speculative",
    ]
    assert fields["ADDRESS_ON_EVERYONE"].default is False
    assert (fields["FRAGMENT_WINDOW_SECONDS"].default, fields["FRAGMENT_WINDOW_SECONDS"].max) == (3, 30)
    assert fields["MUTE_PHRASES"].default == "stop,shut up,be quiet,stfu,hush"
    assert fields["MOD_CHANNEL"].type == FieldType.DISCORD_CHANNEL
    assert not [key for key in fields if key.startswith("OPENAI_MODEL")]
    assert manifest.features == ()
    assert fields["SPECULATIVE_HOURS"].default == "9-23"
    assert fields["FOLLOWUP_ENABLED"].default is True
