"""Enumerations of the memory app; other apps (dispositions) import the strategy ids from here."""

from __future__ import annotations

from django.db import models


class TranscriptRole(models.TextChoices):
    """Who spoke a transcript line: a person, a bot, or the platform itself."""

    USER = "user", "User"
    BOT = "bot", "Bot"
    SYSTEM = "system", "System"


class ContextStrategyId(models.TextChoices):
    """The context lenses a disposition can pick; each assembles a different context for the synthesizer."""

    NONE = "none", "None: system prompt only, no memory"
    NARROW_LIVE = "narrow-live", "Narrow live: last few messages of the current channel"
    LIVE = "live", "Live: guild-wide recent messages, channel-tagged, current channel weighted"
    LIVE_DOSSIERS = "live+dossiers", "Live + dossiers of present users"
    LIVE_LORE = "live+lore", "Live + group lore"
    LIVE_LORE_DOSSIERS = "live+lore+dossiers", "Live + lore + dossiers"
    ARCHIVE_TOPIC_DEEP = "archive-topic-deep", "Archive, topic deep: vector search on the current topic"
    ARCHIVE_PERSON_DEEP = "archive-person-deep", "Archive, person deep: one person's statements on the topic"
    EPOCHS_ONLY = "epochs-only", "Epochs only: recent epoch summaries, no raw messages"
    TIME_SHIFTED = "time-shifted", "Time shifted: same channels at a similar time of day in past weeks"
    CROSS_CHANNEL_SIMILAR = "cross-channel-similar", "Cross-channel similar: other channels on similar topics"
    CONTRASTING = "contrasting", "Contrasting: where current speakers disagreed before"
    SERENDIPITY = "serendipity", "Serendipity: a random archive sample"
    UNANSWERED = "unanswered", "Unanswered: unresolved threads from recent memory"
    BOT_HISTORY = "bot-history", "Bot history: recent bot turns and how they landed"
    CALLBACK_PRIMED = "callback-primed", "Callback primed: a flagged ripe callback first"
    FULL_RICH = "full-rich", "Full rich: live, dossiers, lore, archive matches and epochs"


class ContextItemKind(models.TextChoices):
    """What a piece of assembled context is; each memory layer adds its own kind."""

    MESSAGE = "message", "Message"
