"""The privacy boundary of context assembly, enforced in code rather than by prompting.

Every strategy's output passes through here, so every memory layer inherits the rules:
- a guild turn sees only that guild's material, and never anything drawn from direct messages;
- a DM turn sees its own DM channel, and other DM material only when it is by or about the requester
  alone; guild material stays out of DMs (a DM is not in any guild, and the requester may not be in it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from memory.context.types import ContextItem, ContextScope, Provenance

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Boundary:
    """Decides, from provenance alone, which context items a turn may see."""

    turn: ContextScope

    def admits(self, provenance: Provenance) -> bool:
        """Whether material with this provenance may enter this turn's context."""
        turn = self.turn
        if not turn.is_dm:
            return not provenance.is_dm and provenance.guild_id == turn.guild_id
        if not provenance.is_dm:
            return False
        if provenance.channel_id == turn.channel_id:
            return True
        # Unattributed DM material fails closed: it could be anyone's.
        return bool(provenance.subject_user_ids) and provenance.subject_user_ids <= {turn.requester_id}

    def apply(self, items: Iterable[ContextItem]) -> tuple[tuple[ContextItem, ...], int]:
        """The admitted items, in order, and how many were held back."""
        kept: list[ContextItem] = []
        dropped = 0
        for item in items:
            if self.admits(item.provenance):
                kept.append(item)
            else:
                dropped += 1
        if dropped:
            # A strategy offering out-of-bounds material is a bug in that strategy worth seeing.
            logger.warning(
                "context boundary held back %s items for turn in channel %s (dm=%s)",
                dropped,
                self.turn.channel_id,
                self.turn.is_dm,
            )
        return tuple(kept), dropped
