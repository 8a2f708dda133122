"""The observability app: errors, metrics, the dashboard. It sits on top beside `bots`; no app imports it."""

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Connects the receivers that capture request and task failures and feed the live dashboard."""

    name = "observability"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the request and Celery receivers, and the live dashboard's."""
        from observability import receivers
        from observability.dashboard import live

        receivers.connect()
        live.connect()
