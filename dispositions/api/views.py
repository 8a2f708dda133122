"""Dispositions API: personas, dispositions and weights (staff writes), decisions and their aggregate (reads)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from dispositions.api.filters import (
    DecisionFilter,
    DispositionFilter,
    PersonaFilter,
    PersonaWeightFilter,
    SubagentRunFilter,
)
from dispositions.api.serializers import (
    AggregateQuerySerializer,
    AggregateSerializer,
    DecisionDetailSerializer,
    DecisionSerializer,
    DispositionSerializer,
    IgnoreRatesSerializer,
    PersonaSerializer,
    PersonaWeightSerializer,
    ReceptionAggregateSerializer,
    SubagentRunSerializer,
)
from dispositions.models import Disposition, DispositionDecision, Persona, PersonaDispositionWeight, SubagentRun
from dispositions.selectors import decision_aggregate, reception_aggregate, subagent_ignore_rates, with_reception


@extend_schema_view(list=extend_schema(summary="List personas with their disposition weights"))
class PersonaViewSet(viewsets.ModelViewSet[Persona]):
    """Personas: the constraint surface and the weights the router multiplies by."""

    queryset = Persona.objects.prefetch_related(
        Prefetch(
            "disposition_weights",
            queryset=PersonaDispositionWeight.objects.select_related("disposition").order_by("disposition__slug"),
        )
    )
    serializer_class = PersonaSerializer
    filterset_class = PersonaFilter
    ordering_fields = ["name", "created_at"]


@extend_schema_view(list=extend_schema(summary="List dispositions"))
class DispositionViewSet(viewsets.ModelViewSet[Disposition]):
    """Dispositions: the seven dimensions, fan-out plan and self-followup hint."""

    queryset = Disposition.objects.all()
    serializer_class = DispositionSerializer
    filterset_class = DispositionFilter
    ordering_fields = ["slug", "name", "created_at"]


@extend_schema_view(list=extend_schema(summary="List persona disposition weights"))
class PersonaWeightViewSet(viewsets.ModelViewSet[PersonaDispositionWeight]):
    """One persona's weight for one disposition (1.0 neutral, 0 never)."""

    queryset = PersonaDispositionWeight.objects.select_related("disposition").order_by(
        "persona_id", "disposition__slug"
    )
    serializer_class = PersonaWeightSerializer
    filterset_class = PersonaWeightFilter
    ordering_fields = ["weight", "persona"]


@extend_schema_view(
    list=extend_schema(summary="List routing decisions"),
    retrieve=extend_schema(summary="One routing decision with its router inputs"),
)
class DecisionViewSet(viewsets.ReadOnlyModelViewSet[DispositionDecision]):
    """The router's decision log, newest first."""

    queryset = DispositionDecision.objects.all()
    filterset_class = DecisionFilter
    ordering_fields = ["created_at", "router_latency_ms"]

    def get_queryset(self) -> QuerySet[DispositionDecision]:
        decisions = with_reception(super().get_queryset())
        if self.action == "list":
            # The replay inputs are the bulk of a row; only the detail view returns them.
            decisions = decisions.defer("router_inputs")
        return decisions

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return DecisionDetailSerializer if self.action == "retrieve" else DecisionSerializer

    @extend_schema(
        summary="Decisions per disposition and per output shape over a time window",
        parameters=[AggregateQuerySerializer],
        responses=AggregateSerializer,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def aggregate(self, request: Request) -> Response:
        """Counts per chosen disposition and per output shape over `?since=&until=` (default: the last day)."""
        query = AggregateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = decision_aggregate(**query.validated_data)
        return Response(
            AggregateSerializer(
                {
                    "since": result.since,
                    "until": result.until,
                    "total": result.total,
                    "by_disposition": [{"disposition": slug, "count": n} for slug, n in result.by_disposition],
                    "by_output_shape": [{"output_shape": shape, "count": n} for shape, n in result.by_output_shape],
                }
            ).data
        )

    @extend_schema(
        summary="How the turns of each disposition landed over a time window",
        parameters=[AggregateQuerySerializer],
        responses=ReceptionAggregateSerializer,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def reception(self, request: Request) -> Response:
        """Per disposition, turns that spoke and how many got each reception, over `?since=&until=`."""
        query = AggregateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(ReceptionAggregateSerializer(reception_aggregate(**query.validated_data)).data)


@extend_schema_view(list=extend_schema(summary="List research subagent runs"))
class SubagentRunViewSet(viewsets.ReadOnlyModelViewSet[SubagentRun]):
    """Research persona runs of each turn's fan-out."""

    queryset = SubagentRun.objects.all()
    serializer_class = SubagentRunSerializer
    filterset_class = SubagentRunFilter
    ordering_fields = ["created_at", "latency_ms", "uptake"]

    @extend_schema(
        summary="Each research persona's ignore rate over a time window (how often the reply left its payload unused)",
        parameters=[AggregateQuerySerializer],
        responses=IgnoreRatesSerializer,
    )
    @action(detail=False, methods=["get"], url_path="ignore-rates", filter_backends=[], pagination_class=None)
    def ignore_rates(self, request: Request) -> Response:
        """Per persona over `?since=&until=` (default: the last day): runs, failures, measured, ignored, rate."""
        query = AggregateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = query.validated_data
        rates = subagent_ignore_rates(**window)
        return Response(
            IgnoreRatesSerializer(
                {
                    "since": window["since"],
                    "until": window["until"],
                    "personas": [
                        {
                            "persona": rate.persona,
                            "runs": rate.runs,
                            "failed": rate.failed,
                            "measured": rate.measured,
                            "ignored": rate.ignored,
                            "ignore_rate": rate.ignore_rate,
                            "mean_uptake": rate.mean_uptake,
                        }
                        for rate in rates
                    ],
                }
            ).data
        )
