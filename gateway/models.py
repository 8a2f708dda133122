"""Models of the gateway: providers and prices, routing policies, tenant tokens, budgets and usage."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from dit_project.vault import seal, unseal
from gateway.choices import Outcome, Purpose

DEFAULT_PROVIDER_HELP = "Empty: the default provider from OPENAI_BASE_URL / OPENAI_API_KEY."


class Provider(models.Model):
    """An OpenAI-compatible endpoint the gateway may call; its API key is stored encrypted."""

    name = models.CharField(max_length=100, unique=True)
    base_url = models.URLField(
        max_length=500, help_text="The OpenAI-compatible base URL, ending in /v1 (e.g. https://openrouter.ai/api/v1)."
    )
    api_key_ciphertext = models.TextField(blank=True, default="", editable=False)
    connect_timeout_seconds = models.FloatField(default=5.0, validators=[MinValueValidator(0.01)])
    timeout_seconds = models.FloatField(
        default=60.0,
        validators=[MinValueValidator(0.01)],
        help_text="The longest wait for a response, or between two chunks of a stream.",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive providers are skipped by every policy.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(connect_timeout_seconds__gt=0) & Q(timeout_seconds__gt=0),
                name="gateway_provider_timeouts_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_api_key(self) -> bool:
        """Whether a key is stored (the key itself is never shown)."""
        return bool(self.api_key_ciphertext)

    def set_api_key(self, plaintext: str) -> None:
        """Encrypt and keep a new API key; the caller saves with update_fields."""
        self.api_key_ciphertext = seal(plaintext) if plaintext else ""

    def reveal_api_key(self) -> str:
        """The plain key, for the one HTTP client that sends it; never log or serialize it."""
        if not self.api_key_ciphertext:
            return ""
        return unseal(self.api_key_ciphertext, name=f"the API key of provider {self.name!r}")


class ModelPrice(models.Model):
    """What a model costs per million tokens; a price without a provider applies to every provider."""

    provider = models.ForeignKey(
        Provider,
        on_delete=models.CASCADE,
        related_name="prices",
        null=True,
        blank=True,
        help_text="Leave empty for a price that applies on every provider (and the default provider).",
    )
    model = models.CharField(max_length=200)
    input_usd_per_million = models.DecimalField(
        max_digits=12, decimal_places=6, validators=[MinValueValidator(Decimal(0))]
    )
    output_usd_per_million = models.DecimalField(
        max_digits=12, decimal_places=6, validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        ordering = ["model"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "model"], nulls_distinct=False, name="gateway_modelprice_one_per_provider_model"
            ),
            models.CheckConstraint(
                condition=Q(input_usd_per_million__gte=0) & Q(output_usd_per_million__gte=0),
                name="gateway_modelprice_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} @ {self.provider or 'any provider'}"


class GatewayPolicy(models.Model):
    """Which model and provider serve one purpose, for a scope (bot, guild, both or everyone), and its quotas."""

    bot_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="Empty: every bot.")
    guild_id = models.CharField(max_length=64, null=True, blank=True, help_text="Empty: every guild.")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    primary_model = models.CharField(max_length=200)
    primary_provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        related_name="primary_policies",
        null=True,
        blank=True,
        help_text=DEFAULT_PROVIDER_HELP,
    )
    requests_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most calls per minute for each bot in each guild under this policy."
    )
    tokens_per_day = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Most tokens (in + out) per UTC day for each bot in each guild."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "gateway policies"
        ordering = ["purpose", "bot_id", "guild_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot_id", "guild_id", "purpose"],
                nulls_distinct=False,
                name="gateway_policy_one_per_scope_and_purpose",
            ),
            models.CheckConstraint(condition=~Q(guild_id=""), name="gateway_policy_guild_id_null_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} for {self.scope_label}"

    @property
    def scope_label(self) -> str:
        """Who the policy applies to, in words."""
        parts = []
        if self.bot_id is not None:
            parts.append(f"bot {self.bot_id}")
        if self.guild_id is not None:
            parts.append(f"guild {self.guild_id}")
        return " in ".join(parts) or "everyone"

    @property
    def specificity(self) -> int:
        """Higher wins: bot and guild (3), bot (2), guild (1), global (0)."""
        return (2 if self.bot_id is not None else 0) + (1 if self.guild_id is not None else 0)


class PolicyFallback(models.Model):
    """One fallback route of a policy, tried in position order after the primary."""

    policy = models.ForeignKey(GatewayPolicy, on_delete=models.CASCADE, related_name="fallbacks")
    position = models.PositiveSmallIntegerField(default=1)
    model = models.CharField(max_length=200)
    provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        related_name="fallback_routes",
        null=True,
        blank=True,
        help_text=DEFAULT_PROVIDER_HELP,
    )

    class Meta:
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="gateway_policyfallback_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.model} @ {self.provider or 'default provider'}"


class GatewayToken(models.Model):
    """A bot's bearer token for the HTTP gateway; only its sha256 is stored, the plain text is shown once."""

    bot_id = models.PositiveBigIntegerField()
    label = models.CharField(max_length=100, blank=True, default="")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=12, editable=False, help_text="The first characters, to tell apart.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["bot_id"], name="gateway_token_bot_idx")]

    def __str__(self) -> str:
        return f"{self.token_prefix}… (bot {self.bot_id}{', revoked' if self.revoked_at else ''})"


