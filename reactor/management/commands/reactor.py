"""`manage.py reactor`: the dispatcher that hands due triggers to Celery (any number may run at once)."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand

from reactor.dispatcher import Dispatcher, DispatcherConfig, celery_sender


class Command(BaseCommand):
    help = (
        "Run the reactor's dispatcher until SIGTERM or SIGINT: sleep until the next due trigger or a NOTIFY, "
        "send what is due to Celery, take back what lost workers or a flushed broker dropped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        config = DispatcherConfig.from_settings()
        dispatcher = Dispatcher(sender=celery_sender(config.queue), config=config)

        def stop(signum: int, frame: object) -> None:
            dispatcher.stop_requested.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        dispatcher.serve()
