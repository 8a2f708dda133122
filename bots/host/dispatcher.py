"""The output dispatcher: a turn's beats to the platform, by output shape, interruption-aware, sent once each.

- silent: nothing goes out, ever; text that only performs silence ("(staying silent)", "*stays silent*",
  "[silence]") is never sent under any shape.
- react-only: one emoji reaction.
- single-line and multi-line: one message (a reply to the answered message when the turn asks for one).
- burst: beats in sequence, the typing indicator shown between them, no artificial delay. Before each beat
  after the first, the interruption policy is asked whether a human spoke meanwhile; it answers abort, fold
  (with new beats) or continue.

Every beat is a row recorded before it is sent (decision id + index is its idempotency key, which the
adapter sends as the platform's nonce); a row already sent is never sent again. The dispatcher does not
write "sent": it returns what the platform accepted, and the turn's outcome records it in one statement.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bots.adapters.base import ChannelRef, MessageRef, OutputBeat, PlatformAdapter
from bots.adapters.errors import AdapterError
from bots.host.choices import BeatStatus
from bots.host.cues import is_silence_text
from bots.host.ledger import Arrival
from bots.host.models import OutboundBeat
from bots.host.port import HostPort
from bots.host.values import Delivery, PlannedBeat, SentBeat
from dispositions.choices import InterruptionHandling, OutputShape
from dispositions.synthesis import SynthesisResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Interruption:
    """A burst paused by human messages: who spoke and what was still to be said."""

    arrivals: tuple[Arrival, ...]
    remaining: tuple[PlannedBeat, ...]


@dataclass(frozen=True, slots=True)
class InterruptionVerdict:
    """The policy's answer to an interruption; `beats` replace the remainder when folding."""

    handling: InterruptionHandling
    beats: tuple[PlannedBeat, ...] = ()
    syntheses: tuple[SynthesisResult, ...] = ()


class InterruptionPolicy(Protocol):
    """What the dispatcher asks between burst beats, and tells about each message it sent."""

    def arrivals(self) -> Sequence[Arrival]:
        """Human messages that arrived in the channel since the last look (not part of the turn)."""
        ...

    async def resolve(self, interruption: Interruption) -> InterruptionVerdict:
        """Abort, fold the interruption into new beats, or continue."""
        ...

    def sent(self, refs: Sequence[MessageRef], text: str) -> None:
        """A beat went out as these platform messages."""
        ...


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


@dataclass
class _Progress:
    sent: int = 0
    message_ids: list[str] = field(default_factory=list)
    sent_beats: list[SentBeat] = field(default_factory=list)
    interruption: InterruptionHandling = InterruptionHandling.NOT_INTERRUPTED
    interrupted_by: list[str] = field(default_factory=list)
    cancelled: int = 0
    suppressed: int = 0
    error: str = ""
    syntheses: list[SynthesisResult] = field(default_factory=list)

    def delivery(
        self, *, reaction: str | None = None, interruption_record: dict[str, object] | None = None
    ) -> Delivery:
        return Delivery(
            sent=self.sent,
            message_ids=tuple(self.message_ids),
            interruption=self.interruption,
            interrupted_by=tuple(self.interrupted_by),
            suppressed_silence=self.suppressed,
            cancelled=self.cancelled,
            reaction=reaction,
            error=self.error,
            sent_beats=tuple(self.sent_beats),
            fold_syntheses=tuple(self.syntheses),
            interruption_record=interruption_record,
        )


