"""API routes of the observability app: errors, and the dashboard's endpoints under dashboard/."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from observability.api.dashboard import LiveDecisionsView, chart_view
from observability.api.views import ErrorEventViewSet
from observability.dashboard.pages import CHARTS

router = SimpleRouter()
router.register("errors", ErrorEventViewSet, basename="error-event")

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path("dashboard/decisions/", LiveDecisionsView.as_view(), name="dashboard-decisions"),
    *(
        path(f"dashboard/{chart.slug}/", chart_view(chart).as_view(), name=f"dashboard-{chart.slug}")
        for chart in CHARTS.values()
    ),
]
