"""Tell a running host that its bot row changed (renamed, a new manifest, a setting overridden, deleted), and
let forget-me reach the tasks a member asked for and the words self-followups keep.

The stamp is not business logic: only cache invalidation, through a change stamp per bot (see
`dit_project.stamps`); the host compares it on every turn and reads the bot's revision only when it moved.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.signals import post_delete, post_save

from bots.followups import topic_terms
from bots.models import Bot, BotManifest, SettingOverride, TaskRun
from dit_project import stamps
from memory.forgetting import FORGOTTEN_NAME, REDACTED
from memory.signals import member_forgotten
from reactor.models import Delivery, SelfFollowupSchedule

_Row = TypeVar("_Row", bound=Model)


def bot_stamp(bot_id: int) -> str:
    """The change stamp of one bot's row, manifests and overrides."""
    return f"bot:{bot_id}"


def bot_changed(sender: type, instance: Bot | BotManifest | SettingOverride, **kwargs: Any) -> None:
    """Bump the bot's stamp now and once the change is committed."""
    bot_id = instance.pk if isinstance(instance, Bot) else instance.bot_id
    stamps.bump(bot_stamp(bot_id))


def forget_tasks(sender: type, *, guild_id: str, user_id: str, **kwargs: Any) -> dict[str, int]:
    """Delete the tasks a forgotten member asked for in the guild (their goals and results quote them)."""
    deleted, _ = TaskRun.objects.filter(guild_id=guild_id, requested_by=user_id).delete()
    return {"task_runs": deleted}


def forget_followups(
    sender: type, *, guild_id: str, pattern: str, message_ids: list[str], **kwargs: Any
) -> dict[str, int]:
    """Redact the words self-followups keep: the message they answered and what the bot said about it.

    A follow-up of the member's own message loses that message's words; any other loses the member's
    names, in its schedule's context and in the turn handed to the bot (a delivery's `previous`).
    """
    followups = 0
    schedules = SelfFollowupSchedule.objects.filter(guild_id=guild_id)
    for followup in _of_the_member(schedules, "context", "context__answered_message_id", pattern, message_ids):
        followup.context = _forget_in_previous(followup.context, pattern, message_ids)
        followup.save(update_fields=["context", "updated_at"])
        followups += 1
    handed = 0
    deliveries = Delivery.objects.filter(trigger__guild_id=guild_id)
    answered = "payload__previous__answered_message_id"
    for delivery in _of_the_member(deliveries, "payload", answered, pattern, message_ids):
        previous = delivery.payload.get("previous")
        if isinstance(previous, dict):
            delivery.payload = {**delivery.payload, "previous": _forget_in_previous(previous, pattern, message_ids)}
            delivery.save(update_fields=["payload"])
            handed += 1
    return {"followups_redacted": followups, "deliveries_redacted": handed}


def _of_the_member(rows: QuerySet[_Row], field: str, answered: str, pattern: str, ids: list[str]) -> QuerySet[_Row]:
    """The rows whose JSON `field` answers one of the member's messages (the `answered` lookup) or names them."""
    with_text: QuerySet[_Row] = rows.alias(text=Cast(field, TextField()))
    return with_text.filter(Q(**{f"{answered}__in": ids}) | Q(text__iregex=pattern))


def _forget_in_previous(data: dict[str, Any], pattern: str, message_ids: list[str]) -> dict[str, Any]:
    said = [str(line) for line in data.get("said", [])]
    topic = str(data.get("topic_text", ""))
    if data.get("answered_message_id") in message_ids:
        # The topic is the answered message followed by what the bot said.
        topic = "\n".join((REDACTED, *said))
    *said, topic = _without_names([*said, topic], pattern)
    return {**data, "said": said, "topic_text": topic, "topic_terms": sorted(topic_terms(topic))}


def _without_names(texts: list[str], pattern: str) -> list[str]:
    """`texts` with every match of the member's name pattern (a Postgres regex) replaced, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT regexp_replace(t, %s, %s, 'gi') FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
            [pattern, f"[{FORGOTTEN_NAME}]", texts],
        )
        return [str(row[0]) for row in cursor.fetchall()]


def connect() -> None:
    """Connect the handlers (from BotsConfig.ready)."""
    member_forgotten.connect(forget_tasks, dispatch_uid="bots-forget-tasks")
    member_forgotten.connect(forget_followups, dispatch_uid="bots-forget-followups")
    for model in (Bot, BotManifest, SettingOverride):
        name = model.__name__
        post_save.connect(bot_changed, sender=model, dispatch_uid=f"bot-stamp-save-{name}")
        post_delete.connect(bot_changed, sender=model, dispatch_uid=f"bot-stamp-delete-{name}")
