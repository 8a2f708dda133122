from django.apps import AppConfig


class ReactorConfig(AppConfig):
    """The reactor: events, durable jobs and triggers; Celery executes, Postgres remembers."""

    name = "reactor"
    default_auto_field = "django.db.models.BigAutoField"
