"""Serializers of the dispositions API."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from rest_framework import serializers

from dispositions.choices import OutputShape, ResearchPersona
from dispositions.models import (
    MAX_WEIGHT,
    Disposition,
    DispositionDecision,
    Persona,
    PersonaDispositionWeight,
    SubagentRun,
)
from dit_project.api.serializers import RejectUnknownFieldsMixin

DEFAULT_AGGREGATE_WINDOW = timedelta(days=1)


class ModelCleanMixin:
    """Run the model's `clean()` on the instance the serializer would save, as admin does."""

    class Meta:
        model: type[models.Model]

    instance: Any

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Apply the model's cross-field rules; errors come back keyed by field."""
        model = self.Meta.model
        if self.instance is not None:
            candidate = model(**{f.attname: getattr(self.instance, f.attname) for f in model._meta.concrete_fields})
        else:
            candidate = model()
        for name, value in attrs.items():
            setattr(candidate, name, value)
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc
        for name in attrs:
            attrs[name] = getattr(candidate, name)
        return attrs


class PersonaWeightBriefSerializer(serializers.ModelSerializer[PersonaDispositionWeight]):
    disposition: serializers.SlugRelatedField[Disposition] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = PersonaDispositionWeight
        fields = ["id", "disposition", "weight"]
        read_only_fields = fields


class PersonaSerializer(RejectUnknownFieldsMixin, ModelCleanMixin, serializers.ModelSerializer[Persona]):
    weights = PersonaWeightBriefSerializer(source="disposition_weights", many=True, read_only=True)

    class Meta:
        model = Persona
        fields = [
            "id",
            "name",
            "soul_text",
            "banned_phrases",
            "never_do",
            "eligible_voices",
            "wake_words",
            "weights",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "weights", "created_at", "updated_at"]


class DispositionSerializer(RejectUnknownFieldsMixin, ModelCleanMixin, serializers.ModelSerializer[Disposition]):
    class Meta:
        model = Disposition
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "reasoning_depth",
            "context_strategy",
            "voice",
            "output_shape",
            "search_posture",
            "risk_appetite",
            "followup_probability",
            "followup_bias",
            "followup_window_min_seconds",
            "followup_window_max_seconds",
            "fanout_plan",
            "speculative_only",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"followup_probability": {"min_value": 0.0, "max_value": 1.0}}


class PersonaWeightSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer[PersonaDispositionWeight]):
    persona = serializers.PrimaryKeyRelatedField(queryset=Persona.objects.all())
    disposition = serializers.SlugRelatedField(slug_field="slug", queryset=Disposition.objects.all())

    class Meta:
        model = PersonaDispositionWeight
        fields = ["id", "persona", "disposition", "weight"]
        read_only_fields = ["id"]
        extra_kwargs = {"weight": {"min_value": 0.0, "max_value": MAX_WEIGHT}}


class CandidateScoreSerializer(serializers.Serializer[dict[str, Any]]):
    slug = serializers.CharField()
    disposition_id = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField()
    probability = serializers.FloatField()
    cost = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    eliminated_by = serializers.CharField(allow_null=True)


class ReceptionSerializer(serializers.Serializer[dict[str, Any]]):
    """How one of the decision's messages landed."""

    kind = serializers.CharField()
    message_id = serializers.CharField()
    by_message_id = serializers.CharField()
    user_id = serializers.CharField()
    at = serializers.DateTimeField()
    detail = serializers.DictField()


class DecisionSerializer(serializers.ModelSerializer[DispositionDecision]):
    candidate_scores = CandidateScoreSerializer(many=True, read_only=True)
    gates = serializers.ListField(child=serializers.CharField(), read_only=True)
    subagents_fired = serializers.ListField(child=serializers.CharField(), read_only=True)
    tiebreak_options = serializers.ListField(child=serializers.CharField(), read_only=True)
    dimensions_used = serializers.DictField(read_only=True)
    outcome = serializers.DictField(read_only=True)
    reception = ReceptionSerializer(many=True, read_only=True, source="reception_rows")

    class Meta:
        model = DispositionDecision
        fields = [
            "id",
            "created_at",
            "guild_id",
            "channel_id",
            "bot_id",
            "inbound_message_id",
            "persona",
            "trigger_kind",
            "candidate_scores",
            "gates",
            "chosen_disposition",
            "chosen_slug",
            "stochasticity_seed",
            "temperature",
            "dimensions_used",
            "context_strategy_used",
            "context_strategy_off_axis",
            "subagents_fired",
            "output_shape",
            "beat_count",
            "scheduled_followup_id",
            "tiebreak_ran",
            "tiebreak_options",
            "tiebreak_answer",
            "router_latency_ms",
            "latency_ms",
            "cost_usd",
            "model_used",
            "interruption",
            "outcome",
            "reception",
        ]
        read_only_fields = fields


