"""The output dispatcher: a turn's beats to the platform, by output shape, interruption-aware, sent once each.

- silent: nothing goes out, ever; text that only performs silence ("(staying silent)", "*stays silent*",
  "[silence]") is never sent under any shape.
- react-only: one emoji reaction.
- single-line and multi-line: one message (a reply to the answered message when the turn asks for one).
- burst: beats in sequence, the typing indicator shown between them, no artificial delay. Before each beat
  after the first, a human message that arrived meanwhile pauses the burst and goes back to the host, which
  aborts the rest, folds the interruption into new beats, or continues.

Every beat is a row recorded before it is sent (decision id + index is its idempotency key); a row already
sent is never sent again, by this process or a restarted one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async

from bots.adapters.base import ChannelRef, MessageRef, OutputBeat, PlatformAdapter
from bots.adapters.errors import AdapterError
from bots.host import services
from bots.host.choices import BeatKind, BeatStatus
from bots.host.cues import is_silence_text
from bots.host.ledger import Arrival
from bots.host.models import OutboundBeat
from dispositions.choices import InterruptionHandling, OutputShape

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlannedBeat:
    """One message the turn means to send."""

    text: str
    is_correction: bool = False


@dataclass(frozen=True, slots=True)
class Interruption:
    """A burst paused by human messages: who spoke and what was still to be said."""

    arrivals: tuple[Arrival, ...]
    remaining: tuple[PlannedBeat, ...]


@dataclass(frozen=True, slots=True)
class InterruptionVerdict:
    """The host's answer to an interruption; `beats` replace the remainder when folding."""

    handling: InterruptionHandling
    beats: tuple[PlannedBeat, ...] = ()


Watch = Callable[[], Sequence[Arrival]]
Resolve = Callable[[Interruption], Awaitable[InterruptionVerdict]]
OnSent = Callable[[Sequence[MessageRef], str], None]


@dataclass
class DispatchResult:
    """What went out: counts, platform ids, how an interruption was handled, what was held back."""

    sent: int = 0
    message_ids: list[str] = field(default_factory=list)
    interruption: InterruptionHandling = InterruptionHandling.NOT_INTERRUPTED
    interrupted_by: list[str] = field(default_factory=list)
    suppressed_silence: int = 0
    cancelled: int = 0
    reaction: str | None = None
    error: str = ""

    def outcome(self) -> dict[str, object]:
        """JSON-ready summary for the decision's outcome."""
        return {
            "sent": self.sent,
            "message_ids": list(self.message_ids),
            "interruption": str(self.interruption),
            "interrupted_by": list(self.interrupted_by),
            "suppressed_silence": self.suppressed_silence,
            "cancelled": self.cancelled,
            "reaction": self.reaction,
            "error": self.error,
        }


def shape_beats(beats: Sequence[PlannedBeat], shape: str) -> tuple[list[PlannedBeat], int]:
    """The beats as the shape sends them (one message unless burst), without silence-only text; and how many
    beats were held back as performed silence."""
    kept = [beat for beat in beats if beat.text.strip() and not is_silence_text(beat.text)]
    suppressed = len(beats) - len(kept)
    if shape == OutputShape.SILENT or not kept:
        return [], len(beats) if shape == OutputShape.SILENT else suppressed
    if shape == OutputShape.SINGLE_LINE:
        return [PlannedBeat(" ".join(" ".join(b.text.split()) for b in kept))], suppressed
    if shape == OutputShape.MULTI_LINE:
        return [PlannedBeat("\n\n".join(b.text.strip() for b in kept))], suppressed
    return kept, suppressed


