"""API routes of the steward app."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from steward.api.views import MemberThreatViewSet

router = SimpleRouter()
router.register("member-threats", MemberThreatViewSet, basename="member-threat")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
