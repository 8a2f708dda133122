"""The API docs (Swagger UI) load everything from the project itself, so they work offline."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def test_the_api_docs_page_loads_its_scripts_and_styles_from_the_project(member_client):
    response = member_client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assets = [url for url in ASSET.findall(page) if url.endswith((".js", ".css", ".png"))]
    assert assets, page[:500]
    for url in assets:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/").split("?")[0]) is not None, url
    assert "cdn.jsdelivr.net" not in page
    assert not re.search(r"""(?:src|href)=["']https?://""", page)


def test_the_swagger_ui_bundle_is_served_by_the_app_itself():
    response = Client().get("/api/docs/")
    script = next(url for url in ASSET.findall(response.content.decode()) if url.endswith("swagger-ui-bundle.js"))

    assert finders.find(script.removeprefix("/static/")) is not None
