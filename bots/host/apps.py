from django.apps import AppConfig


class HostAppConfig(AppConfig):
    """The host harness: outbound beats, channel mutes and the platform accounts of the bots it runs."""

    name = "bots.host"
    label = "host"
    verbose_name = "Host harness"
    default_auto_field = "django.db.models.BigAutoField"
