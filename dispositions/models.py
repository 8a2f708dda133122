"""Personas, dispositions, per-persona weights, and the router's decision and subagent logs."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from dispositions.choices import (
    ContextStrategy,
    FollowupBias,
    InterruptionHandling,
    OutputShape,
    ReasoningDepth,
    ReceptionKind,
    ResearchPersona,
    RiskAppetite,
    SearchPosture,
    TriggerKind,
    Voice,
)

__all__ = [
    "DecisionReception",
    "Disposition",
    "DispositionDecision",
    "Persona",
    "PersonaDispositionWeight",
    "SubagentRun",
]


# Persona weights multiply scores that become probabilities; past this the router's arithmetic overflows
# long before a weight means anything more than "always".
MAX_WEIGHT = 100.0


def validate_finite(value: float) -> None:
    """A float field's value must be a finite number (not NaN, not infinity)."""
    if not math.isfinite(value):
        raise ValidationError("Enter a finite number.", code="invalid")


def all_voices() -> list[str]:
    """Default voice eligibility: every voice."""
    return list(Voice.values)


class PersonaManager(models.Manager["Persona"]):
    def get_by_natural_key(self, name: str) -> Persona:
        """Fixtures refer to a persona by name."""
        return self.get(name=name)


class Persona(models.Model):
    """The bot's persona as a constraint surface: what it may sound like and how it weighs dispositions."""

    name = models.CharField(max_length=100, unique=True)
    soul_text = models.TextField(
        blank=True,
        help_text="What the persona is allowed to feel like. A constraint surface, never inlined as instructions.",
    )
    banned_phrases = ArrayField(
        models.CharField(max_length=200), default=list, blank=True, help_text="Phrases the synthesizer never emits."
    )
    never_do = ArrayField(models.CharField(max_length=300), default=list, blank=True, help_text="Things never done.")
    eligible_voices = ArrayField(
        models.CharField(max_length=20, choices=Voice.choices),
        default=all_voices,
        blank=True,
        help_text="Voices the router may pick; dispositions with any other voice are never chosen.",
    )
    wake_words = ArrayField(
        models.CharField(max_length=50),
        default=list,
        blank=True,
        help_text="Names and nicknames the bot answers to (matched case-insensitively as whole words).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonaManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        """The persona's name identifies it in fixtures."""
        return (self.name,)

    def clean(self) -> None:
        """Wake words are stored lower-case and must be non-empty; voices must not repeat."""
        self.wake_words = [word.strip().lower() for word in self.wake_words]
        if any(not word for word in self.wake_words):
            raise ValidationError({"wake_words": "Wake words must not be empty."})
        if len(set(self.eligible_voices)) != len(self.eligible_voices):
            raise ValidationError({"eligible_voices": "A voice is listed twice."})


class DispositionManager(models.Manager["Disposition"]):
    def get_by_natural_key(self, slug: str) -> Disposition:
        """Fixtures refer to a disposition by slug."""
        return self.get(slug=slug)


class Disposition(models.Model):
    """A point in the behaviour space: seven dimensions, a fan-out plan and a self-followup hint."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    reasoning_depth = models.CharField(max_length=10, choices=ReasoningDepth.choices)
    context_strategy = models.CharField(max_length=30, choices=ContextStrategy.choices)
    voice = models.CharField(max_length=20, choices=Voice.choices)
    output_shape = models.CharField(max_length=20, choices=OutputShape.choices)
    search_posture = models.CharField(max_length=20, choices=SearchPosture.choices)
    risk_appetite = models.CharField(max_length=10, choices=RiskAppetite.choices, default=RiskAppetite.SAFE)
    followup_probability = models.FloatField(
        default=0.0, help_text="Chance (0 to 1) that the reactor considers a self-followup after this turn."
    )
    followup_bias = models.CharField(
        max_length=20, choices=FollowupBias.choices, blank=True, help_text="Blank: no self-followup hint."
    )
    followup_window_min_seconds = models.PositiveIntegerField(null=True, blank=True)
    followup_window_max_seconds = models.PositiveIntegerField(null=True, blank=True)
    fanout_plan = ArrayField(
        models.CharField(max_length=30, choices=ResearchPersona.choices),
        default=list,
        blank=True,
        help_text="Research personas fired before the synthesizer.",
    )
    speculative_only = models.BooleanField(default=False, help_text="Only chosen on unprompted (speculative) turns.")
    enabled = models.BooleanField(default=True, help_text="Disabled dispositions are never candidates.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DispositionManager()

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(followup_probability__gte=0) & models.Q(followup_probability__lte=1),
                name="disposition_followup_probability_unit",
            ),
            models.CheckConstraint(
                condition=models.Q(followup_window_min_seconds__isnull=True)
                | models.Q(followup_window_max_seconds__isnull=True)
                | models.Q(followup_window_min_seconds__lte=models.F("followup_window_max_seconds")),
                name="disposition_followup_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    def natural_key(self) -> tuple[str]:
        """The slug identifies a disposition in fixtures."""
        return (self.slug,)

    def clean(self) -> None:
        """Cross-field rules of the self-followup hint."""
        errors: dict[str, Any] = {}
        if not 0.0 <= self.followup_probability <= 1.0:
            errors["followup_probability"] = "Probability must be between 0 and 1."
        low, high = self.followup_window_min_seconds, self.followup_window_max_seconds
        if self.followup_bias:
            if low is None:
                errors["followup_window_min_seconds"] = "A self-followup hint needs a window minimum."
            if high is None:
                errors["followup_window_max_seconds"] = "A self-followup hint needs a window maximum."
        elif self.followup_probability > 0:
            errors["followup_bias"] = "Pick a bias, or set the follow-up probability to 0."
        if low is not None and high is not None and low > high:
            errors["followup_window_max_seconds"] = "The window maximum must not be below the minimum."
        if errors:
            raise ValidationError(errors)


class PersonaDispositionWeightManager(models.Manager["PersonaDispositionWeight"]):
    def get_by_natural_key(self, persona_name: str, disposition_slug: str) -> PersonaDispositionWeight:
        """Fixtures refer to a weight by persona name and disposition slug."""
        return self.get(persona__name=persona_name, disposition__slug=disposition_slug)


class PersonaDispositionWeight(models.Model):
    """How strongly a persona leans towards one disposition (1.0 is neutral, 0 never picks it)."""

    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="disposition_weights")
    disposition = models.ForeignKey(Disposition, on_delete=models.CASCADE, related_name="persona_weights")
    weight = models.FloatField(
        default=1.0,
        validators=[validate_finite, MinValueValidator(0.0), MaxValueValidator(MAX_WEIGHT)],
        help_text=f"A multiplier from 0 (never) to {MAX_WEIGHT:g}; 1.0 is neutral.",
    )

    objects = PersonaDispositionWeightManager()

    class Meta:
        ordering = ["persona", "disposition__slug"]
        constraints = [
            models.UniqueConstraint(fields=["persona", "disposition"], name="persona_disposition_weight_unique"),
            # In PostgreSQL NaN and infinity are above every number, so the upper bound keeps both out.
            models.CheckConstraint(
                condition=models.Q(weight__gte=0) & models.Q(weight__lte=MAX_WEIGHT),
                name="persona_disposition_weight_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.persona_id}:{self.disposition_id}={self.weight}"

    def natural_key(self) -> tuple[str, str]:
        """Persona name and disposition slug identify a weight in fixtures."""
        return (*self.persona.natural_key(), *self.disposition.natural_key())

    natural_key.dependencies = ["dispositions.persona", "dispositions.disposition"]  # type: ignore[attr-defined]

    def clean(self) -> None:
        """Weights are multipliers: finite, from 0 to MAX_WEIGHT."""
        if self.weight is not None and not (math.isfinite(self.weight) and 0 <= self.weight <= MAX_WEIGHT):
            raise ValidationError({"weight": f"Weight must be a number from 0 to {MAX_WEIGHT:g}."})


class DispositionDecision(models.Model):
    """One routing decision with everything needed to replay it, plus what the host did afterwards."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    guild_id = models.CharField(max_length=32, blank=True)
    channel_id = models.CharField(max_length=32, blank=True)
    bot_id = models.BigIntegerField(help_text="The bot that routed (a plain id: no foreign key to bots).")
    inbound_message_id = models.CharField(max_length=64, blank=True)
    persona = models.ForeignKey(Persona, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions")
    trigger_kind = models.CharField(max_length=20, choices=TriggerKind.choices)
    candidate_scores = models.JSONField(default=list, help_text="Every candidate: score, probability, reasons.")
    gates = models.JSONField(default=list, help_text="Hard gates that applied to this turn.")
    chosen_disposition = models.ForeignKey(
        Disposition, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    # Kept beside the foreign key so the log stays readable after a disposition is deleted.
    chosen_slug = models.CharField(max_length=60)
    stochasticity_seed = models.BigIntegerField()
    temperature = models.FloatField()
    dimensions_used = models.JSONField(default=dict)
    context_strategy_used = models.CharField(max_length=30, choices=ContextStrategy.choices)
    context_strategy_off_axis = models.BooleanField(default=False)
    subagents_fired = models.JSONField(default=list)
    output_shape = models.CharField(max_length=20, choices=OutputShape.choices)
    beat_count = models.PositiveIntegerField(default=0)
    scheduled_followup_id = models.BigIntegerField(
        null=True, blank=True, help_text="The self-followup this turn scheduled (a reactor SelfFollowupSchedule id)."
    )
    trigger_id = models.UUIDField(
        null=True,
        blank=True,
        help_text="The reactor trigger that started this turn (self-followup or speculative); a plain id.",
    )
    tiebreak_ran = models.BooleanField(default=False)
    tiebreak_options = models.JSONField(default=list, blank=True)
    tiebreak_answer = models.CharField(max_length=100, null=True, blank=True)
    router_inputs = models.JSONField(help_text="Context, persona, candidates and config, as given to the router.")
    router_latency_ms = models.FloatField(default=0.0)
    latency_ms = models.FloatField(null=True, blank=True, help_text="Whole turn, filled in by the host.")
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    model_used = models.CharField(max_length=100, blank=True)
    interruption = models.CharField(
        max_length=20, choices=InterruptionHandling.choices, blank=True, default=InterruptionHandling.NOT_INTERRUPTED
    )
    outcome = models.JSONField(default=dict, blank=True, help_text="What happened after: reactions, replies.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["channel_id", "-created_at"], name="decision_channel_created"),
            models.Index(fields=["chosen_slug", "-created_at"], name="decision_slug_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(trigger_kind__in=TriggerKind.values), name="decision_trigger_kind_valid"
            ),
            # At most one reactive turn per inbound message: a redelivered or resumed message, or a second
            # process, loses the race here instead of answering twice.
            models.UniqueConstraint(
                fields=["bot_id", "inbound_message_id"],
                condition=models.Q(trigger_kind=TriggerKind.REACTIVE) & ~models.Q(inbound_message_id=""),
                name="decision_one_reactive_turn_per_message",
            ),
            # At most one turn per reactor trigger: a turn handed to the bot twice is taken once, so what a
            # trigger posts is sent at most once (beats are keyed by the decision).
            models.UniqueConstraint(
                fields=["bot_id", "trigger_id"],
                condition=models.Q(trigger_id__isnull=False),
                name="decision_one_turn_per_trigger",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.trigger_kind} -> {self.chosen_slug}"


class DecisionReception(models.Model):
    """How one of a decision's messages landed: a reaction, a reply, a later quote, or the silence after it.

    Written by the reception watcher (`bots.reception`, a reactor trigger armed when the bot's own message is
    stored); one row per thing that happened, keyed so a watcher run twice records it once.
    """

    decision = models.ForeignKey(DispositionDecision, on_delete=models.CASCADE, related_name="receptions")
    kind = models.CharField(max_length=10, choices=ReceptionKind.choices)
    key = models.CharField(max_length=120, help_text="What makes it one: the reaction, reply or quote it is.")
    message_id = models.CharField(max_length=64, help_text="The bot's message it is about (the platform's id).")
    by_message_id = models.CharField(max_length=64, blank=True, help_text="The reply or the quoting message.")
    user_id = models.CharField(max_length=64, blank=True, help_text="Who reacted, replied or quoted.")
    at = models.DateTimeField(help_text="When it happened; for silence, when the window closed.")
    detail = models.JSONField(default=dict, blank=True, help_text="The emoji, how it was quoted, the window.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["decision", "at", "id"]
        indexes = [models.Index(fields=["kind", "at"], name="reception_kind_at")]
        constraints = [
            models.UniqueConstraint(fields=["decision", "key"], name="reception_unique_per_decision"),
            models.CheckConstraint(condition=models.Q(kind__in=ReceptionKind.values), name="reception_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on decision {self.decision_id}"


class SubagentRun(models.Model):
    """One research persona's call during a turn's fan-out."""

    decision = models.ForeignKey(DispositionDecision, on_delete=models.CASCADE, related_name="subagent_runs")
    persona = models.CharField(max_length=30, choices=ResearchPersona.choices)
    input_payload = models.JSONField(default=dict)
    output_payload = models.JSONField(default=dict, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    model_used = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    uptake = models.FloatField(
        null=True,
        blank=True,
        help_text="Share of the payload's content words the reply used (dispositions/research/uptake.py); "
        "empty when not measured (no payload, or no reply).",
    )
    ignored = models.BooleanField(
        null=True, blank=True, help_text="Whether the reply left the payload unused; empty when not measured."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["decision", "created_at", "id"]
        indexes = [models.Index(fields=["persona", "-created_at"], name="subagentrun_persona_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(uptake__isnull=True) | (models.Q(uptake__gte=0) & models.Q(uptake__lte=1)),
                name="subagentrun_uptake_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.persona} for decision {self.decision_id}"
