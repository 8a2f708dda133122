"""Admin screens of the dispositions app: the persona weights are the main tuning surface."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from dispositions.forms import DispositionAdminForm, PersonaAdminForm, WhatIfForm
from dispositions.models import (
    DecisionReception,
    Disposition,
    DispositionDecision,
    Persona,
    PersonaDispositionWeight,
    SubagentRun,
)
from dispositions.selectors import subagent_ignore_rates, with_reception
from dispositions.services import decision_inputs, replay, what_if
from dispositions.specs import CandidateScore
from dit_project.admin import EstimatedCountPaginator
from dit_project.errors import ApplicationError


def scores_table(rows: Iterable[Mapping[str, Any]], *, chosen: str | None = None) -> SafeString:
    """Candidates as an HTML table: score, probability, cost, reasons or what eliminated them."""
    ordered = sorted(rows, key=lambda row: (-float(row["score"]), row["slug"]))
    body = format_html_join(
        "",
        "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                SafeString(' style="font-weight:bold"') if row["slug"] == chosen else "",
                row["slug"],
                f"{float(row['score']):.3f}",
                f"{float(row['probability']):.1%}",
                f"{float(row['cost']):.1f}",
                row["eliminated_by"] and f"eliminated: {row['eliminated_by']}" or "; ".join(row["reasons"]),
            )
            for row in ordered
        ),
    )
    return format_html(
        '<table class="dispositions-scores"><thead><tr><th>disposition</th><th>score</th><th>probability</th>'
        "<th>cost</th><th>reasons</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )


def _result_rows(scores: Iterable[CandidateScore]) -> list[dict[str, Any]]:
    return [row.as_dict() for row in scores]


class PersonaDispositionWeightInline(admin.TabularInline[PersonaDispositionWeight, Persona]):
    model = PersonaDispositionWeight
    fields = ["disposition", "weight"]
    extra = 0
    ordering = ["disposition__slug"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PersonaDispositionWeight]:
        return super().get_queryset(request).select_related("disposition")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "disposition" and field is not None:
            # Evaluated once here, the choices are copied into every row instead of queried per row.
            field.choices = list(cast(Iterable[tuple[Any, str]], field.choices))
        return field


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin[Persona]):
    form = PersonaAdminForm
    list_display = ["name", "wake_word_list", "voice_count", "updated_at"]
    search_fields = ["name"]
    inlines = [PersonaDispositionWeightInline]

    @admin.display(description="wake words")
    def wake_word_list(self, obj: Persona) -> str:
        """The names the bot answers to."""
        return ", ".join(obj.wake_words)

    @admin.display(description="eligible voices")
    def voice_count(self, obj: Persona) -> int:
        """How many voices the router may pick for this persona."""
        return len(obj.eligible_voices)


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin[Disposition]):
    form = DispositionAdminForm
    list_display = [
        "slug",
        "reasoning_depth",
        "context_strategy",
        "voice",
        "output_shape",
        "search_posture",
        "risk_appetite",
        "speculative_only",
        "enabled",
    ]
    list_filter = ["enabled", "speculative_only", "reasoning_depth", "voice", "output_shape", "risk_appetite"]
    search_fields = ["slug", "name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "enabled", "speculative_only"]}),
        (
            "Dimensions",
            {
                "fields": [
                    "reasoning_depth",
                    "context_strategy",
                    "voice",
                    "output_shape",
                    "search_posture",
                    "risk_appetite",
                ]
            },
        ),
        (
            "Self-followup hint",
            {
                "fields": [
                    "followup_bias",
                    "followup_probability",
                    ("followup_window_min_seconds", "followup_window_max_seconds"),
                ],
                "description": "Leave the bias blank for no self-followup.",
            },
        ),
        ("Fan-out", {"fields": ["fanout_plan"]}),
    ]


class ChannelFilter(admin.SimpleListFilter):
    title = "channel"
    parameter_name = "channel_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        channels = (
            DispositionDecision.objects.order_by("channel_id").values_list("channel_id", flat=True).distinct()[:100]
        )
        return [(channel, channel) for channel in channels if channel]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(channel_id=value) if value else queryset


def milliseconds(value: float | None) -> str:
    """A latency as a reader wants it: whole milliseconds (one decimal below ten), or a dash."""
    if value is None:
        return "-"
    return f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms"


def outcome_block(outcome: Mapping[str, Any]) -> SafeString:
    """A decision's outcome as an indented block: keys sorted, the ending first."""
    if not outcome:
        return format_html("<em>{}</em>", "not yet known")
    ordered = {"end": outcome["end"], **outcome} if "end" in outcome else dict(outcome)
    text = json.dumps(ordered, indent=2, ensure_ascii=False, default=str)
    return format_html('<pre class="dispositions-outcome" style="white-space:pre-wrap;margin:0">{}</pre>', text)


