"""The dashboard's pages: server-rendered shells that fetch their data from /api/dashboard/ (staff only)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from observability.dashboard.pages import PAGES, PAGES_BY_SLUG


@staff_member_required
def live(request: HttpRequest) -> HttpResponse:
    """Decisions as they are made, over the websocket."""
    return render(request, "observability/dashboard/live.html", {"pages": PAGES, "current": "live"})


@staff_member_required
def chart_page(request: HttpRequest, slug: str) -> HttpResponse:
    """One page of charts from the registry."""
    page = PAGES_BY_SLUG.get(slug)
    if page is None:
        raise Http404(f"No dashboard page {slug}")
    return render(request, "observability/dashboard/charts.html", {"pages": PAGES, "page": page, "current": page.slug})
