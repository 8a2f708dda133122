"""Input and output serializers of the channel-mute API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bots.choices import Platform
from bots.host.models import ChannelMute
from bots.host.services import MUTE_MINUTES_MAX, MUTE_MINUTES_MIN
from dit_project.api.serializers import RejectUnknownFieldsMixin


class ChannelMuteSerializer(serializers.ModelSerializer[ChannelMute]):
    active = serializers.SerializerMethodField()
    muted_by_user = serializers.SerializerMethodField()
    lifted_by_user = serializers.SerializerMethodField()

    class Meta:
        model = ChannelMute
        fields = [
            "id",
            "platform",
            "guild_id",
            "channel_id",
            "source",
            "reason",
            "muted_by",
            "muted_by_user",
            "message_id",
            "created_at",
            "until",
            "active",
            "lifted_at",
            "lifted_by",
            "lifted_by_user",
            "lift_reason",
        ]
        read_only_fields = fields

    def get_active(self, mute: ChannelMute) -> bool:
        return mute.is_active()

    def get_muted_by_user(self, mute: ChannelMute) -> str | None:
        return mute.muted_by_user.get_username() if mute.muted_by_user is not None else None

    def get_lifted_by_user(self, mute: ChannelMute) -> str | None:
        return mute.lifted_by_user.get_username() if mute.lifted_by_user is not None else None


class ChannelMuteCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    channel_id = serializers.CharField(max_length=64)
    guild_id = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    platform = serializers.ChoiceField(choices=Platform.choices, default=Platform.DISCORD)
    minutes = serializers.FloatField(min_value=MUTE_MINUTES_MIN, max_value=MUTE_MINUTES_MAX)
    reason = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class ChannelMuteLiftSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=200, required=False, default="lifted by a moderator")
