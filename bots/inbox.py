"""The bot side of reactor-started turns: the inbox a bot process reads its scheduled turns from.

    async with TurnInbox(bot_id=bot.pk) as inbox:
        async for turn in inbox:          # ScheduledTurn values, each claimed at most once
            ...run it in its channel's lane...
            await inbox.finish(turn, decision_id=decision.pk, end="spoke")

With `task_results=True` (the host's inbox) it also yields the results of task workers (`TaskResult`, delivery
kind `task_result`), each claimed at most once, for the host to post (`bots.task_workers`).

Deliveries are rows in Postgres (written by the triggers' effects) announced on the Channels layer
(Redis, channels-redis). On start the inbox joins its group, then reads every delivery still waiting
for it, so turns handed over while the bot was down run when it returns (or have expired by their own
rule). Each delivery is claimed with a conditional update before it is yielded, so one turn is never
taken twice, by one process or by two. The group membership is renewed (and the waiting rows read
again) every `renew_seconds`, which also finds a delivery whose announcement a Redis restart lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.utils import timezone

from bots.scheduled_turns import TURN_DELIVERY, ScheduledTurn, recipient_for, turn_finished
from bots.task_workers import TASK_RESULT_DELIVERY, TaskResult, task_posted
from reactor.choices import DeliveryStatus
from reactor.delivery import MESSAGE_TYPE
from reactor.models import Delivery
from reactor.services import delivery_claim

logger = logging.getLogger(__name__)

__all__ = ["InboxItem", "ScheduledTurn", "TaskResult", "TurnInbox"]

InboxItem = ScheduledTurn | TaskResult


def _waiting_ids(recipient: str, kinds: tuple[str, ...]) -> list[uuid.UUID]:
    return list(
        Delivery.objects.filter(
            recipient=recipient, kind__in=kinds, status=DeliveryStatus.WAITING, expires_at__gt=timezone.now()
        )
        .order_by("created_at")
        .values_list("trigger_id", flat=True)
    )


def _claim(delivery_id: uuid.UUID, recipient: str, kinds: tuple[str, ...]) -> InboxItem | None:
    delivery = delivery_claim(delivery_id=delivery_id, recipient=recipient, kinds=kinds)
    if delivery is None:
        return None
    try:
        if delivery.kind == TASK_RESULT_DELIVERY:
            return TaskResult.from_payload(delivery.payload)
        return ScheduledTurn.from_payload(delivery.payload)
    except (KeyError, TypeError, ValueError) as exc:
        logger.error("delivery %s has a payload that is not a %s: %s", delivery_id, delivery.kind, exc)
        return None


class TurnInbox:
    """The scheduled turns of one bot, read from its Channels group and from Postgres."""

    def __init__(
        self,
        *,
        bot_id: int,
        layer: BaseChannelLayer | None = None,
        renew_seconds: float = 600.0,
        task_results: bool = False,
    ) -> None:
        self.bot_id = bot_id
        self._kinds = (TURN_DELIVERY, TASK_RESULT_DELIVERY) if task_results else (TURN_DELIVERY,)
        self.recipient = recipient_for(bot_id)
        self._layer = layer
        self._renew_seconds = renew_seconds
        self._channel: str | None = None
        self._backlog: list[uuid.UUID] = []
        self._queued: set[uuid.UUID] = set()

    async def start(self) -> None:
        """Join the bot's group, then queue every delivery already waiting (the join comes first: none is missed)."""
        layer = self._layer or get_channel_layer()
        if layer is None:
            raise RuntimeError("no Channels layer is configured (CHANNEL_LAYERS); the inbox needs one")
        self._layer = layer
        self._channel = await layer.new_channel()
        await layer.group_add(self.recipient, self._channel)
        await self._sweep()

    async def stop(self) -> None:
        """Leave the group; deliveries not yet claimed wait in Postgres for the next start."""
        if self._layer is not None and self._channel is not None:
            with contextlib.suppress(Exception):
                await self._layer.group_discard(self.recipient, self._channel)
        self._channel = None

    async def __aenter__(self) -> TurnInbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def __aiter__(self) -> AsyncIterator[InboxItem]:
        return self._items()

    async def _items(self) -> AsyncIterator[InboxItem]:
        while True:
            yield await self.next_item()

    async def _sweep(self) -> None:
        for delivery_id in await sync_to_async(_waiting_ids)(self.recipient, self._kinds):
            self._enqueue(delivery_id)

    def _enqueue(self, delivery_id: uuid.UUID) -> None:
        if delivery_id not in self._queued:
            self._queued.add(delivery_id)
            self._backlog.append(delivery_id)

    async def next_turn(self) -> ScheduledTurn:
        """The next turn for this bot, claimed (waits until one arrives); for an inbox of turns only."""
        if TASK_RESULT_DELIVERY in self._kinds:
            raise RuntimeError("this inbox also takes task results: read it with next_item()")
        item = await self.next_item()
        assert isinstance(item, ScheduledTurn)  # noqa: S101 - only turn deliveries are claimed here
        return item

    async def next_item(self) -> InboxItem:
        """The next turn or task result for this bot, claimed (waits until one arrives)."""
        layer, channel = self._layer, self._channel
        if layer is None or channel is None:
            raise RuntimeError("start the inbox (or use `async with`) before reading turns")
        while True:
            while self._backlog:
                delivery_id = self._backlog.pop(0)
                self._queued.discard(delivery_id)
                item = await sync_to_async(_claim)(delivery_id, self.recipient, self._kinds)
                if isinstance(item, TaskResult):
                    logger.info("bot %s took the result of task %s", self.bot_id, item.task_id)
                    return item
                if item is not None:
                    logger.info("bot %s took scheduled turn %s (%s)", self.bot_id, item.trigger_id, item.trigger_kind)
                    return item
            try:
                message: dict[str, Any] = await asyncio.wait_for(layer.receive(channel), timeout=self._renew_seconds)
            except TimeoutError:
                # Group memberships expire in channels-redis; renewing is also the moment to look again.
                await layer.group_add(self.recipient, channel)
                await self._sweep()
                continue
            if message.get("type") == MESSAGE_TYPE:
                with contextlib.suppress(KeyError, ValueError):
                    self._enqueue(uuid.UUID(str(message["id"])))

    async def finish(self, turn: ScheduledTurn, *, decision_id: int | None, end: str) -> None:
        """Report how a turn ended (its decision, or None when none was made) on its delivery and trigger."""
        await sync_to_async(turn_finished)(turn, decision_id=decision_id, end=end)

    async def finish_task(self, result: TaskResult, *, message_id: str, end: str) -> None:
        """Report a task result's posting (its message id, or "" when nothing was sent) on the task and delivery."""
        await sync_to_async(task_posted)(result, message_id=message_id, end=end)
