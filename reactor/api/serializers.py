"""Serializers of the reactor API: read shapes of events, triggers, follow-ups and the dashboard counts."""

from __future__ import annotations

from rest_framework import serializers

from reactor.models import ReactorEvent, SelfFollowupSchedule, Trigger


class ReactorEventSerializer(serializers.ModelSerializer[ReactorEvent]):
    class Meta:
        model = ReactorEvent
        fields = ["id", "kind", "payload", "guild_id", "channel_id", "idempotency_key", "created_at"]
        read_only_fields = fields


class TriggerSerializer(serializers.ModelSerializer[Trigger]):
    class Meta:
        model = Trigger
        fields = [
            "id",
            "kind",
            "mode",
            "status",
            "predicate",
            "payload",
            "guild_id",
            "channel_id",
            "due_at",
            "expires_at",
            "attempts",
            "max_attempts",
            "sent_count",
            "lease_until",
            "last_error",
            "dedupe_key",
            "result",
            "parent_event",
            "parent_trigger",
            "created_at",
            "enqueued_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class SelfFollowupScheduleSerializer(serializers.ModelSerializer[SelfFollowupSchedule]):
    class Meta:
        model = SelfFollowupSchedule
        fields = [
            "id",
            "parent_decision_id",
            "bot_id",
            "guild_id",
            "channel_id",
            "bias",
            "status",
            "scheduled_for",
            "seed",
            "roll",
            "defers",
            "trigger",
            "downgraded_from",
            "fired_decision_id",
            "abort_reason",
            "evaluations",
            "created_at",
        ]
        read_only_fields = fields


class LineageNodeSerializer(serializers.Serializer[object]):
    kind = serializers.CharField()
    id = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # named as in the JSON, not Field.label
    status = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField()
    children = serializers.ListField(child=serializers.DictField())


class ReactorCountsSerializer(serializers.Serializer[object]):
    triggers = serializers.DictField(child=serializers.IntegerField())
    followups = serializers.DictField(child=serializers.IntegerField())
    deliveries = serializers.DictField(child=serializers.IntegerField())
    dead_by_kind = serializers.DictField(child=serializers.IntegerField())
    oldest_due_pending_seconds = serializers.FloatField(allow_null=True)
