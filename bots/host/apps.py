from django.apps import AppConfig


class HostAppConfig(AppConfig):
    """The host harness: outbound beats, channel mutes and the platform accounts of the bots it runs."""

    name = "bots.host"
    label = "host"
    verbose_name = "Host harness"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Purge the host's claims when retention purges the transcripts they are about."""
        from bots.host import receivers

        receivers.connect()
