"""Bot manifests (`dit.json`): parsing, validation with a location for every problem, and the typed result.

Validation runs in three passes and reports everything it finds rather than stopping at the first
problem: the JSON text itself (syntax errors with line and column, duplicate object keys), the JSON
Schema shipped in `bots/schemas/manifest.schema.json`, and the rules a schema cannot say well (a select
needs options, a default fits its field, setting keys are unique across groups and credentials).
A location reads like `settings.groups[0].fields[2].type`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from bots.choices import FieldType
from bots.errors import ManifestInvalid
from bots.setting_types import (
    SelectOption,
    SettingField,
    ValueRejected,
    coerce_value,
    describe_json_type,
)

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "manifest.schema.json"
# Settings groups the framework declares once; a manifest takes them with `"settings": {"include": [...]}`.
STANDARD_GROUP_FILES = {"host": Path(__file__).resolve().parent / "host" / "settings.json"}
MANIFEST_FILENAME = "dit.json"
CREDENTIALS_GROUP = "credentials"
NOT_JSON = " is not valid JSON"

JsonPath = tuple[str | int, ...]

PATTERN_RULES = {
    "slug": "must be lowercase letters and digits in words joined by single hyphens, e.g. 'my-bot'",
    "key": "must be letters, digits and underscores, not starting with a digit (it names an environment variable)",
    "id": "must be letters, digits, '_' or '-', not starting with a digit",
    "features": "must be a module-style feature id such as 'cogs.clanktank'",
}
TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "number": "a number",
    "boolean": "a boolean",
}


@dataclass(frozen=True)
class ManifestProblem:
    """One validation error and where it is."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class Credential:
    """A credential the bot needs (e.g. DISCORD_TOKEN)."""

    key: str
    label: str
    secret: bool


@dataclass(frozen=True)
class SettingGroup:
    """A titled group of settings, as shown in admin."""

    id: str
    label: str
    fields: tuple[SettingField, ...]


@dataclass(frozen=True)
class Manifest:
    """A validated manifest."""

    manifest_version: str
    slug: str
    name: str
    version: str
    channels: tuple[str, ...]
    credentials: tuple[Credential, ...]
    groups: tuple[SettingGroup, ...]
    features: tuple[str, ...]
    runtime: Mapping[str, Any] = field(compare=False, default_factory=dict)
    provision: Mapping[str, Any] = field(compare=False, default_factory=dict)
    data: Mapping[str, Any] = field(compare=False, default_factory=dict)

    def credential_fields(self) -> tuple[SettingField, ...]:
        """Credentials as setting fields: secret ones typed `secret`, the others `string`."""
        return tuple(
            SettingField(
                key=credential.key,
                type=FieldType.SECRET if credential.secret else FieldType.STRING,
                label=credential.label,
                group=CREDENTIALS_GROUP,
                is_credential=True,
            )
            for credential in self.credentials
        )

    def setting_fields(self) -> tuple[SettingField, ...]:
        """Every field the settings view resolves: credentials first, then each group's fields in order."""
        return self.credential_fields() + tuple(f for group in self.groups for f in group.fields)

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON: equal for manifests that differ only in spacing or key order."""
        return manifest_digest(self.data)


def manifest_digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of a manifest's canonical JSON form."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def format_location(path: Sequence[str | int]) -> str:
    """`("settings", "groups", 0, "fields", 2, "type")` as `settings.groups[0].fields[2].type`."""
    if not path:
        return "(root)"
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


# Pass 1: the JSON text ----------------------------------------------------------------------------


class _ObjectWithDuplicates(dict[str, Any]):
    """A JSON object in which some keys appeared more than once (the last value is kept, as json does)."""

    duplicate_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class _NotJson:
    """NaN or Infinity: Python's json accepts them, JSON does not."""

    literal: str


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    duplicates: list[str] = []
    for key, value in pairs:
        if key in obj and key not in duplicates:
            duplicates.append(key)
        obj[key] = value
    if not duplicates:
        return obj
    marked = _ObjectWithDuplicates(obj)
    marked.duplicate_keys = tuple(duplicates)
    return marked


