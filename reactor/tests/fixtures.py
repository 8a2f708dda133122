"""Reactor fixtures for any app's tests: import them into that app's tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reactor.models import ReactorEvent
from reactor.signals import event_committed


@pytest.fixture
def announced_events() -> Iterator[list[ReactorEvent]]:
    """Reactor events announced to listeners (after commit), in order."""
    heard: list[ReactorEvent] = []

    def listener(sender: Any, event: ReactorEvent, **kwargs: Any) -> None:
        heard.append(event)

    event_committed.connect(listener, weak=False)
    yield heard
    event_committed.disconnect(listener)
