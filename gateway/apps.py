from django.apps import AppConfig


class GatewayConfig(AppConfig):
    """The model gateway: OpenAI-compatible, purpose-routed, budgeted."""

    name = "gateway"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from gateway import signals, triggers  # noqa: F401  (triggers declares the budget refresh)

        signals.connect()
