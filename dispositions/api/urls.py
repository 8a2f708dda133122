"""API routes of the dispositions app."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from dispositions.api.views import (
    DecisionViewSet,
    DispositionViewSet,
    PersonaViewSet,
    PersonaWeightViewSet,
    SubagentRunViewSet,
)

router = SimpleRouter()
router.register("personas", PersonaViewSet, basename="persona")
router.register("dispositions", DispositionViewSet, basename="disposition")
router.register("persona-weights", PersonaWeightViewSet, basename="persona-weight")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("subagent-runs", SubagentRunViewSet, basename="subagent-run")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
