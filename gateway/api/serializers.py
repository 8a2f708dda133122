"""Serializers of the gateway API: output shapes, and the input of budget envelope writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from dit_project.api.serializers import RejectUnknownFieldsMixin
from gateway.models import BudgetEnvelope, ToolInvocation, UsageEvent


class ToolInvocationSerializer(serializers.ModelSerializer[ToolInvocation]):
    class Meta:
        model = ToolInvocation
        fields = [
            "id",
            "created_at",
            "bot_id",
            "guild_id",
            "purpose",
            "decision_id",
            "task_id",
            "step",
            "tool",
            "arguments",
            "ok",
            "error",
            "result_chars",
            "latency_ms",
        ]
        read_only_fields = fields


class UsageEventSerializer(serializers.ModelSerializer[UsageEvent]):
    class Meta:
        model = UsageEvent
        fields = [
            "id",
            "created_at",
            "request_id",
            "bot_id",
            "guild_id",
            "purpose",
            "policy",
            "model",
            "provider",
            "attempt",
            "outcome",
            "streamed",
            "input_tokens",
            "output_tokens",
            "cost_usd",
            "latency_ms",
            "error",
        ]
        read_only_fields = fields


class BudgetEnvelopeSerializer(serializers.ModelSerializer[BudgetEnvelope]):
    remaining_usd = serializers.DecimalField(max_digits=16, decimal_places=8, read_only=True)
    remaining_fraction = serializers.FloatField(read_only=True)

    class Meta:
        model = BudgetEnvelope
        fields = [
            "id",
            "guild_id",
            "period_start",
            "period_end",
            "refresh_at",
            "allocated_usd",
            "spent_usd",
            "reserved_usd",
            "remaining_usd",
            "remaining_fraction",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BudgetEnvelopeInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    guild_id = serializers.CharField(max_length=64)
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    allocated_usd = serializers.DecimalField(max_digits=14, decimal_places=6, min_value=Decimal(0))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("period_start", getattr(self.instance, "period_start", None))
        end = attrs.get("period_end", getattr(self.instance, "period_end", None))
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"period_end": "The period must end after it starts."})
        return attrs


class UsageSummaryQuerySerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    guild_id = serializers.CharField(required=False, max_length=64)
    bot_id = serializers.IntegerField(required=False, min_value=0)


class UsageSummaryRowSerializer(serializers.Serializer[Any]):
    purpose = serializers.CharField()
    model = serializers.CharField()
    requests = serializers.IntegerField()
    attempts = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=20, decimal_places=8)


class UsageSummarySerializer(serializers.Serializer[Any]):
    """The usage summary: its window, the total cost and one row per purpose and model."""

    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    total_cost_usd = serializers.DecimalField(max_digits=20, decimal_places=8)
    rows = UsageSummaryRowSerializer(many=True)
