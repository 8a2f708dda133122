"""Memory's signals: callback material for running hosts, and forget-me for the apps that keep member data.

`callback_rows_added` is cache invalidation only, through the change stamp `memory.selectors.CALLBACK_STAMP`:
a host remembers per guild that it has no highlight or fact to prime a callback with; a new row ends that.

`member_forgotten` is sent by `memory.forgetting.forget_member` inside its transaction, after memory's own
rows are gone, so what other apps keep about the member goes with them or not at all. Keyword arguments:
`guild_id`, `user_id`, `alias` (the pseudonym redacted rows carry), `pattern` (a PostgreSQL regular
expression, case-insensitive, matching the member's mention and display names) and `message_ids` (the
platform ids of the member's messages in the guild; their transcripts are redacted after the signal). A
receiver returns a dict of `{label: rows}`, which the `ForgetRequest` row lists under `deleted`.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import Signal

from dit_project import stamps
from memory.models import Fact, Highlight
from memory.selectors import CALLBACK_STAMP

member_forgotten = Signal()


def callback_rows_added(sender: type, created: bool = False, **kwargs: Any) -> None:
    """Bump the callback stamp when a highlight or fact is added (now and once it is committed)."""
    if created:
        stamps.bump(CALLBACK_STAMP)


def connect() -> None:
    """Connect the handlers (from MemoryConfig.ready)."""
    for model in (Highlight, Fact):
        post_save.connect(callback_rows_added, sender=model, dispatch_uid=f"memory-callbacks-{model.__name__}")
