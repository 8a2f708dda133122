"""Values of the research fan-out: what a persona is, what it is told, and what one run of it returned."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from memory.context import ContextItem, ContextScope

__all__ = ["Brief", "Material", "Research", "ResearchPersonaDef", "SubagentOutcome"]

MemoryReads = Callable[[ContextScope], Sequence[ContextItem]]
"""A persona's memory reads: memory's gathering functions over the turn's scope (run on a database thread)."""


@dataclass(frozen=True, slots=True)
class Brief:
    """What every persona of a turn is told: the message it answers, the topic, the disposition's register."""

    scope: ContextScope
    message: str
    answering: str
    topic: str
    voice: str
    search_posture: str
    risk_appetite: str
    bot_id: int
    guild_id: str | None

    def as_input(self) -> dict[str, Any]:
        """The run's `input_payload`: the brief without the scope's transcript."""
        return {
            "message": self.message,
            "topic": self.topic,
            "voice": self.voice,
            "search_posture": self.search_posture,
            "risk_appetite": self.risk_appetite,
            "guild_id": self.scope.guild_id,
            "channel_id": self.scope.channel_id,
            "requester_id": self.scope.requester_id,
        }


@dataclass(frozen=True, slots=True)
class Material:
    """What a persona's memory reads found, inside the privacy boundary: rendered lines and their sources."""

    text: str
    sources: tuple[str, ...] = ()
    dropped_by_boundary: int = 0

    @property
    def empty(self) -> bool:
        """Whether memory had nothing for this persona."""
        return not self.sources


NO_MATERIAL = Material(text="")


@dataclass(frozen=True, slots=True)
class ResearchPersonaDef:
    """One research persona: its prompt, the memory reads it uses, the JSON Schema of what it returns."""

    name: str
    prompt: str
    schema: Mapping[str, Any]
    reads: MemoryReads | None
    render: Callable[[Mapping[str, Any]], list[str]]
    max_tokens: int = 500


@dataclass(frozen=True, slots=True)
class SubagentOutcome:
    """One persona's run: its input, its validated payload (None when dropped), what it cost, and why it failed."""

    persona: str
    input_payload: Mapping[str, Any]
    payload: Mapping[str, Any] | None
    latency_ms: float
    cost_usd: Decimal = Decimal(0)
    model: str = ""
    error: str = ""
    lines: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether the payload reached the synthesizer."""
        return self.payload is not None and not self.error


@dataclass(frozen=True, slots=True)
class Research:
    """A turn's fan-out: who fired, each run, and the research-material block for the synthesizer."""

    fired: tuple[str, ...]
    runs: tuple[SubagentOutcome, ...]
    block: str

    @property
    def cost_usd(self) -> Decimal:
        """What every run cost together."""
        return sum((run.cost_usd for run in self.runs), Decimal(0))

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary for the decision's outcome."""
        return {
            "fired": list(self.fired),
            "used": [run.persona for run in self.runs if run.ok],
            "errors": {run.persona: run.error for run in self.runs if run.error},
        }
