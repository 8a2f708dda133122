"""Fixtures of the observability tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from observability import capture
from observability.models import ErrorEvent
from tests.servers.project_server import project_server

DATABASE_FIXTURES = {"db", "transactional_db", "host_db", "dashboard_server"}


@pytest.fixture(autouse=True)
def no_errors_yet(request: pytest.FixtureRequest, django_db_blocker) -> None:
    """Start a database test without error rows: the capture writer commits on its own connection, so
    errors other tests logged (outside their rolled-back transactions) are still in the table."""
    capture.flush()
    if not (DATABASE_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker("django_db")):
        return
    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():
        ErrorEvent.objects.all().delete()


@pytest.fixture
def dashboard_server(transactional_db: Any) -> Iterator[str]:
    """The whole project's ASGI app under uvicorn, websockets on, on 127.0.0.1 and a free port; yields the URL."""
    with project_server(ws="websockets-sansio", name="dashboard-uvicorn") as url:
        yield url
