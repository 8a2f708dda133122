"""Factories for reactor tests."""

from __future__ import annotations

import factory

from reactor.choices import EventKind
from reactor.models import ReactorEvent


class ReactorEventFactory(factory.django.DjangoModelFactory[ReactorEvent]):
    """A message.ingested event in a guild channel."""

    class Meta:
        model = ReactorEvent

    kind = EventKind.MESSAGE_INGESTED
    payload = factory.LazyFunction(lambda: {"transcript_id": 1})
    guild_id = "g-100"
    channel_id = "c-general"
