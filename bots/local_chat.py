"""The local chat: talk to a bot in a terminal (or through a pipe) on the local platform.

`LocalChat` reads lines (from stdin, a pipe or a StringIO), posts them on a `LocalAdapter` and prints what
the bot does as it happens:

    #general alice: hey @dit what did bob say about rust?
    bob: something else            (same channel as the line before)
    #random more words             (same speaker as the line before)
    /dm alice: a private word      (a direct message to the bot)
    /help  /quit
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import IO, Any

from bots.adapters.base import ChannelKind
from bots.adapters.local import DEFAULT_CHANNEL, DEFAULT_SPEAKER, LocalAdapter, LocalEvent
from dispositions.choices import TriggerKind

__all__ = ["ChatLine", "LocalChat", "parse_line"]


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One parsed line of the local chat."""

    command: str = ""
    channel: str = ""
    speaker: str = ""
    text: str = ""
    dm: bool = False


_LINE = re.compile(r"^(?:#(?P<channel>[\w-]+)\s*)?(?:(?P<speaker>[\w.-]+):(?:\s+|$))?(?P<text>.*)$", re.DOTALL)
HELP = """Talk to the bot as anyone, anywhere:
  #general alice: hey @{bot} what did bob say about rust?
  bob: ...            same channel as before
  #random ...         same speaker as before
  /dm alice: ...      a direct message from alice to the bot
  /help               this help
  /quit               leave (end of input works too)"""


def parse_line(line: str, *, channel: str, speaker: str) -> ChatLine:
    """Parse a chat line; the channel and speaker carry over from the previous line when omitted."""
    stripped = line.strip()
    if not stripped:
        return ChatLine()
    if stripped in ("/help", "/quit", "/exit"):
        return ChatLine(command=stripped.lstrip("/").replace("exit", "quit"))
    if stripped.startswith("/dm"):
        rest = stripped[3:].strip()
        match = re.match(r"^(?P<speaker>[\w.-]+):\s*(?P<text>.*)$", rest, re.DOTALL)
        if match is None:
            return ChatLine(command="error", text="write a DM as: /dm NAME: words")
        return ChatLine(channel=channel, speaker=match["speaker"], text=match["text"].strip(), dm=True)
    if stripped.startswith("/"):
        return ChatLine(command="error", text=f"unknown command {stripped.split()[0]}; try /help")
    match = _LINE.match(stripped)
    assert match is not None  # noqa: S101 - the pattern matches any text
    return ChatLine(
        channel=(match["channel"] or channel).lower(),
        speaker=match["speaker"] or speaker,
        text=match["text"].strip(),
    )


class LocalChat:
    """Reads chat lines and posts them on a LocalAdapter; prints the bot's beats, reactions and decisions."""

    def __init__(
        self, adapter: LocalAdapter, *, stdin: IO[str], stdout: IO[str], wait_between_lines: bool | None = None
    ) -> None:
        self.adapter = adapter
        self._stdin = stdin
        self._stdout = stdout
        self._channel = DEFAULT_CHANNEL
        self._speaker = DEFAULT_SPEAKER
        # Piped input arrives all at once; waiting for the bot after each line keeps a scripted session in order.
        self._wait = (not _is_tty(stdin)) if wait_between_lines is None else wait_between_lines
        self._settle: Callable[[], Awaitable[None]] | None = None
        adapter.on_event = self._on_event

    def attach(self, host: Any) -> None:
        """Watch this host's decisions, and wait for it to go idle between lines (when reading piped input)."""
        host.watch(self)
        self._settle = host.idle

    def _print(self, text: str) -> None:
        self._stdout.write(text + "\n")
        self._stdout.flush()

    def _on_event(self, event: LocalEvent) -> None:
        where = f"/dm {event.channel.name[3:]}" if event.channel.kind is ChannelKind.DM else f"#{event.channel.name}"
        name = self.adapter.bot_user.display_name
        if event.kind == "message":
            replying = f" (replying to {event.reply_to})" if event.reply_to else ""
            self._print(f"{where} {name}{replying}: {event.text}")
        elif event.kind == "reaction":
            self._print(f"{where} {name} reacted {event.text} to {event.message_id}")

    def decision_made(self, event: Any) -> None:
        """Print the disposition chosen and the scores of the top 3, and what started a turn nobody asked for."""
        top = ", ".join(f"{option.slug} {option.score:.2f} ({option.probability:.0%})" for option in event.top)
        where = f"#{event.channel_name}"
        started = _started_by(event)
        self._print(
            f"  · decision {event.decision_id} in {where}{started}: {event.chosen_slug} ({event.output_shape}) — {top}"
        )

    def followup_scheduled(self, event: Any) -> None:
        """Say that the bot may come back to this turn later, and when."""
        self._print(
            f"  · decision {event.decision_id} may be followed up in #{event.channel_name} in about "
            f"{event.delay_seconds:.0f} s ({event.bias})"
        )

    def turn_ended(self, event: Any) -> None:
        """Print how a turn ended when it said nothing."""
        if event.end in ("silent", "stale", "error", "cancelled"):
            detail = f": {event.detail}" if event.detail else ""
            self._print(f"  · {event.end}{detail}")

    async def run(self) -> None:
        """Read lines until /quit or the end of input, posting each; returns once the bot is idle again."""
        await self.adapter.started.wait()
        self._print(f"Local chat with {self.adapter.bot_user.display_name}. /help for help, /quit to leave.")
        async for line in _lines(self._stdin):
            parsed = parse_line(line, channel=self._channel, speaker=self._speaker)
            if parsed.command == "quit":
                break
            if parsed.command == "help":
                self._print(HELP.format(bot=self.adapter.bot_user.display_name.lower()))
                continue
            if parsed.command == "error":
                self._print(parsed.text)
                continue
            if not parsed.text:
                continue
            if parsed.speaker.lower() == self.adapter.bot_user.display_name.lower():
                # Said as the bot it would be the bot's own message, which never starts a turn.
                self._print(f"{parsed.speaker} is the bot's own name: speak as someone else (e.g. alice: ...)")
                continue
            self._speaker = parsed.speaker
            if parsed.dm:
                user = self.adapter.user(parsed.speaker)
                await self.adapter.post(self.adapter.dm_channel(user), user, parsed.text)
            else:
                self._channel = parsed.channel
                await self.adapter.post(parsed.channel, parsed.speaker, parsed.text)
            if self._wait and self._settle is not None:
                await self._settle()
        if self._settle is not None:
            await self._settle()


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


async def _lines(stream: IO[str]) -> AsyncIterator[str]:
    """Lines of a text stream, read by a daemon thread so a blocked terminal never holds up shutdown."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        try:
            for line in iter(stream.readline, ""):
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="local-chat-stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line


def _started_by(event: Any) -> str:
    """`` (self-followup of decision 4)`` or `` (unprompted)`` for a turn the reactor started; empty otherwise."""
    trigger = getattr(event, "trigger", TriggerKind.REACTIVE)
    if trigger == TriggerKind.SELF_FOLLOWUP:
        previous = getattr(event, "previous_decision_id", None)
        return f" (self-followup of decision {previous})" if previous is not None else " (self-followup)"
    if trigger == TriggerKind.SPECULATIVE:
        return " (unprompted)"
    return ""
