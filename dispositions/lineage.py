"""The dispositions side of reactor lineage: the decisions triggers started and the messages turns answered."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q
from django.urls import reverse

from dispositions.choices import TriggerKind
from dispositions.models import DispositionDecision
from reactor.lineage import DecisionNode, DecisionQuery, decision_source


@decision_source
def decisions_for(query: DecisionQuery) -> Sequence[DecisionNode]:
    """Decisions started by the query's triggers, answering its messages, or named by id."""
    wanted = Q(pk__in=query.decision_ids) | Q(trigger_id__in=query.trigger_ids)
    if query.message_ids:
        wanted |= Q(trigger_kind=TriggerKind.REACTIVE, inbound_message_id__in=query.message_ids)
    if not (query.decision_ids or query.trigger_ids or query.message_ids):
        return []
    rows = DispositionDecision.objects.filter(wanted).values_list(
        "pk", "trigger_kind", "chosen_slug", "created_at", "trigger_id", "inbound_message_id"
    )
    return [
        DecisionNode(
            id=pk,
            label=f"decision #{pk} ({kind}) -> {slug}",
            created_at=created_at,
            trigger_id=trigger_id,
            inbound_message_id=inbound,
            url=reverse("admin:dispositions_dispositiondecision_change", args=[pk]),
        )
        for pk, kind, slug, created_at, trigger_id, inbound in rows
    ]
