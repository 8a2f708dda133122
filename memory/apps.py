from django.apps import AppConfig


class MemoryConfig(AppConfig):
    """Guild-wide layered memory: transcripts, highlights, lore, archive, epochs."""

    name = "memory"
    default_auto_field = "django.db.models.BigAutoField"
