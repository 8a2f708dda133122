"""API routes of the reactor."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from reactor.api.views import ReactorCountsView, ReactorEventViewSet, SelfFollowupScheduleViewSet, TriggerViewSet

router = SimpleRouter()
router.register("reactor/events", ReactorEventViewSet, basename="reactor-event")
router.register("reactor/triggers", TriggerViewSet, basename="reactor-trigger")
router.register("reactor/followups", SelfFollowupScheduleViewSet, basename="reactor-followup")

urlpatterns: list[URLPattern | URLResolver] = [
    path("reactor/counts/", ReactorCountsView.as_view(), name="reactor-counts"),
    *router.urls,
]
