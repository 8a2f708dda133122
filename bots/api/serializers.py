"""Input and output serializers of the bots API. Secret values never pass through an output serializer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bots.choices import FieldType, SettingSource
from bots.models import Bot, TaskRun
from dit_project.api.serializers import ErrorSerializer, RejectUnknownFieldsMixin

__all__ = [
    "AnyValueField",
    "BotCreateSerializer",
    "BotSerializer",
    "BotUpdateSerializer",
    "ErrorSerializer",
    "SettingOverrideInputSerializer",
    "SettingStateSerializer",
    "TaskRunSerializer",
]


class BotSerializer(serializers.ModelSerializer[Bot]):
    manifest_version = serializers.SerializerMethodField()
    channels = serializers.SerializerMethodField()
    features = serializers.SerializerMethodField()

    class Meta:
        model = Bot
        fields = [
            "id",
            "slug",
            "name",
            "version",
            "manifest_version",
            "channels",
            "features",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_manifest_version(self, bot: Bot) -> int | None:
        return bot.current_manifest.version if bot.current_manifest is not None else None

    def get_channels(self, bot: Bot) -> list[str]:
        manifest = bot.manifest
        return list(manifest.channels) if manifest is not None else []

    def get_features(self, bot: Bot) -> list[str]:
        manifest = bot.manifest
        return list(manifest.features) if manifest is not None else []


class BotCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    slug = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=100)


class BotUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)


class SelectOptionSerializer(serializers.Serializer[Any]):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


@extend_schema_field(OpenApiTypes.ANY)
class AnyValueField(serializers.Field[Any, Any, Any, Any]):
    """A JSON value of any type (string, number, boolean or null)."""

    def to_representation(self, value: Any) -> Any:
        return value

    def to_internal_value(self, data: Any) -> Any:
        return data


@extend_schema_field(OpenApiTypes.NUMBER)
class JsonNumberField(AnyValueField):
    """A number kept as JSON gives it (8 stays 8, 2.5 stays 2.5)."""


class SettingStateSerializer(serializers.Serializer[Any]):
    """One resolved setting; `value` is the mask for a secret that is set, and null when nothing sets it."""

    key = serializers.CharField(source="field.key")
    # DRF's metaclass moves declared fields off the class, so these names do not shadow Field attributes
    # at runtime; the stubs cannot know that.
    label = serializers.CharField(source="field.label")  # type: ignore[assignment]
    group = serializers.CharField(source="field.group")
    type = serializers.ChoiceField(source="field.type", choices=FieldType.choices)
    help = serializers.CharField(source="field.help")
    required = serializers.BooleanField(source="field.required")  # type: ignore[assignment]
    is_secret = serializers.BooleanField(source="field.is_secret")
    is_credential = serializers.BooleanField(source="field.is_credential")
    default = AnyValueField(source="field.default", allow_null=True)
    min = JsonNumberField(source="field.min", allow_null=True)
    max = JsonNumberField(source="field.max", allow_null=True)
    options = SelectOptionSerializer(source="field.options", many=True)
    value = AnyValueField(source="public_value", allow_null=True)
    source = serializers.ChoiceField(choices=SettingSource.choices, allow_null=True)  # type: ignore[assignment]
    has_override = serializers.BooleanField()
    error = serializers.CharField(help_text="Why the value cannot be resolved (empty when it can).")


class SettingOverrideInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    """The new value of a setting; validated by the field's type (secrets are write-only)."""

    value = AnyValueField()


class TaskRunSerializer(serializers.ModelSerializer[TaskRun]):
    """A task worker's run: its goal, limits, progress, result and where it was posted."""

    bot = serializers.CharField(source="bot.slug", read_only=True)

    class Meta:
        model = TaskRun
        fields = [
            "id",
            "bot",
            "guild_id",
            "channel_id",
            "decision",
            "requested_by",
            "request_message_id",
            "goal",
            "status",
            "trigger_id",
            "max_steps",
            "max_seconds",
            "max_cost_usd",
            "steps",
            "attempts",
            "cost_usd",
            "model_used",
            "started_at",
            "finished_at",
            "result_text",
            "error",
            "posted_at",
            "posted_message_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
