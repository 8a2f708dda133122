"""Tools the model can call: a registry of named tools with JSON Schemas, and the bounded loop that runs them.

Apps register tools (`TOOLS.register(Tool(...))`, memory's in `memory.tools`); a caller picks some by name
into a `ToolBox` with the scope they may read (guild, channel, DM, requester: set by the caller, never by
the model) and runs `complete_with_tools`, which sends them as OpenAI tool definitions through the gateway.

The loop's rules:
- arguments are parsed and validated against the tool's JSON Schema before anything runs; an unknown tool,
  JSON that does not parse, or arguments that do not match are an error message back to the model (which
  gets another step), never an exception in the caller;
- it is bounded by steps (model calls offered tools), calls per step, wall time and spend; at a limit the
  model is asked once more, without tools, to answer with what it has (unless time is up);
- tool output is data: it goes back as the content of a `tool` message, wrapped and cut to a size; the
  tools offered, the limits and the system prompt are fixed when the loop starts, so nothing a tool returns
  can add a tool, raise a limit or change the persona;
- every call is kept (`ToolCallRecord`) for the caller to store with its decision or task
  (`gateway.services.record_tool_calls`);
- a caller that shows progress (a task worker's row) passes `on_step`, awaited after each step's calls ran
  with the step, what the loop has spent so far and that step's calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from gateway.client import ModelClient
from gateway.errors import BadRequest
from gateway.parser import schema_errors
from gateway.results import Completion, ToolCall

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")

FINAL_PROMPT = "The tool limit of this reply is reached ({reason}). Answer now with what you have; no more tool calls."


@dataclass(frozen=True, slots=True)
class ToolScope:
    """Where a tool call is made: what the tools may read is decided here, by the caller, not by the model."""

    guild_id: str | None
    channel_id: str
    is_dm: bool = False
    requester_id: str = ""
    bot_id: int | None = None


ToolHandler = Callable[[ToolScope, dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call: its name, what it does, its arguments as a JSON Schema, its handler.

    The handler is a plain (synchronous) function of the scope and the validated arguments; it returns
    JSON-serializable data and raises `ToolError` for a failure the model should read.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    handler: ToolHandler

    def __post_init__(self) -> None:
        if not self.name or not set(self.name) <= _NAME_CHARS or len(self.name) > 64:
            raise BadRequest(f"tool name {self.name!r} must be 1-64 lowercase letters, digits or underscores")
        try:
            Draft202012Validator.check_schema(self.parameters)
        except SchemaError as exc:
            raise BadRequest(f"tool {self.name!r}: parameters are not a valid JSON Schema: {exc.message}") from exc
        if self.parameters.get("type") != "object":
            raise BadRequest(f"tool {self.name!r}: parameters must be a JSON Schema of type object")

    def definition(self) -> dict[str, Any]:
        """The OpenAI tool definition."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": dict(self.parameters)},
        }


class ToolError(Exception):
    """A tool could not do what was asked; its message goes back to the model."""


class ToolRegistry:
    """Every tool an app registered, by name."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}
        self._validators: dict[str, Draft202012Validator] = {}

    def register(self, tool: Tool) -> Tool:
        """Add a tool; registering another tool under a name already taken is an error."""
        known = self._tools.get(tool.name)
        if known is not None and known.handler is not tool.handler:
            raise BadRequest(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool
        self._validators[tool.name] = Draft202012Validator(tool.parameters)
        return tool

    def get(self, name: str) -> Tool | None:
        """The tool of that name, or None."""
        return self._tools.get(name)

    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted."""
        return tuple(sorted(self._tools))

    def validator(self, name: str) -> Draft202012Validator:
        """The argument validator of a registered tool."""
        return self._validators[name]

    def box(self, names: Sequence[str], scope: ToolScope, **options: Any) -> ToolBox:
        """The tools named, for one caller in one scope; an unknown name is an error."""
        unknown = [name for name in names if name not in self._tools]
        if unknown:
            raise BadRequest(f"unknown tools {unknown}; registered: {', '.join(self.names()) or 'none'}")
        return ToolBox(
            tools=tuple(self._tools[name] for name in dict.fromkeys(names)), scope=scope, registry=self, **options
        )


