"""The dashboard's websocket routes (mounted by dit_project/asgi.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from observability.dashboard.consumers import DecisionFeedConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/dashboard/decisions/", DecisionFeedConsumer.as_asgi(), name="dashboard-decisions-feed"),
]
