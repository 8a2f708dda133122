from django.apps import AppConfig


class StewardConfig(AppConfig):
    """Steward skills: the walled-garden skill registry and server stewardship."""

    name = "steward"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect forget-me's receiver."""
        from steward import signals

        signals.connect()
