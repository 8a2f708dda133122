"""Announcing deliveries on the Channels layer (Redis): a wake-up for a live recipient, never the record.

The delivery row in Postgres is the truth. A recipient that was down, or that missed an announcement
(a Redis restart), finds its waiting deliveries when it (re)subscribes.
"""

from __future__ import annotations

import logging
import re

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "reactor.delivery"
_GROUP = re.compile(r"^[a-zA-Z0-9_.\-]{1,90}$")


def recipient_group(recipient: str) -> str:
    """The Channels group of a recipient; group names allow letters, digits, '_', '.', '-'."""
    if not _GROUP.match(recipient):
        raise ValueError(f"recipient {recipient!r} is not a valid Channels group name")
    return recipient


def announce(recipient: str, delivery_id: str) -> None:
    """Tell a recipient's group that a delivery waits for it; a failure is logged, the row still waits."""
    layer = get_channel_layer()
    if layer is None:
        logger.warning("no channel layer configured: delivery %s waits for %s to look", delivery_id, recipient)
        return
    try:
        async_to_sync(layer.group_send)(recipient_group(recipient), {"type": MESSAGE_TYPE, "id": delivery_id})
    except (OSError, RedisError) as exc:
        logger.warning("could not announce delivery %s to %s (%s); it waits in Postgres", delivery_id, recipient, exc)
