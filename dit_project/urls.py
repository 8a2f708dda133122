"""URL configuration: admin, the REST API with its schema, the OpenAI-compatible gateway, health."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from dit_project.health import health

api_patterns: list[URLPattern | URLResolver] = [
    path("token/", TokenObtainPairView.as_view(), name="token-obtain"),
    path("token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("bots.api.urls")),
    path("", include("dispositions.api.urls")),
    path("", include("gateway.api.urls")),
    path("", include("reactor.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("v1/", include("gateway.openai_urls")),
    path("health", health, name="health"),
]
