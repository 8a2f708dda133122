"""System checks of the bots app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from dit_project.errors import SecretsKeyError
from dit_project.vault import keyring


@register(Tags.security, deploy=True)
def check_secrets_keys_configured(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """In deploy mode, warn when secrets at rest are encrypted with a key derived from SECRET_KEY."""
    if settings.DIT_SECRETS_KEYS:
        return []
    return [
        Warning(
            "DIT_SECRETS_KEYS is empty, so bot secrets are encrypted with a key derived from SECRET_KEY.",
            hint="Set DIT_SECRETS_KEYS to one or more Fernet keys (comma-separated, the first encrypts); "
            "rotating SECRET_KEY would otherwise make stored secrets unreadable.",
            id="bots.W001",
        )
    ]


@register(Tags.security)
def check_secrets_keys_valid(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """Every entry of DIT_SECRETS_KEYS must be a Fernet key."""
    try:
        keyring()
    except SecretsKeyError as exc:
        return [Error(exc.message, id="bots.E001")]
    return []
