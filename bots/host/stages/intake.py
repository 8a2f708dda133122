"""Intake: an inbound message is stored, read for its address, let through preflight and claimed.

The message is stored for every bot of the guild (memory keeps it once); this bot claims it, in the same
transaction, only when it owes the message a turn: it addresses nobody else in particular, passes
preflight, and the bot is up. A dropped message is still memory and context; it just starts no turn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError
from django.utils import timezone

from bots.adapters.base import InboundMessage
from bots.host.addressing import Address
from bots.host.lines import ingest_message_for
from bots.host.parts import HostParts
from bots.host.preflight import preflight
from memory.errors import InvalidIngestMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Taken:
    """A message this bot owes a turn: how it addresses the bot and where it arrived in the ledger."""

    message: InboundMessage
    address: Address
    seq: int


async def take(message: InboundMessage, parts: HostParts, *, accepting: bool, catchup: bool) -> Taken | None:
    """Store and read one inbound message; the message to group into a turn, or None."""
    presence = parts.presence
    if presence.needs_account_lookup(message):
        # Another of our bots may have logged in since we last looked: re-read the accounts before this bot
        # could take its message for a stranger's and start a loop between the two. A bot records its
        # account before it can speak, so one look per unknown bot is enough.
        presence.learn_accounts(await parts.port.own_user_ids(), looked_up=message.author.id)
    address = presence.address(message)
    verdict = preflight(message, address=address, own_user_ids=presence.own_user_ids, config=parts.config)
    owed = verdict.accepted and presence.identity is not None and accepting
    try:
        accepted = await parts.port.accept(ingest_message_for(message), claim=message if owed else None)
    except InvalidIngestMessage as exc:
        logger.warning("message %s not ingested: %s", message.message.id, exc.message)
        return None
    except IntegrityError:
        # The claim names a bot row that is gone (deleted under the running host): the host stops for good.
        logger.error("message %s: this bot's row is gone; not taking the message", message.message.id)
        parts.bot_gone.set()
        return None
    arrival = parts.ledger.record(message, is_own=presence.is_own(message.author.id))
    if message.is_edit or arrival is None:
        return None
    parts.port.saw(message)
    if parts.limiter is not None and not message.author.is_bot and not message.is_dm:
        await parts.limiter.human_spoke(message.channel.id)
    if not verdict.accepted:
        logger.debug("message %s starts no turn: %s", message.message.id, verdict.reason)
        return None
    if not owed or not accepted.claimed:
        # Not up yet, draining, or this bot took the message before (a replay, a resume overlap).
        return None
    return await _fresh_enough(Taken(message, address, arrival.seq), parts, catchup=catchup)


async def retake(message: InboundMessage, parts: HostParts) -> Taken | None:
    """A message a stopped process claimed and never answered, taken again (it is stored and claimed)."""
    arrival = parts.ledger.record(message, is_own=parts.presence.is_own(message.author.id))
    if arrival is None:
        # Already in this process's ledger: it is waiting for its turn here, not owed from before.
        return None
    address = parts.presence.address(message)
    verdict = preflight(message, address=address, own_user_ids=parts.presence.own_user_ids, config=parts.config)
    if not verdict.accepted:
        await parts.port.settle([message.message.id], platform=message.platform, reason=verdict.reason)
        return None
    return await _fresh_enough(Taken(message, address, arrival.seq), parts, catchup=True)


async def _fresh_enough(taken: Taken, parts: HostParts, *, catchup: bool) -> Taken | None:
    message = taken.message
    if catchup:
        age = (timezone.now() - message.created_at).total_seconds()
        if age > parts.config.catchup_max_age_seconds:
            logger.info("missed message %s is %.0fs old: kept as context only", message.message.id, age)
            await parts.port.settle([message.message.id], platform=message.platform, reason="too old when caught up")
            return None
    return taken
