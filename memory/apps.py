from django.apps import AppConfig


class MemoryConfig(AppConfig):
    """Guild-wide layered memory: transcripts, highlights, lore, archive, epochs."""

    name = "memory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from memory import triggers  # noqa: F401  (declares transcript retention)
