"""What a gateway call returns: frozen values that cross from the gateway into every other room."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openai.types.chat import ChatCompletionChunk


@dataclass(frozen=True)
class ToolCall:
    """One function call the model asked for; `arguments` is the JSON text the model wrote."""

    id: str
    name: str
    arguments: str

    def as_openai(self) -> dict[str, Any]:
        """The OpenAI wire shape of this tool call."""
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


def message_tool_calls(message: Any) -> tuple[ToolCall, ...]:
    """The function calls of an OpenAI chat message (the SDK's object), in order."""
    return tuple(
        ToolCall(id=item.id, name=item.function.name, arguments=item.function.arguments)
        for item in message.tool_calls or []
        if getattr(item, "function", None) is not None
    )


def message_reasoning(message: Any) -> str | None:
    """The reasoning text an OpenAI message or delta carries as `reasoning` or `reasoning_content`, if any."""
    extra = message.model_extra or {}
    value = extra.get("reasoning") or extra.get("reasoning_content")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Completion:
    """A finished chat completion with its accounting."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    model: str
    provider: str
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    latency_ms: int
    request_id: str
    finish_reason: str | None
    reasoning: str | None = None
    attempts: int = 1


@dataclass(frozen=True)
class Embeddings:
    """Embedding vectors, one per input, in input order."""

    vectors: tuple[tuple[float, ...], ...]
    model: str
    provider: str
    input_tokens: int
    cost_usd: Decimal
    latency_ms: int
    request_id: str
    attempts: int = 1


@dataclass(frozen=True)
class StreamEvent:
    """One piece of a streamed completion.

    `chunk` is the provider's chunk (for the HTTP endpoint to relay); `text` is its
    content delta; the last event of a stream is `final=True` and carries the accounting in `completion`.
    """

    text: str = ""
    request_id: str = ""
    chunk: ChatCompletionChunk | None = None
    final: bool = False
    completion: Completion | None = field(default=None)