class OutputDispatcher:
    """Sends a turn's recorded beats through a platform adapter."""

    def __init__(self, adapter: PlatformAdapter, port: HostPort) -> None:
        self._adapter = adapter
        self._port = port

    async def react(self, *, beat: OutboundBeat, target: MessageRef) -> Delivery:
        """Add the one reaction recorded as beat 0 of a turn (added once)."""
        if beat.status != BeatStatus.PENDING:
            logger.info("reaction of decision %s was already %s; not adding it again", beat.decision_id, beat.status)
            return Delivery()
        try:
            await self._adapter.react(target, beat.text)
        except AdapterError as exc:
            await self._port.fail_beat(beat, error=exc.message)
            logger.error("decision %s: reaction %s failed: %s", beat.decision_id, beat.text, exc.message)
            return Delivery(error=exc.message)
        return Delivery(reaction=beat.text, sent_beats=(SentBeat(beat.pk, (target.id,)),))

    async def send(
        self,
        *,
        channel: ChannelRef,
        rows: Sequence[OutboundBeat],
        suppressed: int = 0,
        reply_to: MessageRef | None = None,
        policy: InterruptionPolicy | None = None,
    ) -> Delivery:
        """Send a turn's recorded beats in order, consulting `policy` before each beat after the first (a burst)."""
        progress = _Progress(suppressed=suppressed)
        if suppressed:
            logger.warning("held back %s beats that only performed silence", suppressed)
        interruption_record: dict[str, object] | None = None
        rows = list(rows)
        position = 0
        while position < len(rows):
            row = rows[position]
            if position == 0:
                ok = await self._send_row(row, channel, reply_to, progress, policy)
            else:
                async with self._adapter.typing(channel):
                    arrivals = list(policy.arrivals()) if policy is not None else []
                    if arrivals and policy is not None:
                        remaining = tuple(PlannedBeat(r.text, r.is_correction) for r in rows[position:])
                        verdict = await policy.resolve(Interruption(arrivals=tuple(arrivals), remaining=remaining))
                        by = [a.message_id for a in arrivals]
                        interruption_record = {"handling": str(verdict.handling), "by": by}
                        progress.interruption = verdict.handling
                        progress.interrupted_by.extend(by)
                        progress.syntheses.extend(verdict.syntheses)
                        if verdict.handling == InterruptionHandling.ABORTED:
                            progress.cancelled += await self._port.cancel_beats(
                                decision_id=row.decision_id, from_index=row.index
                            )
                            logger.info(
                                "decision %s: burst interrupted by %s; aborted %s beats",
                                row.decision_id,
                                by,
                                len(remaining),
                            )
                            break
                        if verdict.handling == InterruptionHandling.FOLDED:
                            progress.cancelled += await self._port.cancel_beats(
                                decision_id=row.decision_id, from_index=row.index
                            )
                            folded, extra = shape_beats(verdict.beats, OutputShape.BURST)
                            progress.suppressed += extra
                            new_rows = await self._port.prepare_beats(
                                decision_id=row.decision_id,
                                beats=folded,
                                start=rows[-1].index + 1,
                                platform=self._adapter.platform,
                                channel_id=channel.id,
                            )
                            rows = rows[:position] + new_rows
                            logger.info(
                                "decision %s: folded the interruption into %s new beats", row.decision_id, len(new_rows)
                            )
                            if not new_rows:
                                break
                            row = rows[position]
                    ok = await self._send_row(row, channel, None, progress, policy)
            if not ok:
                progress.cancelled += await self._port.cancel_beats(
                    decision_id=row.decision_id, from_index=row.index + 1
                )
                break
            position += 1
        return progress.delivery(interruption_record=interruption_record)

    async def _send_row(
        self,
        row: OutboundBeat,
        channel: ChannelRef,
        reply_to: MessageRef | None,
        progress: _Progress,
        policy: InterruptionPolicy | None,
    ) -> bool:
        if row.status == BeatStatus.SENT:
            # Sent already (a turn sending its beats again): count it, send nothing.
            progress.message_ids.extend(row.platform_message_ids)
            return True
        if row.status != BeatStatus.PENDING:
            return False
        beat = OutputBeat(
            text=row.text, idempotency_key=row.idempotency_key, reply_to=reply_to, is_correction=row.is_correction
        )
        try:
            refs = await self._adapter.send(channel, beat)
        except AdapterError as exc:
            await self._port.fail_beat(row, error=exc.message)
            progress.error = exc.message
            logger.error("beat %s failed: %s", row.idempotency_key, exc.message)
            return False
        ids = [ref.id for ref in refs]
        progress.sent += 1
        progress.message_ids.extend(ids)
        progress.sent_beats.append(SentBeat(row.pk, tuple(ids)))
        if policy is not None:
            policy.sent(refs, row.text)
        return True
