"""Enumerations of the gateway: purposes, tiers and attempt outcomes."""

from __future__ import annotations

from django.db import models


class Purpose(models.TextChoices):
    """Why a model is called; policies, quotas and usage are keyed by it (header `x-dit-purpose`)."""

    ROUTER_CLASSIFY = "router-classify", "Router classifier"
    SUBAGENT_RESEARCH = "subagent-research", "Research subagent"
    SYNTH_LOW = "synth-low", "Synthesizer (low)"
    SYNTH_MID = "synth-mid", "Synthesizer (mid)"
    SYNTH_HIGH = "synth-high", "Synthesizer (high)"
    EXTRACT = "extract", "Extraction"
    EMBED = "embed", "Embeddings"
    EPOCH_SUMMARIZE = "epoch-summarize", "Epoch summary"
    STEWARD = "steward", "Steward"
    TASK_WORKER = "task-worker", "Task worker"


class Tier(models.TextChoices):
    """The model tier a purpose maps to when no policy names a model (DIT_MODEL_LOW and friends)."""

    LOW = "low", "Low"
    MID = "mid", "Mid"
    HIGH = "high", "High"
    EMBED = "embed", "Embeddings"


PURPOSE_TIERS: dict[str, Tier] = {
    Purpose.ROUTER_CLASSIFY: Tier.LOW,
    Purpose.SUBAGENT_RESEARCH: Tier.LOW,
    Purpose.SYNTH_LOW: Tier.LOW,
    Purpose.SYNTH_MID: Tier.MID,
    Purpose.SYNTH_HIGH: Tier.HIGH,
    Purpose.EXTRACT: Tier.LOW,
    Purpose.EMBED: Tier.EMBED,
    Purpose.EPOCH_SUMMARIZE: Tier.MID,
    Purpose.STEWARD: Tier.MID,
    Purpose.TASK_WORKER: Tier.MID,
}


class Outcome(models.TextChoices):
    """How one attempt (or one rejected call) ended; every attempt is a UsageEvent with one of these."""

    OK = "ok", "OK"
    RATE_LIMITED = "rate_limited", "Rate limited (429)"
    SERVER_ERROR = "server_error", "Server error (5xx)"
    TIMEOUT = "timeout", "Timed out"
    CONNECTION_ERROR = "connection_error", "Connection error"
    INVALID_RESPONSE = "invalid_response", "Invalid response"
    REJECTED = "rejected", "Rejected by the provider (4xx)"
    STREAM_INTERRUPTED = "stream_interrupted", "Stream interrupted"
    CANCELLED = "cancelled", "Cancelled by the caller"
    BUDGET_EXHAUSTED = "budget_exhausted", "Budget exhausted"
    QUOTA_EXCEEDED = "quota_exceeded", "Quota exceeded"
    COOLING_DOWN = "cooling_down", "Every provider cooling down"
