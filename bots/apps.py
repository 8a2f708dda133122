from django.apps import AppConfig


class BotsConfig(AppConfig):
    """Bots: manifests, typed settings, the host harness and the platform adapters."""

    name = "bots"
    default_auto_field = "django.db.models.BigAutoField"
