"""Looking again before sending: send as is, reply, fold new words in, or drop the turn as stale.

Messages that arrived while the turn was composed change what it should do. Nothing new: send. The
person who addressed the bot added more: fold it in (one more synthesizer call) and reply. Several others
spoke and the bot was not addressed: the moment passed, drop it. Otherwise reply to the message answered,
so the answer stays attached to its question.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bots.host.choices import RecheckOutcome
from bots.host.lines import line_for_arrival
from bots.host.parts import HostParts
from bots.host.values import Draft, TurnPlan

logger = logging.getLogger(__name__)

FOLD_NOTE = "They added more while you were answering; answer all of it."


async def recheck(plan: TurnPlan, draft: Draft, parts: HostParts) -> Draft:
    """The draft as the channel now stands; its `recheck` says what was decided (STALE: send nothing)."""
    request = plan.request
    if not request.reactive:
        return draft
    ledger = parts.ledger
    turn_ids = set(request.message_ids)
    after = [a for a in ledger.since(request.channel.id, request.last_seq) if a.message_id not in turn_ids]
    humans = [a for a in after if a.is_human and not ledger.is_consumed(a.message_id)]
    answered = request.answered
    target = draft.reply_to or answered.message
    directly = request.address.addressed or answered.is_dm
    if not after:
        return replace(draft, recheck=RecheckOutcome.SEND)
    if not directly and len(humans) >= parts.config.recheck_stale_messages:
        logger.info("turn for %s is stale: %s messages arrived meanwhile", answered.message.id, len(humans))
        return replace(draft, recheck=RecheckOutcome.STALE)
    same_author = [a for a in humans if a.author_id == answered.author.id]
    if directly and same_author:
        ledger.consume([a.message_id for a in same_author])
        more = tuple(line_for_arrival(a, request.channel) for a in same_author)
        again = await parts.synthesize(replace(draft.request, answering=draft.request.answering + more, note=FOLD_NOTE))
        folded = replace(draft, recheck=RecheckOutcome.FOLD, folded=tuple(a.message_id for a in same_author))
        return replace(folded.with_synthesis(again), reply_to=target)
    return replace(draft, recheck=RecheckOutcome.REPLY, reply_to=target)
