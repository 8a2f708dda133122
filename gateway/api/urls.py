"""API routes of this app."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from gateway.api.views import BudgetEnvelopeViewSet, ToolInvocationViewSet, UsageEventViewSet, UsageSummaryView

router = SimpleRouter()
router.register("gateway/usage-events", UsageEventViewSet, basename="gateway-usage-event")
router.register("gateway/tool-calls", ToolInvocationViewSet, basename="gateway-tool-call")
router.register("gateway/budget-envelopes", BudgetEnvelopeViewSet, basename="gateway-budget-envelope")

urlpatterns: list[URLPattern | URLResolver] = [
    path("gateway/usage-summary/", UsageSummaryView.as_view(), name="gateway-usage-summary"),
    *router.urls,
]
