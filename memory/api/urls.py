"""API routes of the memory app (staff only)."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from memory.api.views import (
    CoreBlockViewSet,
    DossierViewSet,
    EpochViewSet,
    FactViewSet,
    ForgetRequestViewSet,
    GroupLoreViewSet,
    HighlightViewSet,
    SearchView,
)

router = SimpleRouter()
router.register("memory/dossiers", DossierViewSet, basename="memory-dossier")
router.register("memory/highlights", HighlightViewSet, basename="memory-highlight")
router.register("memory/facts", FactViewSet, basename="memory-fact")
router.register("memory/lore", GroupLoreViewSet, basename="memory-lore")
router.register("memory/epochs", EpochViewSet, basename="memory-epoch")
router.register("memory/core-blocks", CoreBlockViewSet, basename="memory-core-block")
router.register("memory/forget-requests", ForgetRequestViewSet, basename="memory-forget-request")

urlpatterns: list[URLPattern | URLResolver] = [
    path("memory/search/", SearchView.as_view(), name="memory-search"),
    *router.urls,
]