class OutcomeFilter(admin.SimpleListFilter):
    """How the turn ended (the outcome's `end`, written by the host)."""

    title = "outcome"
    parameter_name = "outcome_end"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        endings = (
            DispositionDecision.objects.annotate(ending=KeyTextTransform("end", "outcome"))
            .exclude(ending=None)
            .order_by("ending")
            .values_list("ending", flat=True)
            .distinct()[:20]
        )
        return [(ending, ending.replace("_", " ")) for ending in endings]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(outcome__end=value) if value else queryset


class SubagentRunInline(admin.TabularInline[SubagentRun, DispositionDecision]):
    model = SubagentRun
    fields = ["persona", "latency", "cost_usd", "model_used", "uptake", "ignored", "error"]
    readonly_fields = ["persona", "latency", "cost_usd", "model_used", "uptake", "ignored", "error"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="latency")
    def latency(self, obj: SubagentRun) -> str:
        """The run's latency, rounded."""
        return milliseconds(obj.latency_ms)


# The window of the ignore rates shown above the research runs' list.
IGNORE_RATE_DAYS = 7


@admin.register(SubagentRun)
class SubagentRunAdmin(admin.ModelAdmin[SubagentRun]):
    """Research persona runs; above the list, each persona's ignore rate over the last days (the tuning signal)."""

    change_list_template = "admin/dispositions/subagentrun/change_list.html"
    list_display = ["id", "created_at", "decision", "persona", "latency", "uptake", "ignored", "model_used", "failed"]
    list_filter = ["persona", "ignored", "created_at"]
    list_select_related = ["decision"]
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = [
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SubagentRun | None = None) -> bool:
        return False

    @admin.display(description="latency")
    def latency(self, obj: SubagentRun) -> str:
        """The run's latency, rounded."""
        return milliseconds(obj.latency_ms)

    @admin.display(description="failed", boolean=True)
    def failed(self, obj: SubagentRun) -> bool:
        """Whether the run gave no payload."""
        return bool(obj.error)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The list, with each persona's ignore rate over the last IGNORE_RATE_DAYS days above it."""
        until = timezone.now()
        since = until - timedelta(days=IGNORE_RATE_DAYS)
        context = {**(extra_context or {}), "ignore_rates": subagent_ignore_rates(since=since, until=until)}
        context["ignore_rate_days"] = IGNORE_RATE_DAYS
        return super().changelist_view(request, extra_context=context)


