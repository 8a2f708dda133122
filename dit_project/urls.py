"""URL configuration: admin, dashboard, REST API and its schema, the OpenAI-compatible gateway, health, metrics."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from dit_project.errors import JSON_PREFIXES
from dit_project.health import health
from observability.views import metrics

api_patterns: list[URLPattern | URLResolver] = [
    path("token/", TokenObtainPairView.as_view(), name="token-obtain"),
    path("token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("bots.api.urls")),
    path("", include("dispositions.api.urls")),
    path("", include("gateway.api.urls")),
    path("", include("memory.api.urls")),
    path("", include("reactor.api.urls")),
    path("", include("observability.api.urls")),
    path("", include("steward.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("dashboard/", include("observability.dashboard.urls")),
    path("api/", include(api_patterns)),
    path("v1/", include("gateway.openai_urls")),
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: JSON under /api/ and /v1/, Django's page elsewhere."""
    if request.path.startswith(JSON_PREFIXES):
        body = {"error": {"code": "not_found", "message": f"No endpoint or object at {request.path}"}}
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: JSON under /api/ and /v1/ (the failure is logged by Django), Django's page elsewhere."""
    if request.path.startswith(JSON_PREFIXES):
        body = {"error": {"code": "server_error", "message": "The server failed; the error is logged"}}
        return JsonResponse(body, status=500)
    return defaults.server_error(request)


handler404 = "dit_project.urls.not_found"
handler500 = "dit_project.urls.server_error"
