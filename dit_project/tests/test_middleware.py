"""The stock middleware run inline under ASGI behaves as Django's: cookies, headers, sessions saved."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import AsyncClient

from dit_project.middleware import InlineHooks


@pytest.mark.django_db(transaction=True)
async def test_an_async_page_gets_its_cookies_and_headers() -> None:
    response = await AsyncClient().get("/admin/login/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert "csrftoken" in response.cookies


@pytest.mark.django_db(transaction=True)
async def test_an_async_login_saves_its_session(owner) -> None:
    response = await AsyncClient().post(
        "/admin/login/?next=/admin/", {"username": "owner", "password": "owner-pass-123"}
    )
    assert response.status_code == 302, response.content[:500]
    key = response.cookies["sessionid"].value
    assert await Session.objects.filter(session_key=key).aexists()
    # The saved session is the signed-in one: the admin index opens with it.
    client = AsyncClient()
    client.cookies["sessionid"] = key
    assert (await client.get("/admin/")).status_code == 200


def test_the_inline_middlewares_are_the_ones_installed(settings) -> None:
    from django.utils.module_loading import import_string

    inline = [path for path in settings.MIDDLEWARE if issubclass(import_string(path), InlineHooks)]
    assert inline == [
        "dit_project.middleware.CommonMiddleware",
        "dit_project.middleware.AuthenticationMiddleware",
        "dit_project.middleware.MessageMiddleware",
    ]
