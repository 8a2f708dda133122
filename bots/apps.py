from django.apps import AppConfig


class BotsConfig(AppConfig):
    """Bots: manifests, typed settings, the host harness and the platform adapters."""

    name = "bots"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bots import checks, triggers  # noqa: F401  (registers the system checks and the reactor triggers)
