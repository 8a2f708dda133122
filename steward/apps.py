from django.apps import AppConfig


class StewardConfig(AppConfig):
    """Steward skills: the walled-garden skill registry and server stewardship."""

    name = "steward"
    default_auto_field = "django.db.models.BigAutoField"