class BudgetEnvelope(models.Model):
    """What one guild may spend in one period; `reserved_usd` covers calls in flight.

    One row per period: when a period ends, the next row is opened on first use (or by the reactor
    through `services.budget_refresh_due`) with the same allocation, so past periods stay readable.
    """

    guild_id = models.CharField(max_length=64)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    allocated_usd = models.DecimalField(max_digits=14, decimal_places=6, validators=[MinValueValidator(Decimal(0))])
    spent_usd = models.DecimalField(max_digits=16, decimal_places=8, default=Decimal(0), editable=False)
    reserved_usd = models.DecimalField(
        max_digits=16,
        decimal_places=8,
        default=Decimal(0),
        editable=False,
        help_text="Estimates of calls in flight, released when they end.",
    )
    refresh_at = models.DateTimeField(
        help_text="When this envelope gives way to the next period's; always the period end."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["guild_id", "-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["guild_id", "period_start"], name="gateway_budget_one_per_guild_period"),
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="gateway_budget_period_order"),
            models.CheckConstraint(condition=Q(refresh_at=F("period_end")), name="gateway_budget_refresh_at_end"),
            models.CheckConstraint(
                condition=Q(allocated_usd__gte=0) & Q(spent_usd__gte=0) & Q(reserved_usd__gte=0),
                name="gateway_budget_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"guild {self.guild_id}: {self.period_start:%Y-%m-%d %H:%M} to {self.period_end:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        """The period must run forwards; refresh_at follows the period end."""
        if self.period_start and self.period_end:
            if self.period_end <= self.period_start:
                raise ValidationError({"period_end": "The period must end after it starts."})
            self.refresh_at = self.period_end

    @property
    def remaining_usd(self) -> Decimal:
        """What calls may still reserve: the allocation less what is spent and held by calls in flight."""
        return max(Decimal(0), self.allocated_usd - self.spent_usd - self.reserved_usd)

    @property
    def remaining_fraction(self) -> float:
        """The remaining share of the allocation, 0.0 to 1.0 (0.0 for an empty allocation)."""
        if self.allocated_usd <= 0:
            return 0.0
        return float(min(Decimal(1), self.remaining_usd / self.allocated_usd))


class UsageEvent(models.Model):
    """One attempt at a model call (or one call rejected before any attempt), with its tokens and cost."""

    created_at = models.DateTimeField(default=timezone.now)
    request_id = models.CharField(max_length=64)
    bot_id = models.PositiveBigIntegerField(null=True, blank=True)
    guild_id = models.CharField(max_length=64, null=True, blank=True)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    policy = models.ForeignKey(
        GatewayPolicy, on_delete=models.SET_NULL, related_name="usage_events", null=True, blank=True
    )
    model = models.CharField(max_length=200, blank=True, default="")
    provider = models.CharField(max_length=100, blank=True, default="")
    attempt = models.PositiveSmallIntegerField(help_text="1 for the first attempt; 0 for a call rejected before any.")
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    streamed = models.BooleanField(default=False)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=16, decimal_places=8, default=Decimal(0))
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at"], name="gateway_usage_created_idx"),
            models.Index(fields=["guild_id", "created_at"], name="gateway_usage_guild_idx"),
            models.Index(fields=["purpose", "created_at"], name="gateway_usage_purpose_idx"),
            models.Index(fields=["request_id"], name="gateway_usage_request_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} #{self.attempt} {self.outcome}"


class ToolInvocation(models.Model):
    """One tool call a model made in a reply or a task, whether it ran, and what it cost in time.

    Written by the caller of `gateway.tools.complete_with_tools` once it knows its decision or task
    (`gateway.services.record_tool_calls`); arguments are the model's, validated or not.
    """

    created_at = models.DateTimeField(default=timezone.now)
    bot_id = models.PositiveBigIntegerField(null=True, blank=True)
    guild_id = models.CharField(max_length=64, blank=True, default="")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    decision_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The decision of the reply.")
    task_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The task whose worker made the call.")
    step = models.PositiveSmallIntegerField()
    tool = models.CharField(max_length=64)
    arguments = models.JSONField(default=dict, blank=True)
    ok = models.BooleanField()
    error = models.TextField(blank=True, default="")
    result_chars = models.PositiveIntegerField(default=0)
    latency_ms = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["decision_id"], name="gateway_tool_decision_idx"),
            models.Index(fields=["task_id"], name="gateway_tool_task_idx"),
            models.Index(fields=["tool", "created_at"], name="gateway_tool_tool_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tool} (step {self.step}, {'ok' if self.ok else 'error'})"