class DecisionReceptionInline(admin.TabularInline[DecisionReception, DispositionDecision]):
    model = DecisionReception
    fields = ["kind", "at", "user_id", "message_id", "by_message_id", "detail"]
    readonly_fields = ["kind", "at", "user_id", "message_id", "by_message_id", "detail"]
    extra = 0
    can_delete = False
    verbose_name_plural = "reception (how its messages landed)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def reception_summary(rows: Iterable[Mapping[str, Any]] | None) -> str:
    """Receptions as counts per kind ("2 reaction, 1 reply"), or "-" when nothing was recorded yet."""
    counts: dict[str, int] = {}
    for row in rows or ():
        counts[str(row["kind"])] = counts.get(str(row["kind"]), 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "-"


@admin.register(DispositionDecision)
class DispositionDecisionAdmin(admin.ModelAdmin[DispositionDecision]):
    change_form_template = "admin/dispositions/dispositiondecision/change_form.html"
    list_display = [
        "id",
        "created_at",
        "trigger_kind",
        "chosen_disposition",
        "output_shape",
        "context_strategy_used",
        "context_strategy_off_axis",
        "tiebreak_ran",
        "channel_id",
        "persona",
        "ending",
        "reception",
        "router_latency",
        "turn_latency",
    ]
    list_filter = ["trigger_kind", "chosen_disposition", "output_shape", OutcomeFilter, ChannelFilter, "created_at"]
    list_select_related = ["chosen_disposition", "persona"]
    date_hierarchy = "created_at"
    search_fields = ["inbound_message_id", "chosen_slug"]
    show_full_result_count = False
    list_per_page = 50
    actions = ["replay_selected"]
    inlines = [DecisionReceptionInline, SubagentRunInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "created_at",
                    "trigger_kind",
                    "chosen_slug",
                    "chosen_disposition",
                    "persona",
                    ("guild_id", "channel_id", "bot_id", "inbound_message_id"),
                ]
            },
        ),
        ("Candidates", {"fields": ["scores", "gates", "stochasticity_seed", "temperature"]}),
        (
            "Choice",
            {
                "fields": [
                    "dimensions_used",
                    ("context_strategy_used", "context_strategy_off_axis"),
                    "subagents_fired",
                    "output_shape",
                    ("tiebreak_ran", "tiebreak_options", "tiebreak_answer"),
                ]
            },
        ),
        (
            "Turn",
            {
                "fields": [
                    ("router_latency", "turn_latency"),
                    ("cost_usd", "model_used"),
                    ("beat_count", "scheduled_followup_id"),
                    "interruption",
                    ("ending", "reception"),
                    "outcome_block",
                ]
            },
        ),
        ("Router inputs", {"fields": ["router_inputs"], "classes": ["collapse"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[DispositionDecision]:
        decisions = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name == "dispositions_dispositiondecision_changelist":
            # The list shows none of the JSON logs; loading them for 50 rows is most of the page's cost.
            decisions = decisions.defer("router_inputs", "candidate_scores", "gates", "dimensions_used", "outcome")
            decisions = decisions.annotate(outcome_end=KeyTextTransform("end", "outcome"))
            decisions = with_reception(decisions)
        return decisions

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        computed = ["scores", "router_latency", "turn_latency", "ending", "reception", "outcome_block"]
        return [field.name for field in DispositionDecision._meta.fields] + computed

    @admin.display(description="router latency", ordering="router_latency_ms")
    def router_latency(self, obj: DispositionDecision) -> str:
        """The router's time, rounded."""
        return milliseconds(obj.router_latency_ms)

    @admin.display(description="turn latency", ordering="latency_ms")
    def turn_latency(self, obj: DispositionDecision) -> str:
        """The whole turn's time, rounded."""
        return milliseconds(obj.latency_ms)

    @admin.display(description="outcome", ordering="outcome_end")
    def ending(self, obj: DispositionDecision) -> str:
        """How the turn ended; the list reads it from an annotation, not the deferred outcome."""
        end = getattr(obj, "outcome_end", None)
        if end is None and "outcome" in obj.__dict__:
            end = (obj.outcome or {}).get("end")
        return str(end).replace("_", " ") if end else "-"

    @admin.display(description="reception")
    def reception(self, obj: DispositionDecision) -> str:
        """How the turn's messages landed, counted per kind (read in the list's own query)."""
        rows = getattr(obj, "reception_rows", None)
        if rows is None:
            rows = obj.receptions.values("kind")
        return reception_summary(rows)

    @admin.display(description="outcome in full")
    def outcome_block(self, obj: DispositionDecision) -> SafeString:
        """The whole outcome, formatted."""
        return outcome_block(obj.outcome)

    @admin.display(description="scores and reasons")
    def scores(self, obj: DispositionDecision) -> SafeString:
        """Every candidate's score, probability and reasons."""
        return scores_table(obj.candidate_scores, chosen=obj.chosen_slug)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/replay/", view(self.replay_view), name="dispositions_dispositiondecision_replay"),
            path("<int:pk>/what-if/", view(self.what_if_view), name="dispositions_dispositiondecision_what_if"),
            *super().get_urls(),
        ]

    def _decision_or_404(self, request: HttpRequest, pk: int) -> DispositionDecision:
        decision = get_object_or_404(DispositionDecision.objects.select_related("chosen_disposition"), pk=pk)
        if not self.has_view_permission(request, decision):
            raise PermissionDenied
        return decision

    def _page(self, request: HttpRequest, decision: DispositionDecision, title: str) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "decision": decision,
            "original": decision,
            "change_url": reverse("admin:dispositions_dispositiondecision_change", args=[decision.pk]),
            "original_scores": scores_table(decision.candidate_scores, chosen=decision.chosen_slug),
        }

    def replay_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Re-run the router on the decision's logged inputs and say whether the same choice came out."""
        decision = self._decision_or_404(request, pk)
        context = self._page(request, decision, f"Replay of decision #{decision.pk}")
        try:
            outcome = replay(decision)
        except ApplicationError as exc:
            context["error"] = exc.message
        else:
            context.update(
                outcome=outcome,
                replay_scores=scores_table(_result_rows(outcome.result.scores), chosen=outcome.result.chosen.slug),
            )
        return TemplateResponse(request, "admin/dispositions/dispositiondecision/replay.html", context)

    def what_if_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Take other persona weights and show what the router would have chosen (nothing is saved)."""
        decision = self._decision_or_404(request, pk)
        context = self._page(request, decision, f"What if: decision #{decision.pk}")
        try:
            inputs = decision_inputs(decision)
        except ApplicationError as exc:
            context["error"] = exc.message
            return TemplateResponse(request, "admin/dispositions/dispositiondecision/what_if.html", context)
        slugs = [spec.slug for spec in inputs.candidates]
        weights = {slug: inputs.persona.weight(slug) for slug in slugs}
        form = WhatIfForm(request.POST or None, weights=weights, slugs=slugs)
        context["form"] = form
        if request.method == "POST" and form.is_valid():
            try:
                result = what_if(decision, form.weights())
            except ApplicationError as exc:
                context["error"] = exc.message
            else:
                context.update(
                    result=result,
                    result_scores=scores_table(_result_rows(result.scores), chosen=result.chosen.slug),
                )
        return TemplateResponse(request, "admin/dispositions/dispositiondecision/what_if.html", context)

    @admin.action(description="Replay selected decisions")
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[DispositionDecision]) -> None:
        """Replay each selected decision and report how many came out the same."""
        matched, differed = 0, []
        # The changelist's queryset defers the logged inputs a replay needs; load them in one query.
        for decision in DispositionDecision.objects.filter(pk__in=queryset.values("pk")).order_by("pk"):
            try:
                same = replay(decision).matches
            except ApplicationError:
                same = False
            if same:
                matched += 1
            else:
                differed.append(str(decision.pk))
        if differed:
            self.message_user(
                request,
                f"{matched} replayed to the same choice; different: #{', #'.join(differed)}",
                level=messages.WARNING,
            )
        else:
            self.message_user(request, f"All {matched} replayed to the same choice.", level=messages.SUCCESS)


@admin.register(DecisionReception)
class DecisionReceptionAdmin(admin.ModelAdmin[DecisionReception]):
    list_display = ["id", "at", "kind", "decision", "chosen", "user_id", "message_id", "by_message_id"]
    list_filter = ["kind", "at"]
    list_select_related = ["decision"]
    search_fields = ["message_id", "by_message_id", "user_id"]
    show_full_result_count = False
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="disposition", ordering="decision__chosen_slug")
    def chosen(self, obj: DecisionReception) -> str:
        """The disposition the decision chose."""
        return obj.decision.chosen_slug