class OutputDispatcher:
    """Sends a turn's output through a platform adapter."""

    def __init__(self, adapter: PlatformAdapter) -> None:
        self._adapter = adapter

    async def react(self, *, decision_id: int, target: MessageRef, emoji: str) -> DispatchResult:
        """Add one reaction (recorded as beat 0 of the turn, so it is added once)."""
        result = DispatchResult()
        row = await sync_to_async(services.beat_prepare)(
            decision_id=decision_id,
            index=0,
            text=emoji,
            kind=BeatKind.REACTION,
            platform=self._adapter.platform,
            channel_id=target.channel.id,
            target_message_id=target.id,
        )
        if row.status != BeatStatus.PENDING:
            logger.info("reaction of decision %s was already %s; not adding it again", decision_id, row.status)
            return result
        try:
            await self._adapter.react(target, emoji)
        except AdapterError as exc:
            await sync_to_async(services.beat_mark_failed)(beat=row, error=exc.message)
            result.error = exc.message
            logger.error("decision %s: reaction %s failed: %s", decision_id, emoji, exc.message)
            return result
        await sync_to_async(services.beat_mark_sent)(beat=row, message_ids=[target.id])
        result.reaction = emoji
        return result

    async def send(
        self,
        *,
        decision_id: int,
        channel: ChannelRef,
        shape: str,
        beats: Sequence[PlannedBeat],
        reply_to: MessageRef | None = None,
        watch: Watch | None = None,
        resolve: Resolve | None = None,
        on_sent: OnSent | None = None,
    ) -> DispatchResult:
        """Send the beats of a turn in order; a burst checks `watch` before each beat after the first."""
        planned, suppressed = shape_beats(beats, shape)
        result = DispatchResult(suppressed_silence=suppressed)
        if suppressed:
            logger.warning("decision %s: held back %s beats that only performed silence", decision_id, suppressed)
        if not planned:
            return result
        rows = await self._prepare(decision_id, channel, planned, start=0, reply_to=reply_to)
        position = 0
        while position < len(rows):
            row = rows[position]
            if position == 0:
                ok = await self._send_row(row, channel, reply_to, result, on_sent)
            else:
                async with self._adapter.typing(channel):
                    arrivals = list(watch()) if watch is not None else []
                    if arrivals and resolve is not None:
                        remaining = tuple(PlannedBeat(r.text, r.is_correction) for r in rows[position:])
                        verdict = await resolve(Interruption(arrivals=tuple(arrivals), remaining=remaining))
                        result.interruption = verdict.handling
                        result.interrupted_by.extend(a.message_id for a in arrivals)
                        if verdict.handling == InterruptionHandling.ABORTED:
                            result.cancelled += await self._cancel(decision_id, row.index)
                            logger.info(
                                "decision %s: burst interrupted by %s; aborted %s beats",
                                decision_id,
                                [a.message_id for a in arrivals],
                                len(remaining),
                            )
                            break
                        if verdict.handling == InterruptionHandling.FOLDED:
                            result.cancelled += await self._cancel(decision_id, row.index)
                            folded, extra = shape_beats(verdict.beats, OutputShape.BURST)
                            result.suppressed_silence += extra
                            new_rows = await self._prepare(
                                decision_id, channel, folded, start=rows[-1].index + 1, reply_to=None
                            )
                            rows = rows[:position] + new_rows
                            logger.info(
                                "decision %s: folded the interruption into %s new beats", decision_id, len(new_rows)
                            )
                            if not new_rows:
                                break
                            row = rows[position]
                    ok = await self._send_row(row, channel, None, result, on_sent)
            if not ok:
                result.cancelled += await self._cancel(decision_id, row.index + 1)
                break
            position += 1
        return result

    async def _prepare(
        self,
        decision_id: int,
        channel: ChannelRef,
        beats: Sequence[PlannedBeat],
        *,
        start: int,
        reply_to: MessageRef | None,
    ) -> list[OutboundBeat]:
        def prepare() -> list[OutboundBeat]:
            return [
                services.beat_prepare(
                    decision_id=decision_id,
                    index=start + offset,
                    text=beat.text,
                    is_correction=beat.is_correction,
                    platform=self._adapter.platform,
                    channel_id=channel.id,
                    target_message_id=reply_to.id if reply_to is not None and offset == 0 else "",
                )
                for offset, beat in enumerate(beats)
            ]

        return await sync_to_async(prepare)()

    async def _cancel(self, decision_id: int, from_index: int) -> int:
        return await sync_to_async(services.beats_cancel)(decision_id=decision_id, from_index=from_index)

    async def _send_row(
        self,
        row: OutboundBeat,
        channel: ChannelRef,
        reply_to: MessageRef | None,
        result: DispatchResult,
        on_sent: OnSent | None,
    ) -> bool:
        if row.status == BeatStatus.SENT:
            # Sent already (a retried turn): count it, send nothing.
            result.message_ids.extend(row.platform_message_ids)
            return True
        if row.status != BeatStatus.PENDING:
            return False
        beat = OutputBeat(
            text=row.text, idempotency_key=row.idempotency_key, reply_to=reply_to, is_correction=row.is_correction
        )
        try:
            refs = await self._adapter.send(channel, beat)
        except AdapterError as exc:
            await sync_to_async(services.beat_mark_failed)(beat=row, error=exc.message)
            result.error = exc.message
            logger.error("beat %s failed: %s", row.idempotency_key, exc.message)
            return False
        ids = [ref.id for ref in refs]
        await sync_to_async(services.beat_mark_sent)(beat=row, message_ids=ids)
        result.sent += 1
        result.message_ids.extend(ids)
        if on_sent is not None:
            on_sent(refs, row.text)
        return True
