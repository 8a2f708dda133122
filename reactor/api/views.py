"""API views of the reactor: events, triggers and follow-ups to browse, lineage, counts, requeue (staff)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reactor.api.serializers import (
    LineageNodeSerializer,
    ReactorCountsSerializer,
    ReactorEventSerializer,
    SelfFollowupScheduleSerializer,
    TriggerSerializer,
)
from reactor.choices import EventKind, FollowupStatus, TriggerStatus
from reactor.lineage import event_lineage, trigger_lineage
from reactor.models import ReactorEvent, SelfFollowupSchedule, Trigger
from reactor.selectors import event_list, followup_list, reactor_counts, trigger_list
from reactor.services import trigger_requeue


class EventFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=EventKind.choices)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = ReactorEvent
        fields = ["kind", "guild_id", "channel_id"]


class ReactorEventViewSet(viewsets.ReadOnlyModelViewSet[ReactorEvent]):
    """The append-only event log; `lineage` shows what an event caused."""

    serializer_class = ReactorEventSerializer
    filterset_class = EventFilter
    ordering_fields = ["id", "created_at"]

    def get_queryset(self) -> QuerySet[ReactorEvent]:
        return event_list()

    @extend_schema(responses=LineageNodeSerializer)
    @action(detail=True, methods=["get"])
    def lineage(self, request: Request, pk: str | None = None) -> Response:
        """The triggers this event caused, the decisions they produced and the follow-ups those scheduled."""
        return Response(event_lineage(self.get_object()).as_dict())


class TriggerFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TriggerStatus.choices)
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lte")

    class Meta:
        model = Trigger
        fields = ["status", "kind", "mode", "guild_id", "channel_id", "dedupe_key", "parent_event"]


class TriggerViewSet(viewsets.ReadOnlyModelViewSet[Trigger]):
    """Triggers and their state; `?status=dead` lists the dead letters, which staff may requeue."""

    serializer_class = TriggerSerializer
    filterset_class = TriggerFilter
    ordering_fields = ["created_at", "due_at", "finished_at"]

    def get_queryset(self) -> QuerySet[Trigger]:
        return trigger_list()

    @extend_schema(responses=LineageNodeSerializer)
    @action(detail=True, methods=["get"])
    def lineage(self, request: Request, pk: str | None = None) -> Response:
        """The chain this trigger belongs to, from the event that started it."""
        return Response(trigger_lineage(self.get_object()).as_dict())

    @extend_schema(request=None, responses=TriggerSerializer)
    @action(detail=True, methods=["post"])
    def requeue(self, request: Request, pk: str | None = None) -> Response:
        """Give a dead or cancelled trigger fresh attempts, due now (staff)."""
        trigger = trigger_requeue(trigger_id=self.get_object().pk)
        return Response(TriggerSerializer(trigger).data)


class FollowupFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FollowupStatus.choices)

    class Meta:
        model = SelfFollowupSchedule
        fields = ["status", "bias", "bot_id", "guild_id", "channel_id", "parent_decision_id"]


class SelfFollowupScheduleViewSet(viewsets.ReadOnlyModelViewSet[SelfFollowupSchedule]):
    """Self-followups: scheduled, fired, downgraded, aborted (with the reason), expired."""

    serializer_class = SelfFollowupScheduleSerializer
    filterset_class = FollowupFilter
    ordering_fields = ["created_at", "scheduled_for"]

    def get_queryset(self) -> QuerySet[SelfFollowupSchedule]:
        return followup_list()


class ReactorCountsView(APIView):
    """Counts by status for dashboards: triggers, follow-ups, deliveries, dead letters per kind."""

    @extend_schema(responses=ReactorCountsSerializer)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The counts now."""
        return Response(ReactorCountsSerializer(asdict(reactor_counts())).data)
