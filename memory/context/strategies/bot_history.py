"""The `bot-history` strategy: the bot's recent turns in the guild and how each landed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextItemKind, ContextStrategyId
from memory.context.gathering import live_items, now_of
from memory.context.items import gap, heading, within_budget
from memory.context.messages import render_message
from memory.context.strategies.unanswered import _live
from memory.context.types import ContextItem, ContextScope
from memory.models import Transcript
from memory.provenance import Provenance

QUOTE_WORDS = 5


@dataclass(frozen=True, slots=True)
class BotHistoryStrategy:
    """Each recent bot message with its replies and whether anyone quoted it later."""

    limit: int = 8
    live_size: int = 8
    budget: int = 1200
    strategy_id: ContextStrategyId = ContextStrategyId.BOT_HISTORY
    empty_reason: str = "the bot has not spoken here yet"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """The bot's last messages (oldest first), each with `-> N replies, quoted later: yes/no`."""
        rows = Transcript.objects.filter(author_is_bot=True, created_at__lt=now_of(turn))
        rows = (
            rows.filter(guild_id=turn.guild_id, is_dm=False)
            if not turn.is_dm
            else rows.filter(channel_id=turn.channel_id, is_dm=True)
        )
        mine = list(rows.order_by("-created_at", "-seq")[: self.limit])
        if not mine:
            live = live_items(turn, self.live_size)
            return within_budget([gap(turn, self.empty_reason), heading(turn, "Recent messages"), *live], self.budget)
        mine.reverse()
        later = list(
            Transcript.objects.filter(
                channel_id__in={row.channel_id for row in mine}, seq__gt=mine[0].seq, author_is_bot=False
            ).values_list("reply_to_message_id", "content", "channel_id")[:2000]
        )
        items = [heading(turn, "What the bot said lately, and how it landed")]
        for row in mine:
            replies = sum(1 for reply_to, _, _ in later if reply_to == row.message_id)
            quoted = _quoted(row.content, [content for _, content, channel in later if channel == row.channel_id])
            text = f"{render_message(_live(row))}\n  -> {replies} replies; quoted later: {'yes' if quoted else 'no'}"
            items.append(
                ContextItem(
                    kind=ContextItemKind.MESSAGE,
                    text=text,
                    provenance=Provenance(row.guild_id, row.channel_id, row.is_dm, frozenset()),
                    source=f"transcript:{row.pk}",
                    created_at=row.created_at,
                )
            )
        return within_budget([*items, heading(turn, "Recent messages"), *live_items(turn, self.live_size)], self.budget)


def _quoted(text: str, later: list[str]) -> bool:
    words = text.casefold().split()
    grams = {" ".join(words[i : i + QUOTE_WORDS]) for i in range(max(0, len(words) - QUOTE_WORDS + 1))}
    return any(gram in content.casefold() for content in later for gram in grams)
