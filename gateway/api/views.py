"""API views of the gateway: usage events, tool calls and the usage summary (read), budget envelopes (staff writes)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dit_project.api.filters import UtcIsoDateTimeFilter
from gateway.api.serializers import (
    BudgetEnvelopeInputSerializer,
    BudgetEnvelopeSerializer,
    ToolInvocationSerializer,
    UsageEventSerializer,
    UsageSummaryQuerySerializer,
    UsageSummarySerializer,
)
from gateway.choices import Outcome, Purpose
from gateway.errors import BadRequest
from gateway.models import BudgetEnvelope, ToolInvocation, UsageEvent
from gateway.selectors import usage_event_list, usage_summary
from gateway.services import budget_envelope_create, budget_envelope_update

SUMMARY_DEFAULT_WINDOW = timedelta(days=1)


class UsageEventFilter(django_filters.FilterSet):
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    purpose = django_filters.ChoiceFilter(choices=Purpose.choices)
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)

    class Meta:
        model = UsageEvent
        fields = ["guild_id", "bot_id", "purpose", "model", "provider", "outcome", "request_id"]


class UsageEventViewSet(viewsets.ReadOnlyModelViewSet[UsageEvent]):
    """Every model call attempt with its tokens, cost and outcome; filter by guild, purpose and time."""

    serializer_class = UsageEventSerializer
    filterset_class = UsageEventFilter
    ordering_fields = ["created_at", "cost_usd", "latency_ms"]

    def get_queryset(self) -> QuerySet[UsageEvent]:
        return usage_event_list()


class ToolInvocationFilter(django_filters.FilterSet):
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = ToolInvocation
        fields = ["guild_id", "bot_id", "purpose", "decision_id", "task_id", "tool", "ok"]


class ToolInvocationViewSet(viewsets.ReadOnlyModelViewSet[ToolInvocation]):
    """Every tool call a model made, with its decision or task; filter by decision, tool and outcome."""

    serializer_class = ToolInvocationSerializer
    filterset_class = ToolInvocationFilter
    ordering_fields = ["created_at", "latency_ms"]
    queryset = ToolInvocation.objects.order_by("-created_at", "-id")


class BudgetEnvelopeFilter(django_filters.FilterSet):
    class Meta:
        model = BudgetEnvelope
        fields = ["guild_id"]


class BudgetEnvelopeViewSet(viewsets.ModelViewSet[BudgetEnvelope]):
    """Budget periods per guild: anyone signed in reads, staff open and change them."""

    serializer_class = BudgetEnvelopeSerializer
    filterset_class = BudgetEnvelopeFilter
    ordering_fields = ["period_start", "guild_id"]
    queryset = BudgetEnvelope.objects.order_by("guild_id", "-period_start")

    @extend_schema(request=BudgetEnvelopeInputSerializer, responses=BudgetEnvelopeSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open a budget period (staff)."""
        data = BudgetEnvelopeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        envelope = budget_envelope_create(**data.validated_data)
        return Response(BudgetEnvelopeSerializer(envelope).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BudgetEnvelopeInputSerializer, responses=BudgetEnvelopeSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change an envelope's allocation or period (staff); the guild stays."""
        envelope = self.get_object()
        partial = bool(kwargs.get("partial", False))
        data = BudgetEnvelopeInputSerializer(envelope, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        fields = {name: value for name, value in data.validated_data.items() if name != "guild_id"}
        envelope = budget_envelope_update(envelope=envelope, **fields)
        return Response(BudgetEnvelopeSerializer(envelope).data)


class UsageSummaryView(APIView):
    """Cost and tokens per purpose and model over a window (default: the last 24 hours)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="ISO datetime; default 24 hours before `until`"),
            OpenApiParameter("until", str, description="ISO datetime; default now"),
            OpenApiParameter("guild_id", str),
            OpenApiParameter("bot_id", int),
        ],
        responses=UsageSummarySerializer,
    )
    def get(self, request: Request) -> Response:
        """The summary rows and their total for the window."""
        query = UsageSummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        until = query.validated_data.get("until") or timezone.now()
        since = query.validated_data.get("since") or until - SUMMARY_DEFAULT_WINDOW
        if since >= until:
            raise BadRequest("since must be before until", param="since")
        rows = usage_summary(
            since=since,
            until=until,
            guild_id=query.validated_data.get("guild_id"),
            bot_id=query.validated_data.get("bot_id"),
        )
        total = sum((row.cost_usd for row in rows), Decimal(0))
        summary = {"since": since, "until": until, "total_cost_usd": total, "rows": rows}
        return Response(UsageSummarySerializer(summary).data)
