"""Admin screens of the reactor: the event log, triggers with their dead letters, follow-ups, deliveries, lineage.

Everything here was written by the reactor and is read, not edited; the two writes are actions that
call services: requeue a dead (or cancelled) trigger, and cancel a waiting one.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from dit_project.admin import EstimatedCountPaginator
from dit_project.errors import ApplicationError
from reactor.choices import TriggerStatus
from reactor.lineage import LineageNode, event_lineage, trigger_lineage
from reactor.models import DeadLetter, Delivery, ReactorEvent, SelfFollowupSchedule, Trigger
from reactor.services import trigger_cancel, trigger_requeue

M = TypeVar("M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[M]):
    """Rows the reactor writes: list, filter and read; never add, edit or delete by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


def _lineage_page(admin_: admin.ModelAdmin[Any], request: HttpRequest, root: LineageNode, title: str) -> HttpResponse:
    context = {**admin_.admin_site.each_context(request), "opts": admin_.opts, "title": title, "root": root}
    return TemplateResponse(request, "admin/reactor/lineage.html", context)


@admin.register(ReactorEvent)
class ReactorEventAdmin(ReadOnlyAdmin[ReactorEvent]):
    """The event log as it was written, with what each event caused."""

    list_display = ("id", "created_at", "kind", "guild_id", "channel_id", "idempotency_key")
    list_filter = ("kind",)
    search_fields = ("=guild_id", "=channel_id", "=idempotency_key")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 100
    change_form_template = "admin/reactor/with_lineage.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/lineage/", view(self.lineage_view), name="reactor_reactorevent_lineage"),
            *super().get_urls(),
        ]

    def lineage_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The triggers this event caused, the decisions they produced, the follow-ups those scheduled."""
        event = get_object_or_404(ReactorEvent, pk=pk)
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        return _lineage_page(self, request, event_lineage(event), f"Lineage of event #{event.pk}")


@admin.action(description="Requeue (fresh attempts, due now)")
def requeue(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Trigger]) -> None:
    """Requeue the selected dead or cancelled triggers."""
    done = 0
    for trigger in queryset.filter(status__in=(TriggerStatus.DEAD, TriggerStatus.CANCELLED)):
        try:
            trigger_requeue(trigger_id=trigger.pk)
        except ApplicationError as exc:
            modeladmin.message_user(request, exc.message, messages.ERROR)
        else:
            done += 1
    skipped = queryset.count() - done
    modeladmin.message_user(
        request, f"{done} requeued" + (f"; {skipped} were not dead or cancelled" if skipped else "")
    )


@admin.action(description="Cancel (waiting triggers only)")
def cancel(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Trigger]) -> None:
    """Cancel the selected triggers that have not started."""
    user = getattr(request.user, "username", "staff")
    done = sum(
        trigger_cancel(trigger_id=pk, reason=f"cancelled by {user}") for pk in queryset.values_list("pk", flat=True)
    )
    modeladmin.message_user(request, f"{done} cancelled")


class _TriggerAdminBase(ReadOnlyAdmin[Trigger]):
    """What the trigger lists share: a short id, the actions' permission, the lineage page."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 100
    change_form_template = "admin/reactor/with_lineage.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The actions need it on the list; every field stays read-only on the page.
        return bool(request.user.is_staff) and obj is None

    @admin.display(description="id", ordering="id")
    def short_id(self, obj: Trigger) -> str:
        return str(obj.pk)[:8]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}_lineage"
        return [path("<uuid:pk>/lineage/", view(self.lineage_view), name=name), *super().get_urls()]

    def lineage_view(self, request: HttpRequest, pk: Any) -> HttpResponse:
        """The chain this trigger belongs to, from the event that started it."""
        trigger = get_object_or_404(Trigger.objects.select_related("parent_event"), pk=pk)
        if not self.has_view_permission(request, trigger):
            raise PermissionDenied
        return _lineage_page(self, request, trigger_lineage(trigger), f"Lineage of trigger {trigger.pk}")


@admin.register(Trigger)
class TriggerAdmin(_TriggerAdminBase):
    """Every trigger with its state, attempts and last error; requeue what died, cancel what waits."""

    list_display = (
        "short_id",
        "kind",
        "status",
        "due_at",
        "attempts",
        "sent_count",
        "guild_id",
        "channel_id",
        "created_at",
    )
    list_filter = ("status", "mode", "kind")
    search_fields = ("=id", "=dedupe_key", "=guild_id", "=channel_id", "kind")
    actions = (requeue, cancel)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Trigger]:
        triggers = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name == "reactor_trigger_changelist":
            # The list shows none of the JSON columns; loading them for 100 rows is most of the page's cost.
            triggers = triggers.defer("predicate", "payload", "result", "last_error", "wake_keys")
        return triggers


@admin.register(DeadLetter)
class DeadLetterAdmin(_TriggerAdminBase):
    """Dead triggers only: what failed for good, with its error, ready to requeue."""

    list_display = ("short_id", "kind", "attempts", "error_line", "finished_at", "guild_id", "channel_id")
    list_filter = ("kind",)
    search_fields = ("=id", "=dedupe_key", "=guild_id", "=channel_id", "kind")
    actions = (requeue,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Trigger]:
        return super().get_queryset(request).filter(status=TriggerStatus.DEAD)

    @admin.display(description="last error")
    def error_line(self, obj: Trigger) -> str:
        lines = [line for line in obj.last_error.strip().splitlines() if line.strip()]
        return lines[-1][:200] if lines else ""


@admin.register(SelfFollowupSchedule)
class SelfFollowupScheduleAdmin(ReadOnlyAdmin[SelfFollowupSchedule]):
    """Self-followups: when, which bias, and whether they fired, waited or were aborted (and why)."""

    list_display = (
        "id",
        "parent_decision_link",
        "bias",
        "status",
        "scheduled_for",
        "defers",
        "abort_reason",
        "fired_decision_id",
    )
    list_filter = ("status", "bias")
    search_fields = ("=parent_decision_id", "=channel_id", "=guild_id")
    list_per_page = 100

    @admin.display(description="parent decision", ordering="parent_decision_id")
    def parent_decision_link(self, obj: SelfFollowupSchedule) -> SafeString:
        url = reverse("admin:dispositions_dispositiondecision_change", args=[obj.parent_decision_id])
        return format_html('<a href="{}">#{}</a>', url, obj.parent_decision_id)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin[Delivery]):
    """Work handed to bot processes: waiting, claimed (once), done or expired."""

    list_display = ("trigger", "recipient", "kind", "status", "expires_at", "claimed_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("=recipient",)
    list_select_related = ("trigger",)
    list_per_page = 100
