"""Factories for memory tests: inbound messages and transcript rows."""

from __future__ import annotations

import factory
from django.utils import timezone

from memory.choices import TranscriptRole
from memory.ingest import IngestMessage
from memory.models import Transcript, TranscriptRevision

GUILD = "g-100"
GENERAL = "c-general"
RANDOM = "c-random"


class IngestMessageFactory(factory.Factory[IngestMessage]):
    """A guild message in #general by alice, as the host hands it to ingest."""

    class Meta:
        model = IngestMessage

    platform = "discord"
    message_id = factory.Sequence(lambda n: f"m-{n}")
    guild_id = GUILD
    channel_id = GENERAL
    channel_name = "general"
    author_id = "u-alice"
    author_display_name = "alice"
    content = factory.Sequence(lambda n: f"message number {n}")
    created_at = factory.LazyFunction(timezone.now)

    class Params:
        dm = factory.Trait(is_dm=True, guild_id="", channel_id="dm-alice", channel_name="")


class TranscriptFactory(factory.django.DjangoModelFactory[Transcript]):
    """A stored transcript row; the same defaults as IngestMessageFactory."""

    class Meta:
        model = Transcript

    platform = "discord"
    message_id = factory.Sequence(lambda n: f"t-{n}")
    guild_id = GUILD
    channel_id = GENERAL
    channel_name = "general"
    is_dm = False
    author_id = "u-alice"
    author_display_name = "alice"
    author_is_bot = False
    role = TranscriptRole.USER
    content = factory.Sequence(lambda n: f"transcript line {n}")
    mentions = factory.LazyFunction(list)
    created_at = factory.LazyFunction(timezone.now)

    class Params:
        dm = factory.Trait(is_dm=True, guild_id="", channel_id="dm-alice", channel_name="")
        bot = factory.Trait(author_id="b-dit", author_display_name="dit", author_is_bot=True, role=TranscriptRole.BOT)


class TranscriptRevisionFactory(factory.django.DjangoModelFactory[TranscriptRevision]):
    """An edit of a transcript line."""

    class Meta:
        model = TranscriptRevision

    transcript = factory.SubFactory(TranscriptFactory)
    content = factory.Sequence(lambda n: f"edited wording {n}")
    edited_at = factory.LazyFunction(timezone.now)
