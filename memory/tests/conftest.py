"""Fixtures shared by the memory tests."""

from __future__ import annotations

from reactor.tests.fixtures import announced_events

__all__ = ["announced_events"]
