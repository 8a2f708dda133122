"""API serializers of the observability app."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from observability.dashboard.charts import ChartData
from observability.models import ErrorEvent


class ErrorEventSerializer(serializers.ModelSerializer[ErrorEvent]):
    class Meta:
        model = ErrorEvent
        fields = [
            "id",
            "fingerprint",
            "exception_type",
            "location",
            "message",
            "source",
            "logger_name",
            "count",
            "first_seen",
            "last_seen",
            "last_traceback",
            "context",
        ]
        read_only_fields = fields


class DashboardWindowSerializer(serializers.Serializer[Any]):
    """The window a dashboard chart covers."""

    days = serializers.IntegerField(min_value=1, max_value=90, default=7, help_text="The last N days (1 to 90).")


class DashboardSeriesSerializer(serializers.Serializer[Any]):
    """One series of a chart (Chart.js's dataset: the names are the library's, hence the ignores)."""

    # The metaclass takes declared fields off the class, so these shadow nothing at run time.
    label = serializers.CharField()  # type: ignore[assignment]
    data = serializers.ListField(child=serializers.FloatField())  # type: ignore[assignment]


class DashboardChartSerializer(serializers.Serializer[Any]):
    """A chart: x-axis labels, one series per legend entry, the unit, and a table where the chart has one."""

    labels = serializers.ListField(child=serializers.CharField())
    datasets = serializers.SerializerMethodField()
    unit = serializers.CharField()
    rows = serializers.ListField(child=serializers.DictField())

    @extend_schema_field(DashboardSeriesSerializer(many=True))
    def get_datasets(self, chart: ChartData) -> list[dict[str, Any]]:
        return [{"label": series.label, "data": series.data} for series in chart.series]


class DashboardScoreSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    score = serializers.FloatField()
    probability = serializers.FloatField()


class DashboardDecisionSerializer(serializers.Serializer[Any]):
    """A decision as the live page shows it; the websocket sends the same shape."""

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    guild_id = serializers.CharField()
    channel_id = serializers.CharField()
    bot_id = serializers.IntegerField()
    trigger_kind = serializers.CharField()
    trigger_id = serializers.CharField(allow_null=True)
    chosen_slug = serializers.CharField()
    top_scores = DashboardScoreSerializer(many=True)
    router_latency_ms = serializers.FloatField()
    beat_count = serializers.IntegerField()
    latency_ms = serializers.FloatField(allow_null=True)
    cost_usd = serializers.CharField()
    model_used = serializers.CharField()
    finished = serializers.BooleanField()


class DashboardDecisionsQuerySerializer(serializers.Serializer[Any]):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50, help_text="How many, newest first.")
