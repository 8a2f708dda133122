from django.apps import AppConfig


class BotsConfig(AppConfig):
    """Bots: manifests, typed settings, the host harness and the platform adapters."""

    name = "bots"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bots import (
            checks,  # noqa: F401  (registers the system checks)
            signals,
            triggers,  # noqa: F401  (registers the reactor triggers)
        )

        signals.connect()
