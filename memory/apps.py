from django.apps import AppConfig


class MemoryConfig(AppConfig):
    """Guild-wide layered memory: transcripts, highlights, lore, archive, epochs."""

    name = "memory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Declare memory's reactor triggers, connect the callback stamp, register memory's tools."""
        from memory import (
            signals,
            tools,
            triggers,  # noqa: F401  (declares archiving, epochs, extraction, consolidation, retention)
        )

        signals.connect()
        tools.register()