# PostgreSQL text and JSON cannot hold a NUL character; a manifest with one could never be stored.
NUL = "\x00"
NUL_PROBLEM = "contains a NUL character (\\u0000), which cannot be stored"


def _text_problems(data: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(data, _ObjectWithDuplicates):
        for key in data.duplicate_keys:
            yield (*path, key), f"duplicate key {key!r} (only the last value would be kept)"
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and NUL in key:
                yield (*path, key), NUL_PROBLEM
            yield from _text_problems(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _text_problems(value, (*path, index))
    elif isinstance(data, _NotJson):
        yield path, f"{data.literal}{NOT_JSON}"
    elif isinstance(data, str) and NUL in data:
        yield path, NUL_PROBLEM


def _loads(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_object_pairs, parse_constant=_NotJson)


# Pass 2: the JSON Schema --------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of manifests, as shipped in bots/schemas/."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@functools.lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = manifest_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _describe_schema_error(error: SchemaError) -> Iterator[tuple[JsonPath, str]]:
    path: JsonPath = tuple(error.absolute_path)
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    last = path[-1] if path else None
    match error.validator:
        case "required":
            for name in error.validator_value:
                if isinstance(instance, dict) and name not in instance:
                    yield (*path, name), "required field is missing"
        case "additionalProperties":
            allowed = set(schema.get("properties", {}))
            for name in instance:
                if name not in allowed:
                    yield (*path, name), f"unknown field {name!r}"
        case "type":
            expected = TYPE_NAMES.get(str(error.validator_value), str(error.validator_value))
            yield path, f"expected {expected}, got {describe_json_type(instance)}"
        case "enum" if last == "type":
            yield path, f"unknown type {instance!r} (expected one of: {', '.join(error.validator_value)})"
        case "enum":
            yield path, f"{instance!r} is not one of: {', '.join(map(str, error.validator_value))}"
        case "const":
            yield path, f"expected {error.validator_value!r}, got {instance!r}"
        case "pattern":
            rule_name = "features" if isinstance(last, int) else str(last)
            yield path, f"{instance!r} {PATTERN_RULES.get(rule_name, 'has the wrong format')}"
        case "minLength":
            yield path, "must not be empty"
        case "maxLength":
            yield path, f"must be at most {error.validator_value} characters"
        case "uniqueItems":
            seen: list[Any] = []
            repeated: list[Any] = []
            for item in instance:
                if item in seen and item not in repeated:
                    repeated.append(item)
                seen.append(item)
            yield path, f"lists {', '.join(map(repr, repeated))} more than once"
        case "oneOf":
            yield path, "an option is a string or an object with a string 'value' and an optional 'label'"
        case _:
            yield path, error.message


# Pass 3: rules across fields ----------------------------------------------------------------------


def _items(value: Any, name: str) -> list[tuple[int, dict[str, Any]]]:
    """The object entries of `value[name]` with their indexes; anything malformed is the schema's report."""
    entries = value.get(name) if isinstance(value, dict) else None
    if not isinstance(entries, list):
        return []
    return [(index, entry) for index, entry in enumerate(entries) if isinstance(entry, dict)]


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number: int | float = value
    return number


def _options(raw: Any) -> tuple[SelectOption, ...]:
    if not isinstance(raw, list):
        return ()
    options = []
    for item in raw:
        if isinstance(item, str):
            options.append(SelectOption(value=item, label=item))
        elif isinstance(item, dict) and isinstance(item.get("value"), str):
            label = item.get("label")
            options.append(SelectOption(value=item["value"], label=label if isinstance(label, str) else item["value"]))
    return tuple(options)


def _field_from_entry(entry: dict[str, Any], *, group: str) -> SettingField:
    """A SettingField from a field entry whose type is known; loose parts are left out, not guessed."""
    key = entry.get("key")
    label = entry.get("label")
    help_text = entry.get("help")
    default = entry.get("default")
    return SettingField(
        key=key if isinstance(key, str) else "",
        type=FieldType(entry["type"]),
        label=label if isinstance(label, str) and label else (key if isinstance(key, str) else ""),
        group=group,
        default=default if isinstance(default, str | int | float | bool) else None,
        min=_number(entry.get("min")),
        max=_number(entry.get("max")),
        required=entry.get("required") is True,
        help=help_text if isinstance(help_text, str) else "",
        options=_options(entry.get("options")),
    )


def _field_problems(entry: dict[str, Any], path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if entry.get("type") not in FieldType.values:
        return  # The schema reports the unknown type; nothing else about this field can be judged.
    setting = _field_from_entry(entry, group="")
    low, high = setting.min, setting.max

    if setting.type == FieldType.SELECT:
        if not setting.options:
            yield (*path, "options"), "a select field needs a non-empty options list"
        seen_values: set[str] = set()
        for index, option in enumerate(setting.options):
            if option.value in seen_values:
                yield (*path, "options", index), f"duplicate option {option.value!r}"
            seen_values.add(option.value)
    elif "options" in entry:
        yield (*path, "options"), f"only select fields take options, this field is {setting.type.value!r}"

    if setting.type != FieldType.NUMBER:
        for bound in ("min", "max"):
            if bound in entry:
                yield (*path, bound), f"only number fields take min and max, this field is {setting.type.value!r}"
    elif low is not None and high is not None and low > high:
        yield (*path, "min"), f"min {low} is greater than max {high}"
        # With crossed bounds no default can fit them; judge the default's type alone.
        setting = replace(setting, min=None, max=None)

    if "default" not in entry or entry["default"] is None:
        return
    if setting.type == FieldType.SECRET:
        yield (*path, "default"), "a secret cannot have a default (it would sit in plain text in the manifest)"
        return
    if setting.type == FieldType.SELECT and not setting.options:
        return  # Reported above: without options no default can fit.
    try:
        coerce_value(setting, entry["default"])
    except ValueRejected as exc:
        yield (*path, "default"), exc.message


def _rule_problems(data: Any) -> Iterator[tuple[JsonPath, str]]:
    first_key_at: dict[str, JsonPath] = {}

    def claim(key: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
        if not isinstance(key, str):
            return
        if key in first_key_at:
            yield path, f"duplicate setting key {key!r} (first declared at {format_location(first_key_at[key])})"
        else:
            first_key_at[key] = path

    for index, credential in _items(data, "credentials"):
        yield from claim(credential.get("key"), ("credentials", index, "key"))

    settings = data.get("settings") if isinstance(data, dict) else None
    first_group_at: dict[str, JsonPath] = {}
    for include_path, name in _includes(settings):
        # An included group's keys are declared there, once: a manifest declaring one again is a duplicate.
        for group in standard_groups(name):
            first_group_at.setdefault(group["id"], include_path)
            for entry in group["fields"]:
                yield from claim(entry["key"], include_path)
    for group_index, group in _items(settings, "groups"):
        group_path: JsonPath = ("settings", "groups", group_index)
        group_id = group.get("id")
        if isinstance(group_id, str):
            if group_id in first_group_at:
                yield (
                    (*group_path, "id"),
                    f"duplicate group id {group_id!r} (first at {format_location(first_group_at[group_id])})",
                )
            else:
                first_group_at[group_id] = (*group_path, "id")
        for field_index, entry in _items(group, "fields"):
            field_path: JsonPath = (*group_path, "fields", field_index)
            yield from claim(entry.get("key"), (*field_path, "key"))
            yield from _field_problems(entry, field_path)


# Putting it together ------------------------------------------------------------------------------


def _sort_key(path: JsonPath) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in path)


def manifest_problems(data: Any) -> list[ManifestProblem]:
    """Every problem in already-parsed manifest data, sorted by location."""
    found: list[tuple[JsonPath, str]] = list(_text_problems(data))
    if not any(message.endswith(NOT_JSON) for _, message in found):
        # NaN and Infinity make the text something other than JSON, like a syntax error: judging
        # the rest against the schema would only add confusing echoes of the same problem.
        for error in _validator().iter_errors(data):
            found.extend(_describe_schema_error(error))
        found.extend(_rule_problems(data))
    unique = dict.fromkeys(found)
    ordered = sorted(unique, key=lambda item: (_sort_key(item[0]), item[1]))
    return [ManifestProblem(format_location(path), message) for path, message in ordered]


def manifest_text_problems(text: str) -> tuple[Any, list[ManifestProblem]]:
    """Parse manifest text; return the data (None when it is not JSON) and every problem found."""
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        return None, [ManifestProblem(f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}")]
    return data, manifest_problems(data)


def _includes(settings: Any) -> list[tuple[JsonPath, str]]:
    """The standard groups a manifest's settings include, with their locations (unknown names are the schema's)."""
    names = settings.get("include") if isinstance(settings, dict) else None
    if not isinstance(names, list):
        return []
    return [
        (("settings", "include", index), name)
        for index, name in enumerate(names)
        if isinstance(name, str) and name in STANDARD_GROUP_FILES
    ]


@functools.cache
def _standard_document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(STANDARD_GROUP_FILES[name].read_text(encoding="utf-8"))
    return document


def standard_groups(name: str) -> list[dict[str, Any]]:
    """The raw group entries of a standard settings group set ("host"), in manifest format."""
    groups: list[dict[str, Any]] = _standard_document(name)["groups"]
    return groups


def standard_fields(name: str) -> tuple[SettingField, ...]:
    """The typed fields of a standard settings group set: the one place their defaults are stated."""
    return tuple(
        _field_from_entry(entry, group=group["id"]) for group in standard_groups(name) for entry in group["fields"]
    )


def _build(data: dict[str, Any]) -> Manifest:
    groups = []
    settings = data.get("settings", {})
    for _, name in _includes(settings):
        for group in standard_groups(name):
            group_fields = tuple(_field_from_entry(entry, group=group["id"]) for entry in group["fields"])
            groups.append(SettingGroup(id=group["id"], label=group.get("label") or group["id"], fields=group_fields))
    for group in settings.get("groups", []):
        group_fields = tuple(_field_from_entry(entry, group=group["id"]) for entry in group["fields"])
        groups.append(SettingGroup(id=group["id"], label=group.get("label") or group["id"], fields=group_fields))
    credentials = tuple(
        Credential(key=c["key"], label=c.get("label") or c["key"], secret=c.get("secret", True))
        for c in data.get("credentials", [])
    )
    return Manifest(
        manifest_version=data["manifest_version"],
        slug=data["bot"]["slug"],
        name=data["bot"]["name"],
        version=data["bot"]["version"],
        channels=tuple(data.get("channels", [])),
        credentials=credentials,
        groups=tuple(groups),
        features=tuple(data.get("features", [])),
        runtime=data.get("runtime", {}),
        provision=data.get("provision", {}),
        data=data,
    )


def manifest_from_data(data: Any, *, source: str = "manifest") -> Manifest:
    """Validate parsed manifest data and return the typed manifest; raise ManifestInvalid listing every problem."""
    problems = manifest_problems(data)
    if problems:
        raise ManifestInvalid(problems, source=source)
    return _build(data)


def parse_manifest(text: str, *, source: str = "manifest") -> Manifest:
    """Parse and validate manifest text; raise ManifestInvalid listing every problem."""
    data, problems = manifest_text_problems(text)
    if problems:
        raise ManifestInvalid(problems, source=source)
    return _build(data)


def read_manifest_text(path: Path) -> str:
    """The text of a manifest file; a missing or unreadable file is a ManifestInvalid naming the path."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problem = ManifestProblem(str(path), "no such file")
    except IsADirectoryError:
        candidate = path / MANIFEST_FILENAME
        if candidate.is_file():
            return read_manifest_text(candidate)
        problem = ManifestProblem(str(path), f"is a folder without a {MANIFEST_FILENAME}")
    except UnicodeDecodeError as exc:
        problem = ManifestProblem(str(path), f"is not UTF-8 text (byte {exc.start})")
    except OSError as exc:
        problem = ManifestProblem(str(path), f"cannot be read: {exc.strerror}")
    raise ManifestInvalid([problem], source=str(path))


def read_manifest(path: Path) -> Manifest:
    """Read, parse and validate a manifest file (or a bot folder holding dit.json)."""
    return parse_manifest(read_manifest_text(path), source=str(path))
