"""Fixtures of the dispositions tests: the default persona loaded the way an operator loads it."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import connections

from dispositions.models import Persona


@pytest.fixture
def default_persona(db) -> Persona:
    """The shipped fixture `default_persona`, loaded with loaddata."""
    call_command("loaddata", "default_persona", verbosity=0)
    return Persona.objects.get(name="Dit")


@pytest.fixture
async def async_db_connections(transactional_db):
    """A transactional database for async tests; closes the connection the ORM's worker thread opened."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture(autouse=True)
def own_cache_prefix(settings):
    """Redis is shared between test runs: API throttles and caches here use keys of their own."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": "dit-test-dispositions"} for name, config in settings.CACHES.items()
    }
