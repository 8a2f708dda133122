import json
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from bots.choices import FieldType, Platform
from bots.errors import ManifestInvalid
from bots.manifest import (
    format_location,
    manifest_schema,
    manifest_text_problems,
    parse_manifest,
    read_manifest,
)
from bots.tests.factories import manifest_data

Mutation = Callable[[dict[str, Any]], None]


def _field(data: dict[str, Any], group: int, index: int) -> dict[str, Any]:
    return data["settings"]["groups"][group]["fields"][index]


def _set(group: int, index: int, **changes: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        _field(data, group, index).update(changes)

    return mutate


def _drop(group: int, index: int, name: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del _field(data, group, index)[name]

    return mutate


def _add_field(group: int, entry: dict[str, Any]) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["settings"]["groups"][group]["fields"].append(entry)

    return mutate


def _top(**changes: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data.update(changes)

    return mutate


def _remove_top(name: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del data[name]

    return mutate


def _bot(**changes: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["bot"].update(changes)

    return mutate


def _rename_group(group: int, new_id: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["settings"]["groups"][group]["id"] = new_id

    return mutate


# (case id, mutation of a valid manifest, exact location, start of the message)
BAD_MANIFESTS: list[tuple[str, Mutation, str, str]] = [
    (
        "unknown field type",
        _add_field(0, {"key": "TINT", "type": "colour"}),
        "settings.groups[0].fields[3].type",
        "unknown type 'colour'",
    ),
    (
        "select without options",
        _drop(1, 0, "options"),
        "settings.groups[1].fields[0].options",
        "a select field needs a non-empty options list",
    ),
    (
        "select with empty options",
        _set(1, 0, options=[]),
        "settings.groups[1].fields[0].options",
        "a select field needs a non-empty options list",
    ),
    (
        "select with a repeated option",
        _set(1, 0, options=["calm", "lively", "calm"]),
        "settings.groups[1].fields[0].options[2]",
        "duplicate option 'calm'",
    ),
    (
        "select default outside the options",
        _set(1, 0, default="grumpy"),
        "settings.groups[1].fields[0].default",
        "'grumpy' is not one of the options: calm, lively",
    ),
    (
        "options on a field that is not a select",
        _set(0, 1, options=["a"]),
        "settings.groups[0].fields[1].options",
        "only select fields take options",
    ),
    (
        "default above max",
        _set(0, 0, default=121),
        "settings.groups[0].fields[0].default",
        "121 is above the maximum 120",
    ),
    ("default below min", _set(0, 0, default=0), "settings.groups[0].fields[0].default", "0 is below the minimum 1"),
    (
        "number default given as a string",
        _set(0, 0, default="8"),
        "settings.groups[0].fields[0].default",
        "expected a number, got string",
    ),
    (
        "number default given as a boolean",
        _set(0, 0, default=True),
        "settings.groups[0].fields[0].default",
        "expected a number, got boolean",
    ),
    (
        "boolean default given as a string",
        _set(0, 2, default="no"),
        "settings.groups[0].fields[2].default",
        "expected a boolean, got string",
    ),
    (
        "string default given as a number",
        _set(0, 1, default=5),
        "settings.groups[0].fields[1].default",
        "expected a string, got number",
    ),
    (
        "secret with a default",
        _set(1, 1, default="hunter2"),
        "settings.groups[1].fields[1].default",
        "a secret cannot have a default",
    ),
    (
        "min greater than max",
        _set(0, 0, min=50, max=10, default=20),
        "settings.groups[0].fields[0].min",
        "min 50 is greater than max 10",
    ),
    (
        "bounds on a string field",
        _set(0, 1, max=3),
        "settings.groups[0].fields[1].max",
        "only number fields take min and max",
    ),
    (
        "setting key repeated in another group",
        _add_field(1, {"key": "GREETING", "type": "string"}),
        "settings.groups[1].fields[4].key",
        "duplicate setting key 'GREETING' (first declared at settings.groups[0].fields[1].key)",
    ),
    (
        "setting key repeating a credential",
        _add_field(0, {"key": "DISCORD_TOKEN", "type": "secret"}),
        "settings.groups[0].fields[3].key",
        "duplicate setting key 'DISCORD_TOKEN' (first declared at credentials[0].key)",
    ),
    (
        "group id repeated",
        _rename_group(1, "general"),
        "settings.groups[1].id",
        "duplicate group id 'general' (first at settings.groups[0].id)",
    ),
    ("field without a key", _drop(0, 2, "key"), "settings.groups[0].fields[2].key", "required field is missing"),
    ("field without a type", _drop(0, 2, "type"), "settings.groups[0].fields[2].type", "required field is missing"),
    (
        "misspelt field property",
        _set(0, 0, defualt=3),
        "settings.groups[0].fields[0].defualt",
        "unknown field 'defualt'",
    ),
    ("missing bot block", _remove_top("bot"), "bot", "required field is missing"),
    ("unknown top-level field", _top(feature=["x"]), "feature", "unknown field 'feature'"),
    ("wrong manifest version", _top(manifest_version="2"), "manifest_version", "expected '1', got '2'"),
    ("slug with spaces", _bot(slug="Test Bot"), "bot.slug", "'Test Bot' must be lowercase letters"),
    ("empty bot name", _bot(name=""), "bot.name", "must not be empty"),
    (
        "key that is not an env var name",
        _set(0, 1, key="my-key"),
        "settings.groups[0].fields[1].key",
        "'my-key' must be letters",
    ),
    ("unknown channel", _top(channels=["discord", "slack"]), "channels[1]", "'slack' is not one of: discord, local"),
    ("feature listed twice", _top(features=["cogs.a", "cogs.a"]), "features", "lists 'cogs.a' more than once"),
    (
        "credential secret flag that is not a boolean",
        _top(credentials=[{"key": "DISCORD_TOKEN", "secret": "yes"}]),
        "credentials[0].secret",
        "expected a boolean, got string",
    ),
    ("groups that are not a list", _top(settings={"groups": {}}), "settings.groups", "expected an array, got object"),
    (
        "an option that is neither a string nor an object",
        _set(1, 0, options=["calm", 3]),
        "settings.groups[1].fields[0].options[1]",
        "an option is a string or an object",
    ),
]


@pytest.mark.parametrize(
    ("mutation", "location", "message"),
    [pytest.param(mutation, location, message, id=case) for case, mutation, location, message in BAD_MANIFESTS],
)
def test_each_kind_of_bad_manifest_is_reported_at_its_exact_location(mutation, location, message):
    data = manifest_data()
    mutation(data)

    _, problems = manifest_text_problems(json.dumps(data))

    assert [p.location for p in problems] == [location], [str(p) for p in problems]
    assert problems[0].message.startswith(message)


# Problems only visible in the text itself: (case id, text, exact location, start of the message)
BAD_TEXTS: list[tuple[str, str, str, str]] = [
    (
        "duplicate key in the bot block",
        json.dumps(manifest_data()).replace('"slug": "testbot"', '"slug": "testbot", "slug": "other"'),
        "bot.slug",
        "duplicate key 'slug'",
    ),
    (
        "duplicate key inside a setting field",
        json.dumps(manifest_data()).replace('"type": "number"', '"type": "number", "type": "number"'),
        "settings.groups[0].fields[0].type",
        "duplicate key 'type'",
    ),
    (
        "missing comma",
        '{\n  "manifest_version": "1"\n  "bot": {}\n}',
        "line 3, column 3",
        "invalid JSON: Expecting ',' delimiter",
    ),
    (
        "trailing comma",
        '{"manifest_version": "1",\n}',
        "line 2, column 1",
        "invalid JSON: Expecting property name enclosed in double quotes",
    ),
    ("empty file", "", "line 1, column 1", "invalid JSON: Expecting value"),
    (
        "NaN literal",
        json.dumps(manifest_data()).replace('"default": 8', '"default": NaN'),
        "settings.groups[0].fields[0].default",
        "NaN is not valid JSON",
    ),
    ("top level is not an object", "[1, 2]", "(root)", "expected an object, got array"),
]


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [pytest.param(text, location, message, id=case) for case, text, location, message in BAD_TEXTS],
)
def test_each_kind_of_bad_manifest_text_is_reported_at_its_exact_location(text, location, message):
    _, problems = manifest_text_problems(text)

    assert [p.location for p in problems] == [location], [str(p) for p in problems]
    assert problems[0].message.startswith(message)


def test_every_problem_is_reported_not_only_the_first():
    data = manifest_data()
    _set(0, 0, default=500)(data)
    _add_field(0, {"key": "TINT", "type": "colour"})(data)
    _drop(1, 0, "options")(data)

    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(json.dumps(data))

    assert [str(p) for p in caught.value.problems] == [
        "settings.groups[0].fields[0].default: 500 is above the maximum 120",
        "settings.groups[0].fields[3].type: unknown type 'colour' (expected one of: "
        "string, number, boolean, select, secret, discord_channel, discord_role)",
        "settings.groups[1].fields[0].options: a select field needs a non-empty options list",
    ]
    assert caught.value.code == "manifest_invalid"


def test_a_valid_manifest_parses_into_typed_fields():
    manifest = parse_manifest(json.dumps(manifest_data(features=["cogs.a", "cogs.b"])))

    assert manifest.slug == "testbot"
    assert manifest.features == ("cogs.a", "cogs.b")
    fields = {f.key: f for f in manifest.setting_fields()}
    assert list(fields)[0] == "DISCORD_TOKEN"
    assert fields["DISCORD_TOKEN"].is_secret
    assert fields["DISCORD_TOKEN"].is_credential
    assert fields["WAIT_MINUTES"].type == FieldType.NUMBER
    assert (fields["WAIT_MINUTES"].min, fields["WAIT_MINUTES"].max, fields["WAIT_MINUTES"].default) == (1, 120, 8)
    assert fields["MOOD"].option_values == ("calm", "lively")
    assert fields["MOOD"].group == "more"


def test_a_credential_without_a_secret_flag_is_treated_as_secret():
    manifest = parse_manifest(json.dumps(manifest_data(credentials=[{"key": "APP_ID"}])))

    assert manifest.credentials[0].secret is True
    assert manifest.credential_fields()[0].type == FieldType.SECRET


def test_select_options_may_be_objects_with_labels():
    groups = [
        {
            "id": "g",
            "fields": [
                {"key": "TONE", "type": "select", "options": [{"value": "dry", "label": "Dry"}], "default": "dry"}
            ],
        }
    ]

    manifest = parse_manifest(json.dumps(manifest_data(groups=groups)))

    option = manifest.groups[0].fields[0].options[0]
    assert (option.value, option.label) == ("dry", "Dry")


def test_digest_ignores_spacing_and_key_order():
    data = manifest_data()
    reordered = dict(reversed(list(data.items())))

    first = parse_manifest(json.dumps(data))
    second = parse_manifest(json.dumps(reordered, indent=4))

    assert first.digest == second.digest
    assert first.digest != parse_manifest(json.dumps(manifest_data(version="1.0.1"))).digest


def test_the_shipped_schema_is_a_valid_json_schema_listing_every_field_type_and_platform():
    schema = manifest_schema()

    Draft202012Validator.check_schema(schema)
    assert schema["$defs"]["field"]["properties"]["type"]["enum"] == list(FieldType.values)
    assert schema["properties"]["channels"]["items"]["enum"] == list(Platform.values)


def test_reading_a_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.json"

    with pytest.raises(ManifestInvalid) as caught:
        read_manifest(missing)

    assert [str(p) for p in caught.value.problems] == [f"{missing}: no such file"]


def test_reading_a_bot_folder_finds_its_dit_json(tmp_path):
    (tmp_path / "dit.json").write_text(json.dumps(manifest_data(slug="folder-bot")))

    assert read_manifest(tmp_path).slug == "folder-bot"


def test_locations_read_like_paths():
    assert format_location(("settings", "groups", 0, "fields", 2, "type")) == "settings.groups[0].fields[2].type"
    assert format_location(()) == "(root)"


def test_including_the_host_settings_declares_them_once_for_the_bot():
    data = manifest_data(groups=[])
    data["settings"] = {"include": ["host"]}

    manifest = parse_manifest(json.dumps(data))

    fields = {f.key: f for f in manifest.setting_fields()}
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
    assert (fields["CATCHUP_LIMIT"].default, fields["CATCHUP_LIMIT"].max) == (50, 100)


def test_declaring_an_included_host_setting_again_is_a_duplicate_naming_the_include():
    data = manifest_data(groups=[{"id": "mine", "fields": [{"key": "MUTE_MINUTES", "type": "number", "default": 5}]}])
    data["settings"]["include"] = ["host"]

    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(json.dumps(data))

    assert [str(p) for p in caught.value.problems] == [
        "settings.groups[0].fields[0].key: duplicate setting key 'MUTE_MINUTES' (first declared at settings.include[0])"
    ]


def test_only_known_settings_groups_can_be_included():
    data = manifest_data()
    data["settings"]["include"] = ["steward-v9"]

    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(json.dumps(data))

    assert [p.location for p in caught.value.problems] == ["settings.include[0]"]
