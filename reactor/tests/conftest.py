"""Fixtures shared by the reactor tests: the probe triggers and their tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reactor.tests import probe
from reactor.tests.fixtures import announced_events

__all__ = ["announced_events", "probe_tables"]


@pytest.fixture(scope="session")
def probe_tables(django_db_setup, django_db_blocker) -> None:
    """The probe tables exist in the test database (made once, outside any test's transaction)."""
    with django_db_blocker.unblock():
        probe.ensure_tables()


@pytest.fixture
def probes(probe_tables, db) -> Iterator[None]:
    """Probe tables for a test whose writes roll back with it (recorded runs, which commit, are emptied)."""
    yield
    probe.clear_tables()
    probe.close_side_connection()


@pytest.fixture
def committed_probes(probe_tables, transactional_db) -> Iterator[None]:
    """Probe tables for a test whose writes commit (seen by other processes); emptied afterwards."""
    probe.clear_tables()
    yield
    probe.clear_tables()
    probe.close_side_connection()
