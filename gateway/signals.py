"""Announce routing configuration changes so every process drops the plans it cached.

Not business logic: only cache invalidation. The version is bumped at once (so this process, and tests
inside one transaction, see it) and again after commit (so a process that re-read the old rows in
between does not keep them).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from gateway.models import GatewayPolicy, ModelPrice, PolicyFallback, Provider
from gateway.store import bump_config_version

ROUTING_MODELS = (Provider, ModelPrice, GatewayPolicy, PolicyFallback)


def routing_config_changed(sender: type, **kwargs: Any) -> None:
    """Bump the configuration version now and once the change is committed."""
    bump_config_version()
    transaction.on_commit(bump_config_version)


def connect() -> None:
    """Connect the handlers (from GatewayConfig.ready)."""
    for model in ROUTING_MODELS:
        post_save.connect(routing_config_changed, sender=model, dispatch_uid=f"gateway-config-save-{model.__name__}")
        post_delete.connect(
            routing_config_changed, sender=model, dispatch_uid=f"gateway-config-delete-{model.__name__}"
        )