TOOLS = ToolRegistry()
"""The process's tools; apps register theirs when they are ready."""


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """How far one reply may go with tools."""

    max_steps: int = 3
    max_calls_per_step: int = 4
    max_seconds: float = 8.0
    max_cost_usd: Decimal = Decimal("0.05")
    max_result_chars: int = 4000

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.max_calls_per_step < 1:
            raise BadRequest("tool limits: max_steps and max_calls_per_step must be at least 1")
        if self.max_seconds <= 0 or self.max_cost_usd < 0 or self.max_result_chars < 100:
            raise BadRequest("tool limits: max_seconds > 0, max_cost_usd >= 0 and max_result_chars >= 100")


def _in_thread(work: Callable[[], _T]) -> Awaitable[_T]:
    return sync_to_async(work, thread_sensitive=False)()


@dataclass(frozen=True, slots=True)
class ToolBox:
    """The tools one reply may call, the scope they read, and how their handlers run (a thread by default)."""

    tools: tuple[Tool, ...]
    scope: ToolScope
    registry: ToolRegistry = TOOLS
    run_sync: Callable[[Callable[[], Any]], Awaitable[Any]] = _in_thread

    def definitions(self) -> list[dict[str, Any]]:
        """The OpenAI tool definitions sent with every step."""
        return [tool.definition() for tool in self.tools]

    def get(self, name: str) -> Tool | None:
        """A tool of this box (a registered tool outside it does not count)."""
        return next((tool for tool in self.tools if tool.name == name), None)


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """One call the model made: what it asked, whether it ran, what came back (cut), how long it took."""

    step: int
    call_id: str
    tool: str
    arguments: Any
    ok: bool
    error: str = ""
    result: str = ""
    latency_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The record as stored on a decision's outcome."""
        return {
            "step": self.step,
            "tool": self.tool,
            "arguments": self.arguments,
            "ok": self.ok,
            "error": self.error,
            "result_chars": len(self.result),
            "latency_ms": round(self.latency_ms, 1),
        }


@dataclass(frozen=True, slots=True)
class StepReport:
    """One step of the loop, as `on_step` is told it: its number, the spend so far, the calls it made."""

    step: int
    cost_usd: Decimal
    calls: tuple[ToolCallRecord, ...]


