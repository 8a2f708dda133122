"""The `unanswered` strategy: recent questions and threads nobody resolved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Exists, OuterRef

from memory.choices import ContextStrategyId
from memory.context.gathering import live_items, now_of
from memory.context.items import gap, heading, within_budget
from memory.context.messages import message_item
from memory.context.types import ContextItem, ContextScope
from memory.live import LiveItem
from memory.models import Transcript

QUESTION = r"\?\s*$|\?\s|^(who|what|when|where|why|how|anyone|does anyone|can someone)\y"


@dataclass(frozen=True, slots=True)
class UnansweredStrategy:
    """Questions people asked in the last week that got no reply, newest first, then the live lines."""

    recent: timedelta = timedelta(days=7)
    limit: int = 10
    live_size: int = 10
    budget: int = 1200
    strategy_id: ContextStrategyId = ContextStrategyId.UNANSWERED
    empty_reason: str = "every recent question got an answer"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Human questions with no reply and no later message of someone else within ten minutes."""
        now = now_of(turn)
        rows = Transcript.objects.filter(created_at__gte=now - self.recent, created_at__lt=now, author_is_bot=False)
        rows = (
            rows.filter(guild_id=turn.guild_id, is_dm=False)
            if not turn.is_dm
            else rows.filter(is_dm=True, channel_id=turn.channel_id)
        )
        replied = Transcript.objects.filter(reply_to_message_id=OuterRef("message_id"), platform=OuterRef("platform"))
        answered_soon = Transcript.objects.filter(
            channel_id=OuterRef("channel_id"),
            seq__gt=OuterRef("seq"),
            created_at__lte=OuterRef("created_at") + timedelta(minutes=10),
        ).exclude(author_id=OuterRef("author_id"))
        questions = (
            rows.filter(content__iregex=QUESTION)
            .exclude(Exists(replied))
            .exclude(Exists(answered_soon))
            .order_by("-created_at")[: self.limit]
        )
        open_items = [message_item(_live(row)) for row in questions]
        if not open_items:
            live = live_items(turn, self.live_size)
            return within_budget([gap(turn, self.empty_reason), heading(turn, "Recent messages"), *live], self.budget)
        return within_budget(
            [
                heading(turn, "Still open"),
                *open_items,
                heading(turn, "Recent messages"),
                *live_items(turn, self.live_size),
            ],
            self.budget,
        )


def _live(row: Transcript) -> LiveItem:
    return LiveItem(
        transcript_id=row.pk,
        seq=row.seq,
        platform=row.platform,
        message_id=row.message_id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        channel_name=row.channel_name,
        is_dm=row.is_dm,
        author_id=row.author_id,
        author_display_name=row.author_display_name,
        author_is_bot=row.author_is_bot,
        role=row.role,
        content=row.content,
        edited=False,
        reply_to_author_id=row.reply_to_author_id,
        mentions=tuple(row.mentions),
        created_at=row.created_at,
    )
