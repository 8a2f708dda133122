"""Fixtures shared by the reactor tests."""

from __future__ import annotations

from reactor.tests.fixtures import announced_events

__all__ = ["announced_events"]
