"""Preflight: the drops made before any model call. A dropped message is still context; it just starts no turn."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bots.adapters.base import InboundMessage
from bots.host.addressing import Address
from bots.host.config import HostConfig


@dataclass(frozen=True, slots=True)
class Preflight:
    """Whether a message may start a turn; `reason` names the rule that dropped it."""

    accepted: bool
    reason: str = ""


ACCEPTED = Preflight(True)


def preflight(
    message: InboundMessage, *, address: Address, own_user_ids: Collection[str], config: HostConfig
) -> Preflight:
    """The first rule that drops `message`, or ACCEPTED."""
    author = message.author
    if author.id in own_user_ids:
        # Any of our bots' accounts, not only this one: two of our bots can never talk each other into a loop.
        return Preflight(False, "own bot's message")
    if message.is_edit:
        return Preflight(False, "an edit starts no turn")
    if author.is_bot and author.id not in config.allowed_bots:
        return Preflight(False, "another bot (not in ALLOWED_BOTS)")
    if not message.is_dm:
        places = {message.channel.id}
        if message.channel.parent_id:
            places.add(message.channel.parent_id)
        if places & config.denied_channels:
            return Preflight(False, "channel in DENIED_CHANNELS")
        if config.allowed_channels and not places & config.allowed_channels:
            return Preflight(False, "channel not in ALLOWED_CHANNELS")
        if config.require_mention and not address.addressed:
            return Preflight(False, "not addressed and REQUIRE_MENTION is on")
    if not message.content.strip() and not message.attachment_count:
        return Preflight(False, "empty message")
    return ACCEPTED
