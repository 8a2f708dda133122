"""API views of the dashboard: one aggregate endpoint per chart of the page registry, and the live list.

Staff only, like the error list: costs, guilds and errors are operators' business. Each chart view is made
from its registry entry, so its path, its schema and the page that draws it cannot drift apart.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from observability.api.serializers import (
    DashboardChartSerializer,
    DashboardDecisionSerializer,
    DashboardDecisionsQuerySerializer,
    DashboardWindowSerializer,
)
from observability.dashboard.charts import window_ending_now
from observability.dashboard.pages import Chart
from observability.selectors import recent_decision_rows


class ChartView(APIView):
    """The base of every chart endpoint; `chart_view` makes one per registry entry."""

    permission_classes = [permissions.IsAdminUser]
    chart: Chart

    def answer(self, request: Request) -> Response:
        """The chart's data for the window the query asks for."""
        query = DashboardWindowSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = self.chart.read(window_ending_now(query.validated_data["days"]))
        return Response(DashboardChartSerializer(data).data)


def chart_view(chart: Chart) -> type[ChartView]:
    """The endpoint of one chart, documented with its title and summary."""

    @extend_schema(
        operation_id=f"dashboard_{chart.slug.replace('-', '_')}",
        summary=chart.title,
        description=chart.summary,
        tags=["dashboard"],
        parameters=[DashboardWindowSerializer],
        responses=DashboardChartSerializer,
    )
    def get(self: ChartView, request: Request) -> Response:
        return self.answer(request)

    name = "".join(part.capitalize() for part in chart.slug.split("-")) + "ChartView"
    return type(name, (ChartView,), {"chart": chart, "__doc__": chart.summary, "get": get})


class LiveDecisionsView(APIView):
    """The latest decisions, newest first, in the shape the live websocket sends."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="dashboard_decisions",
        tags=["dashboard"],
        parameters=[DashboardDecisionsQuerySerializer],
        responses=DashboardDecisionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = DashboardDecisionsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = recent_decision_rows(limit=query.validated_data["limit"])
        return Response(DashboardDecisionSerializer(rows, many=True).data)
