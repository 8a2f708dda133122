"""Enumerations of the dispositions app: the seven dimensions, triggers and research personas."""

from __future__ import annotations

from django.db import models

from memory.choices import ContextStrategyId


class ReasoningDepth(models.TextChoices):
    """How much the turn thinks; drives the synthesizer's model tier."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


# The context strategies are memory's (one module per strategy lives there): one list, declared once.
ContextStrategy = ContextStrategyId

# Lenses that carry the guild's live window: an addressed turn explores only among these off-axis, so the
# reply still sees the conversation it answers.
LIVE_WINDOW_STRATEGIES: tuple[str, ...] = (
    ContextStrategy.LIVE,
    ContextStrategy.LIVE_DOSSIERS,
    ContextStrategy.LIVE_LORE,
    ContextStrategy.LIVE_LORE_DOSSIERS,
    ContextStrategy.CALLBACK_PRIMED,
    ContextStrategy.FULL_RICH,
)


class Voice(models.TextChoices):
    """The register the synthesizer speaks in."""

    PLAYFUL = "playful", "Playful"
    SHARP = "sharp", "Sharp"
    SINCERE = "sincere", "Sincere"
    CONTRARIAN = "contrarian", "Contrarian"
    NOSTALGIC = "nostalgic", "Nostalgic"
    DEADPAN = "deadpan", "Deadpan"
    ENCOURAGING = "encouraging", "Encouraging"
    INDIFFERENT = "indifferent", "Indifferent"
    PRESENT_REACTION = "present-reaction", "Present reaction"
    OBSERVATIONAL = "observational", "Observational"
    FACT_DROP = "fact-drop", "Fact drop"


class OutputShape(models.TextChoices):
    """What the dispatcher sends."""

    SILENT = "silent", "Silent"
    REACT_ONLY = "react-only", "React only"
    SINGLE_LINE = "single-line", "Single line"
    MULTI_LINE = "multi-line", "Multi line"
    BURST = "burst", "Burst"


class SearchPosture(models.TextChoices):
    """What the research personas look for."""

    NONE = "none", "None"
    BROAD_SCAN = "broad-scan", "Broad scan"
    PERSON_DEEP = "person-deep", "Person deep"
    CALLBACK_HUNT = "callback-hunt", "Callback hunt"
    CONTRADICTION_HUNT = "contradiction-hunt", "Contradiction hunt"
    SETUP_PAYOFF = "setup-payoff", "Setup / payoff"


class RiskAppetite(models.TextChoices):
    """Whether roasts and hot takes are allowed."""

    SAFE = "safe", "Safe"
    SPICY = "spicy", "Spicy"


class FollowupBias(models.TextChoices):
    """What a self-followup turn is for."""

    GO_DEEPER = "go-deeper", "Go deeper"
    SELF_CORRECT = "self-correct", "Self correct"
    CONTRARIAN_SELF = "contrarian-self", "Contrarian self"
    ADD_NUANCE = "add-nuance", "Add nuance"
    CALLBACK_LATER = "callback-later", "Callback later"


class TriggerKind(models.TextChoices):
    """What started the turn."""

    REACTIVE = "reactive", "Reactive (inbound message)"
    SPECULATIVE = "speculative", "Speculative (unprompted)"
    SELF_FOLLOWUP = "self_followup", "Self-followup"


class AddressKind(models.TextChoices):
    """How the inbound message addressed the bot."""

    MENTION = "mention", "Mention"
    REPLY = "reply", "Reply to the bot"
    NAME = "name", "Called by name"
    THREAD = "thread", "In the bot's thread"
    NONE = "none", "Not addressed"


class ResearchPersona(models.TextChoices):
    """The research subagents a disposition may fan out to."""

    MEMORY_ARCHEOLOGIST = "memory-archeologist", "Memory archeologist"
    PARTICIPANT_PROFILER = "participant-profiler", "Participant profiler"
    TOPIC_RESEARCHER = "topic-researcher", "Topic researcher"
    COMEDIAN = "comedian", "Comedian"
    CONTRARIAN = "contrarian", "Contrarian"


class InterruptionHandling(models.TextChoices):
    """What the host did when a human spoke during the turn's output."""

    NOT_INTERRUPTED = "", "Not interrupted"
    ABORTED = "aborted", "Aborted the rest"
    FOLDED = "folded", "Folded the interruption in"
    CONTINUED = "continued", "Continued as planned"


class Register(models.TextChoices):
    """The tone of the message a turn answers, as the host read it (blank: nothing in particular)."""

    NEUTRAL = "", "Neutral"
    DISTRESS = "distress", "Distress (a loss, a bad day)"
    GRATITUDE = "gratitude", "Gratitude"
    TEASE_INVITE = "tease-invite", "An invitation to be teased"
    HOSTILE = "hostile", "Hostility toward the bot"


class QuestionKind(models.TextChoices):
    """What a question asks for, as the host read it (blank: the turn answers no question)."""

    NONE = "", "No question"
    FACT = "fact", "A plain fact"
    EXPLAIN = "explain", "An explanation"
    OPINION = "opinion", "An opinion"
    SETTLE = "settle", "Settling a disagreement"
    PERSONAL = "personal", "About the people in the chat"


class ReceptionKind(models.TextChoices):
    """How a bot's message landed: someone reacted, replied, quoted it later, or nobody did anything."""

    REACTION = "reaction", "Reaction"
    REPLY = "reply", "Reply"
    QUOTE = "quote", "Quote"
    SILENCE = "silence", "Silence"
