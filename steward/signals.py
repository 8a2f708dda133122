"""Forget-me reaches the steward: a forgotten member's threat score goes with their memory."""

from __future__ import annotations

from typing import Any

from memory.signals import member_forgotten
from steward.models import MemberThreat


def forget_threat(sender: type, *, guild_id: str, user_id: str, **kwargs: Any) -> dict[str, int]:
    """Delete the member's threat score in the guild (inside forget-me's transaction)."""
    deleted, _ = MemberThreat.objects.filter(guild_id=guild_id, user_id=user_id).delete()
    return {"member_threats": deleted}


def connect() -> None:
    """Connect the handlers (from StewardConfig.ready)."""
    member_forgotten.connect(forget_threat, dispatch_uid="steward-forget-threat")
