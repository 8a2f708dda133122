"""Tell a running host that its bot row changed (renamed, a new manifest, a setting overridden, deleted), and
let forget-me reach the tasks a member asked for.

The stamp is not business logic: only cache invalidation, through a change stamp per bot (see
`dit_project.stamps`); the host compares it on every turn and reads the bot's revision only when it moved.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from bots.models import Bot, BotManifest, SettingOverride, TaskRun
from dit_project import stamps
from memory.signals import member_forgotten


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


def connect() -> None:
    """Connect the handlers (from BotsConfig.ready)."""
    member_forgotten.connect(forget_tasks, dispatch_uid="bots-forget-tasks")
    for model in (Bot, BotManifest, SettingOverride):
        name = model.__name__
        post_save.connect(bot_changed, sender=model, dispatch_uid=f"bot-stamp-save-{name}")
        post_delete.connect(bot_changed, sender=model, dispatch_uid=f"bot-stamp-delete-{name}")
