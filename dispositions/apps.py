from django.apps import AppConfig


class DispositionsConfig(AppConfig):
    """Personas, dispositions, the router and its decision log."""

    name = "dispositions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the change stamp of routing candidates and contribute decisions to reactor lineage."""
        from dispositions import (
            lineage,  # noqa: F401  (contributes decisions to reactor lineage)
            signals,
        )

        signals.connect()
