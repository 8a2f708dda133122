"""The dashboard's page routes, under /dashboard/."""

from __future__ import annotations

from django.urls import URLPattern, path

from observability.dashboard import views

app_name = "dashboard"

urlpatterns: list[URLPattern] = [
    path("", views.live, name="live"),
    path("<slug:slug>/", views.chart_page, name="page"),
]
