"""Tell running hosts that routing candidates changed, so they reload a persona's dispositions and weights;
announce decisions as the host writes them.

Not business logic: only cache invalidation, through the change stamp `dispositions.services.ROUTING_STAMP`,
and two announcements for watchers (the live dashboard), since the host writes decisions in raw SQL that
sends no `post_save`.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal

from dispositions.models import (
    DecisionReception,
    Disposition,
    DispositionDecision,
    Persona,
    PersonaDispositionWeight,
    SubagentRun,
)
from dispositions.services import ROUTING_STAMP
from dit_project import stamps
from memory.forgetting import FORGOTTEN_NAME, REDACTED
from memory.signals import member_forgotten

ROUTING_MODELS = (Persona, Disposition, PersonaDispositionWeight)

# Sent with sender=DispositionDecision and decision=<the row as written, pk set> by the writer, right after
# its statement, on the writer's thread: a receiver must return at once and defer anything slow to commit.
decision_recorded = Signal()
# Sent the same way once the turn's outcome is written; `decision` carries only the pk and the outcome fields
# (beat_count, latency_ms, cost_usd, model_used, interruption, outcome).
decision_finished = Signal()


def routing_candidates_changed(sender: type, **kwargs: Any) -> None:
    """Bump the routing stamp now and once the change is committed."""
    stamps.bump(ROUTING_STAMP)


def forget_member_data(
    sender: type,
    *,
    guild_id: str,
    user_id: str,
    alias: str,
    pattern: str,
    message_ids: list[str],
    **kwargs: Any,
) -> dict[str, int]:
    """Forget-me in the decisions of a guild (inside its transaction).

    The member's own messages lose their words in the router's logged inputs and other people's lose the
    member's names; research payloads that name the member, or were gathered for their messages, are
    dropped; reception rows keep the reaction and carry the pseudonym instead of the member's id, as the
    router's logged inputs do wherever else they held it (the people present, the sender).
    """
    runs = (
        SubagentRun.objects.filter(decision__guild_id=guild_id)
        .alias(given=Cast("input_payload", TextField()), found=Cast("output_payload", TextField()))
        .filter(Q(given__iregex=pattern) | Q(found__iregex=pattern) | Q(decision__inbound_message_id__in=message_ids))
    )
    redacted_payload = {"redacted": REDACTED}
    runs_redacted = runs.update(input_payload=redacted_payload, output_payload=redacted_payload)
    receptions = DecisionReception.objects.filter(decision__guild_id=guild_id, user_id=user_id).update(user_id=alias)
    table = DispositionDecision._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET router_inputs = jsonb_set(router_inputs, '{{context,message_text}}', "  # noqa: S608
            "CASE WHEN inbound_message_id = ANY(%s) THEN to_jsonb(%s::text) ELSE to_jsonb(regexp_replace("
            "router_inputs #>> '{{context,message_text}}', %s, %s, 'gi')) END) "
            "WHERE guild_id = %s AND router_inputs #> '{{context,message_text}}' IS NOT NULL "
            "AND (inbound_message_id = ANY(%s) OR router_inputs #>> '{{context,message_text}}' ~* %s)",
            [message_ids, REDACTED, pattern, f"[{FORGOTTEN_NAME}]", guild_id, message_ids, pattern],
        )
        decisions = int(cursor.rowcount)
        # Their id anywhere else in the logged inputs (present users, the sender) becomes the pseudonym.
        quoted, renamed = json.dumps(user_id), json.dumps(alias)
        cursor.execute(
            f"UPDATE {table} SET router_inputs = replace(router_inputs::text, %s, %s)::jsonb "  # noqa: S608
            "WHERE guild_id = %s AND strpos(router_inputs::text, %s) > 0",
            [quoted, renamed, guild_id, quoted],
        )
        ids_renamed = int(cursor.rowcount)
    return {
        "decisions_redacted": decisions,
        "decisions_renamed": ids_renamed,
        "subagent_runs_redacted": runs_redacted,
        "receptions_renamed": receptions,
    }


def connect() -> None:
    """Connect the handlers (from DispositionsConfig.ready)."""
    member_forgotten.connect(forget_member_data, dispatch_uid="dispositions-forget-member")
    for model in ROUTING_MODELS:
        name = model.__name__
        post_save.connect(routing_candidates_changed, sender=model, dispatch_uid=f"routing-save-{name}")
        post_delete.connect(routing_candidates_changed, sender=model, dispatch_uid=f"routing-delete-{name}")
