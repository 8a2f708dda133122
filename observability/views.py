"""`/metrics`: Prometheus's text format, for staff or a scraper holding DIT_METRICS_TOKEN."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from observability.metrics import metrics_text, scraper_allowed


def metrics(request: HttpRequest) -> HttpResponse:
    """The deployment's metrics; 401 without a staff session or the token."""
    if not scraper_allowed(request):
        body = {
            "error": {
                "code": "not_authenticated",
                "message": "Sign in as staff, or send Authorization: Bearer <DIT_METRICS_TOKEN>",
            }
        }
        response = JsonResponse(body, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
