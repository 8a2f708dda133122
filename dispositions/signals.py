"""Tell running hosts that routing candidates changed, so they reload a persona's dispositions and weights.

Not business logic: only cache invalidation, through the change stamp `dispositions.services.ROUTING_STAMP`.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from dispositions.models import Disposition, Persona, PersonaDispositionWeight
from dispositions.services import ROUTING_STAMP
from dit_project import stamps

ROUTING_MODELS = (Persona, Disposition, PersonaDispositionWeight)


def routing_candidates_changed(sender: type, **kwargs: Any) -> None:
    """Bump the routing stamp now and once the change is committed."""
    stamps.bump(ROUTING_STAMP)


def connect() -> None:
    """Connect the handlers (from DispositionsConfig.ready)."""
    for model in ROUTING_MODELS:
        name = model.__name__
        post_save.connect(routing_candidates_changed, sender=model, dispatch_uid=f"routing-save-{name}")
        post_delete.connect(routing_candidates_changed, sender=model, dispatch_uid=f"routing-delete-{name}")