OnStep = Callable[[StepReport], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ToolLoopResult:
    """How a reply with tools went: the final completion, every call, and why the loop stopped."""

    completion: Completion
    calls: tuple[ToolCallRecord, ...]
    steps: int
    stopped: str  # "answered", "steps", "time" or "budget"
    cost_usd: Decimal = Decimal(0)
    completions: tuple[Completion, ...] = field(default=(), repr=False)


def _content(record: ToolCallRecord, limit: int) -> str:
    """A tool message's content: the data marked as data (cut to `limit` characters, then a string), or the error."""
    if not record.ok:
        return json.dumps({"tool": record.tool, "ok": False, "error": record.error[:limit]}, ensure_ascii=False)
    if len(record.result) > limit:
        cut = record.result[:limit] + " [cut]"
        return json.dumps({"tool": record.tool, "ok": True, "data": cut}, ensure_ascii=False)
    return '{"tool": ' + json.dumps(record.tool) + ', "ok": true, "data": ' + record.result + "}"


async def _run_call(box: ToolBox, call: ToolCall, *, step: int, deadline: float, limit: int) -> ToolCallRecord:
    started = time.perf_counter()

    def record(ok: bool, arguments: Any, *, error: str = "", result: str = "") -> ToolCallRecord:
        return ToolCallRecord(
            step=step,
            call_id=call.id,
            tool=call.name,
            arguments=arguments,
            ok=ok,
            error=error,
            result=result,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    tool = box.get(call.name)
    if tool is None:
        offered = ", ".join(t.name for t in box.tools)
        return record(False, call.arguments, error=f"no tool named {call.name!r} here; the tools are: {offered}")
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError as exc:
        return record(False, call.arguments, error=f"arguments are not valid JSON: {exc}")
    errors = schema_errors(box.registry.validator(tool.name), arguments)
    if errors:
        return record(False, arguments, error="arguments do not match the schema: " + "; ".join(errors))
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return record(False, arguments, error="no time left for this call")
    try:
        data = await asyncio.wait_for(box.run_sync(lambda: tool.handler(box.scope, arguments)), timeout=remaining)
    except TimeoutError:
        return record(False, arguments, error=f"the tool took longer than the {remaining:.1f} s left")
    except ToolError as exc:
        return record(False, arguments, error=str(exc))
    except Exception as exc:  # a failing tool is information for the model, never a crash of the turn
        logger.exception("tool %s failed", tool.name)
        return record(False, arguments, error=f"the tool failed ({type(exc).__name__})")
    try:
        text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    except (TypeError, ValueError):
        return record(False, arguments, error="the tool returned data that is not JSON")
    return record(True, arguments, result=text)


async def complete_with_tools(
    model: ModelClient,
    *,
    box: ToolBox,
    purpose: str,
    messages: Sequence[Mapping[str, Any]],
    limits: ToolLimits = ToolLimits(),  # noqa: B008 - frozen, so one shared default is safe
    bot_id: int | None = None,
    guild_id: str | None = None,
    max_tokens: int | None = None,
    response_format: Mapping[str, Any] | None = None,
    on_step: OnStep | None = None,
) -> ToolLoopResult:
    """A completion in which the model may call the box's tools, within `limits` (see the module)."""
    deadline = time.perf_counter() + limits.max_seconds
    definitions = box.definitions()
    conversation: list[dict[str, Any]] = [dict(message) for message in messages]
    calls: list[ToolCallRecord] = []
    completions: list[Completion] = []
    spent = Decimal(0)

    async def ask(*, with_tools: bool) -> Completion:
        nonlocal spent
        completion = await model.complete(
            purpose=purpose,
            messages=conversation,
            bot_id=bot_id,
            guild_id=guild_id,
            max_tokens=max_tokens,
            response_format=response_format,
            tools=definitions if with_tools else None,
        )
        spent += Decimal(str(completion.cost_usd or 0))
        completions.append(completion)
        return completion

    def result(completion: Completion, stopped: str, steps: int) -> ToolLoopResult:
        return ToolLoopResult(
            completion=completion,
            calls=tuple(calls),
            steps=steps,
            stopped=stopped,
            cost_usd=spent,
            completions=tuple(completions),
        )

    step = 0
    completion = await ask(with_tools=True)
    while True:
        step += 1
        if not completion.tool_calls:
            return result(completion, "answered", step)
        conversation.append(
            {
                "role": "assistant",
                "content": completion.text or None,
                "tool_calls": [call.as_openai() for call in completion.tool_calls],
            }
        )
        made: list[ToolCallRecord] = []
        for index, call in enumerate(completion.tool_calls):
            if index >= limits.max_calls_per_step:
                record = ToolCallRecord(
                    step, call.id, call.name, call.arguments, False, error="too many calls in one step"
                )
            else:
                record = await _run_call(box, call, step=step, deadline=deadline, limit=limits.max_result_chars)
            made.append(record)
            conversation.append(
                {"role": "tool", "tool_call_id": call.id, "content": _content(record, limits.max_result_chars)}
            )
        calls.extend(made)
        if on_step is not None:
            await on_step(StepReport(step=step, cost_usd=spent, calls=tuple(made)))
        stop = _limit_reached(limits, step=step, spent=spent, left=deadline - time.perf_counter())
        if stop == "time":
            logger.info("tool loop (%s) stopped at its time limit after %d steps", purpose, step)
            return result(completion, "time", step)
        if stop:
            logger.info("tool loop (%s) stopped at its %s limit; asking for the answer", purpose, stop)
            conversation.append({"role": "user", "content": FINAL_PROMPT.format(reason=stop)})
            final = await ask(with_tools=False)
            return result(final, stop, step)
        completion = await ask(with_tools=True)


def _limit_reached(limits: ToolLimits, *, step: int, spent: Decimal, left: float) -> str:
    if left <= 0:
        return "time"
    if spent >= limits.max_cost_usd:
        return "budget"
    if step >= limits.max_steps:
        return "steps"
    return ""
