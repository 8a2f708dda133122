"""Tell a running host that its bot row changed (renamed, a new manifest, a setting overridden, deleted).

Not business logic: only cache invalidation, through a change stamp per bot (see `dit_project.stamps`); the
host compares it on every turn and reads the bot's revision only when it moved.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from bots.models import Bot, BotManifest, SettingOverride
from dit_project import stamps


def bot_stamp(bot_id: int) -> str:
    """The change stamp of one bot's row, manifests and overrides."""
    return f"bot:{bot_id}"


def bot_changed(sender: type, instance: Bot | BotManifest | SettingOverride, **kwargs: Any) -> None:
    """Bump the bot's stamp now and once the change is committed."""
    bot_id = instance.pk if isinstance(instance, Bot) else instance.bot_id
    stamps.bump(bot_stamp(bot_id))


def connect() -> None:
    """Connect the handlers (from BotsConfig.ready)."""
    for model in (Bot, BotManifest, SettingOverride):
        name = model.__name__
        post_save.connect(bot_changed, sender=model, dispatch_uid=f"bot-stamp-save-{name}")
        post_delete.connect(bot_changed, sender=model, dispatch_uid=f"bot-stamp-delete-{name}")
