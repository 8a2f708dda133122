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
    CORE = "core", "Pinned core block"
    DOSSIER = "dossier", "Dossier"
    HIGHLIGHT = "highlight", "Highlight (verbatim)"
    FACT = "fact", "Fact"
    LORE = "lore", "Group lore"
    ARCHIVE = "archive", "Archived message"
    EPOCH = "epoch", "Epoch summary"
    HEADING = "heading", "Section heading"
    GAP = "gap", "What a lens looked for and did not find (recorded, never shown)"


class Visibility(models.TextChoices):
    """Who may see a memory row: the guild it came from, or only the direct-message conversation it came from."""

    GUILD = "guild", "Guild: any turn in this guild"
    DM = "dm", "Direct message: never in a guild prompt"


class HighlightKind(models.TextChoices):
    """What kind of moment a verbatim highlight preserves."""

    QUOTE = "quote", "Quote"
    JOKE = "joke", "Joke that landed"
    HOT_TAKE = "hot-take", "Hot take"
    SELF_DISCLOSURE = "self-disclosure", "Self-disclosure"
    OPINION = "opinion", "Opinion"
    CALLBACK = "callback", "Callback"
    PHRASE = "phrase", "Memorable phrase"


class LoreKind(models.TextChoices):
    """What a piece of group lore describes about the group as a unit."""

    RIVALRY = "rivalry", "Who argues with whom"
    RUNNING_JOKE = "running-joke", "Running joke"
    VOCABULARY = "vocabulary", "Shared vocabulary"
    RITUAL = "ritual", "Ritual or habit"
    ALLIANCE = "alliance", "Who sides with whom"


class CoreBlockScope(models.TextChoices):
    """What a pinned core block is about: the persona, the guild, a channel or a user."""

    PERSONA = "persona", "Persona"
    GUILD = "guild", "Guild"
    CHANNEL = "channel", "Channel"
    USER = "user", "User"


class EpochStatus(models.TextChoices):
    """Where an epoch is in its life: closed and waiting for its summary, summarized, or failed."""

    CLOSED = "closed", "Closed, summary pending"
    SUMMARIZED = "summarized", "Summarized"
    FAILED = "failed", "Summary failed"


class ForgetStatus(models.TextChoices):
    """How a forget-me request went."""

    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ForgetRequester(models.TextChoices):
    """Who asked for a member to be forgotten."""

    MEMBER = "member", "The member, in chat"
    ADMIN = "admin", "An admin, in admin"


class EmbeddingProvider(models.TextChoices):
    """Where embedding vectors come from: the bundled local model or the gateway's embed purpose."""

    LOCAL = "local", "Local all-MiniLM-L6-v2 (offline)"
    GATEWAY = "gateway", "Gateway embed purpose (OpenAI-compatible)"
