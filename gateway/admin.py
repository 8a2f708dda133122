"""Admin screens of the gateway app: providers (keys write-only), prices, policies, tokens, budgets, usage."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from dit_project.admin import EstimatedCountPaginator
from gateway.models import (
    BudgetEnvelope,
    GatewayPolicy,
    GatewayToken,
    ModelPrice,
    PolicyFallback,
    Provider,
    ToolInvocation,
    UsageEvent,
)
from gateway.services import budget_refresh_arm, token_issue


class ProviderForm(forms.ModelForm[Provider]):
    """A provider with a write-only API key: the stored key is never sent back to the browser."""

    base_url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        help_text="The OpenAI-compatible base URL, ending in /v1 (e.g. https://openrouter.ai/api/v1).",
    )
    api_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave blank to keep the stored key.",
    )
    clear_api_key = forms.BooleanField(required=False, help_text="Remove the stored key.")

    class Meta:
        model = Provider
        fields = ["name", "base_url", "connect_timeout_seconds", "timeout_seconds", "is_active"]

    def save(self, commit: bool = True) -> Provider:
        """Keep the stored key unless a new one is typed or clearing is asked for."""
        provider = super().save(commit=False)
        if self.cleaned_data.get("clear_api_key"):
            provider.set_api_key("")
        elif self.cleaned_data.get("api_key"):
            provider.set_api_key(self.cleaned_data["api_key"])
        if commit:
            provider.save()
        return provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin[Provider]):
    form = ProviderForm
    list_display = ["name", "base_url", "has_api_key", "connect_timeout_seconds", "timeout_seconds", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "base_url"]

    @admin.display(boolean=True, description="API key")
    def has_api_key(self, obj: Provider) -> bool:
        return obj.has_api_key


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin[ModelPrice]):
    list_display = ["model", "provider", "input_usd_per_million", "output_usd_per_million"]
    list_select_related = ["provider"]
    list_filter = ["provider"]
    search_fields = ["model"]


class PolicyFallbackInline(admin.TabularInline[PolicyFallback, GatewayPolicy]):
    model = PolicyFallback
    extra = 1
    ordering = ["position"]
    autocomplete_fields = ["provider"]


@admin.register(GatewayPolicy)
class GatewayPolicyAdmin(admin.ModelAdmin[GatewayPolicy]):
    list_display = [
        "purpose",
        "scope",
        "primary_model",
        "primary_provider",
        "requests_per_minute",
        "tokens_per_day",
    ]
    list_select_related = ["primary_provider"]
    list_filter = ["purpose"]
    search_fields = ["guild_id", "primary_model"]
    autocomplete_fields = ["primary_provider"]
    inlines = [PolicyFallbackInline]

    @admin.display(description="Scope")
    def scope(self, obj: GatewayPolicy) -> str:
        return obj.scope_label


class GatewayTokenForm(forms.ModelForm[GatewayToken]):
    class Meta:
        model = GatewayToken
        fields = ["bot_id", "label", "revoked_at"]


@admin.register(GatewayToken)
class GatewayTokenAdmin(admin.ModelAdmin[GatewayToken]):
    """Tokens are shown in plain text once, in the message after creation; only their hash is kept."""

    form = GatewayTokenForm
    list_display = ["token_prefix", "bot_id", "label", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["label", "token_prefix"]
    readonly_fields = ["token_prefix", "created_at", "last_used_at"]

    def get_fields(self, request: HttpRequest, obj: GatewayToken | None = None) -> list[Any]:
        if obj is None:
            return ["bot_id", "label"]
        return ["token_prefix", "bot_id", "label", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: GatewayToken, form: Any, change: bool) -> None:
        """On creation, issue the secret and show it once in a message."""
        if change:
            super().save_model(request, obj, form, change)
            return
        plaintext = token_issue(obj)
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            f"Token for bot {obj.bot_id}: {plaintext}. Copy it now (set it as DIT_GATEWAY_TOKEN); "
            "it is not stored and will not be shown again.",
            messages.WARNING,
        )


class BudgetEnvelopeForm(forms.ModelForm[BudgetEnvelope]):
    class Meta:
        model = BudgetEnvelope
        fields = ["guild_id", "period_start", "period_end", "allocated_usd"]

    def clean(self) -> dict[str, Any]:
        """The refresh time follows the period end."""
        cleaned = super().clean() or {}
        if cleaned.get("period_end"):
            self.instance.refresh_at = cleaned["period_end"]
        return cleaned


@admin.register(BudgetEnvelope)
class BudgetEnvelopeAdmin(admin.ModelAdmin[BudgetEnvelope]):
    form = BudgetEnvelopeForm
    list_display = ["guild_id", "period_start", "period_end", "allocated_usd", "spent_usd", "reserved_usd", "remaining"]
    search_fields = ["guild_id"]
    readonly_fields = ["spent_usd", "reserved_usd", "refresh_at", "created_at", "updated_at"]
    date_hierarchy = "period_start"

    @admin.display(description="Remaining")
    def remaining(self, obj: BudgetEnvelope) -> str:
        return f"{obj.remaining_fraction:.0%}"

    def save_model(self, request: HttpRequest, obj: BudgetEnvelope, form: Any, change: bool) -> None:
        """Save, then time the guild's next refresh from its latest period."""
        super().save_model(request, obj, form, change)
        budget_refresh_arm(guild_id=obj.guild_id)


@admin.register(UsageEvent)
class UsageEventAdmin(admin.ModelAdmin[UsageEvent]):
    """Read-only: usage is written by the gateway alone."""

    list_display = [
        "created_at",
        "request_id",
        "attempt",
        "outcome",
        "purpose",
        "model",
        "provider",
        "guild_id",
        "bot_id",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "latency_ms",
        "policy",
    ]
    list_filter = ["outcome", "purpose", "streamed"]
    search_fields = ["request_id", "guild_id", "model"]
    list_select_related = ["policy"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: UsageEvent | None = None) -> list[str]:
        return [field.name for field in UsageEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: UsageEvent | None = None) -> bool:
        return False


@admin.register(ToolInvocation)
class ToolInvocationAdmin(admin.ModelAdmin[ToolInvocation]):
    """Read-only: tool calls are written by the callers of the tool loop."""

    list_display = ["created_at", "tool", "ok", "step", "purpose", "decision_id", "task_id", "guild_id", "latency_ms"]
    list_filter = ["ok", "tool", "purpose"]
    search_fields = ["tool", "guild_id", "error"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: ToolInvocation | None = None) -> list[str]:
        return [field.name for field in ToolInvocation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ToolInvocation | None = None) -> bool:
        return False