class DecisionDetailSerializer(DecisionSerializer):
    """A decision with the router inputs it can be replayed from."""

    router_inputs = serializers.DictField(read_only=True)

    class Meta(DecisionSerializer.Meta):
        fields = [*DecisionSerializer.Meta.fields, "router_inputs"]
        read_only_fields = fields


class SubagentRunSerializer(serializers.ModelSerializer[SubagentRun]):
    input_payload = serializers.DictField(read_only=True)
    output_payload = serializers.DictField(read_only=True)

    class Meta:
        model = SubagentRun
        fields = [
            "id",
            "decision",
            "persona",
            "input_payload",
            "output_payload",
            "latency_ms",
            "cost_usd",
            "model_used",
            "error",
            "uptake",
            "ignored",
            "created_at",
        ]
        read_only_fields = fields


class AggregateQuerySerializer(serializers.Serializer[dict[str, Any]]):
    """The window of the aggregate; `until` defaults to now and `since` to one day before it."""

    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    guild_id = serializers.CharField(required=False)
    channel_id = serializers.CharField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Fill the defaults and require `since` before `until`."""
        # In UTC: PostgreSQL refuses offsets past ±15:59 that Python accepts, and an offset can push a date
        # past year 9999; either is a 400 naming the parameter, never a database error.
        for name in ("since", "until"):
            if attrs.get(name) is not None:
                try:
                    attrs[name] = attrs[name].astimezone(UTC)
                except (OverflowError, ValueError) as exc:
                    raise serializers.ValidationError({name: "The date-time is out of range in UTC."}) from exc
        until = attrs.get("until") or timezone.now()
        since = attrs.get("since") or until - DEFAULT_AGGREGATE_WINDOW
        if since >= until:
            raise serializers.ValidationError({"since": "since must be before until."})
        attrs.update(since=since, until=until)
        return attrs


class DispositionCountSerializer(serializers.Serializer[Any]):
    disposition = serializers.CharField()
    count = serializers.IntegerField()


class OutputShapeCountSerializer(serializers.Serializer[Any]):
    output_shape = serializers.ChoiceField(choices=OutputShape.choices)
    count = serializers.IntegerField()


class AggregateSerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    total = serializers.IntegerField()
    by_disposition = DispositionCountSerializer(many=True)
    by_output_shape = OutputShapeCountSerializer(many=True)


class PersonaIgnoreRateSerializer(serializers.Serializer[Any]):
    persona = serializers.ChoiceField(choices=ResearchPersona.choices)
    runs = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Runs that gave no payload (timed out, invalid, gateway error).")
    measured = serializers.IntegerField(help_text="Runs with a payload and a reply to measure it against.")
    ignored = serializers.IntegerField()
    ignore_rate = serializers.FloatField(allow_null=True, help_text="ignored / measured; null before any measure.")
    mean_uptake = serializers.FloatField(allow_null=True)


class IgnoreRatesSerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    personas = PersonaIgnoreRateSerializer(many=True)


class DispositionReceptionSerializer(serializers.Serializer[Any]):
    disposition = serializers.CharField()
    spoke = serializers.IntegerField(help_text="Turns that sent something.")
    reaction = serializers.IntegerField(help_text="Of those, turns whose messages got a reaction.")
    reply = serializers.IntegerField()
    quote = serializers.IntegerField()
    silence = serializers.IntegerField(help_text="Turns nobody reacted to, replied to or quoted in the window.")
    engaged = serializers.IntegerField(help_text="Turns that got a reaction, a reply or a quote.")
    engaged_rate = serializers.FloatField(allow_null=True)


class ReceptionAggregateSerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    by_disposition = DispositionReceptionSerializer(many=True)
