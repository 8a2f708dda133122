"""The reactor's one announcement: an event row has been committed.

Sent from `transaction.on_commit` by `reactor.services.emit_event`, so a receiver never sees an event
whose transaction rolled back. The trigger machinery subscribes here.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with sender=ReactorEvent and event=<the committed ReactorEvent>.
event_committed = Signal()
