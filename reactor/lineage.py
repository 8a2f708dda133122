"""Lineage: an event, the triggers it caused, the decisions they produced, the follow-ups those scheduled.

Decisions live in the dispositions app, which the reactor does not import: it contributes them here with
`@decision_source`, from its own AppConfig.ready. The reactor walks events, triggers and follow-ups
itself and asks the sources for the decisions in between.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse

from reactor.models import ReactorEvent, SelfFollowupSchedule, Trigger

MAX_NODES = 200


@dataclass(frozen=True, slots=True)
class DecisionQuery:
    """What to find decisions for: triggers that started turns, messages that were answered, decision ids."""

    trigger_ids: tuple[uuid.UUID, ...] = ()
    message_ids: tuple[str, ...] = ()
    decision_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionNode:
    """A decision as a source describes it."""

    id: int
    label: str
    created_at: datetime
    trigger_id: uuid.UUID | None = None
    inbound_message_id: str = ""
    url: str = ""


DecisionSource = Callable[[DecisionQuery], Sequence[DecisionNode]]
_sources: list[DecisionSource] = []


def decision_source(source: DecisionSource) -> DecisionSource:
    """Register a function that finds decisions for a lineage (the dispositions app's)."""
    if source not in _sources:
        _sources.append(source)
    return source


def find_decisions(query: DecisionQuery) -> list[DecisionNode]:
    """Every registered source's decisions for `query`, each once, oldest first."""
    found: dict[int, DecisionNode] = {}
    for source in _sources:
        for node in source(query):
            found.setdefault(node.id, node)
    return sorted(found.values(), key=lambda node: (node.created_at, node.id))


@dataclass
class LineageNode:
    """One step of a lineage: an event, a trigger, a decision or a follow-up, with what it caused."""

    kind: str
    id: str
    label: str
    status: str = ""
    at: datetime | None = None
    url: str = ""
    children: list[LineageNode] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, children nested."""
        return {
            "kind": self.kind,
            "id": self.id,
            "label": self.label,
            "status": self.status,
            "at": self.at.isoformat() if self.at else None,
            "url": self.url,
            "children": [child.as_dict() for child in self.children],
        }


class _Walk:
    """A bounded walk: each object appears once, and the whole lineage stays under MAX_NODES."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def visit(self, kind: str, key: object) -> bool:
        marker = (kind, str(key))
        if marker in self.seen or len(self.seen) >= MAX_NODES:
            return False
        self.seen.add(marker)
        return True

    def event(self, event: ReactorEvent) -> LineageNode:
        node = LineageNode(
            kind="event",
            id=str(event.pk),
            label=f"{event.kind} in {event.channel_id or event.guild_id or 'no channel'}",
            at=event.created_at,
            url=reverse("admin:reactor_reactorevent_change", args=[event.pk]),
        )
        self.visit("event", event.pk)
        for trigger in Trigger.objects.filter(parent_event=event, parent_trigger__isnull=True).order_by("created_at"):
            if self.visit("trigger", trigger.pk):
                node.children.append(self.trigger(trigger))
        message_id = event.payload.get("message_id")
        if isinstance(message_id, str) and message_id:
            for decision in find_decisions(DecisionQuery(message_ids=(message_id,))):
                if decision.trigger_id is None and self.visit("decision", decision.id):
                    node.children.append(self.decision(decision))
        return node

    def trigger(self, trigger: Trigger) -> LineageNode:
        node = LineageNode(
            kind="trigger",
            id=str(trigger.pk),
            label=trigger.kind,
            status=trigger.status,
            at=trigger.due_at,
            url=reverse("admin:reactor_trigger_change", args=[trigger.pk]),
        )
        for child in trigger.children.order_by("created_at"):
            if self.visit("trigger", child.pk):
                node.children.append(self.trigger(child))
        for decision in find_decisions(DecisionQuery(trigger_ids=(trigger.pk,))):
            if self.visit("decision", decision.id):
                node.children.append(self.decision(decision))
        return node

    def decision(self, decision: DecisionNode) -> LineageNode:
        node = LineageNode(
            kind="decision", id=str(decision.id), label=decision.label, at=decision.created_at, url=decision.url
        )
        for followup in SelfFollowupSchedule.objects.filter(parent_decision_id=decision.id).order_by("created_at"):
            if self.visit("followup", followup.pk):
                node.children.append(self.followup(followup))
        return node

    def followup(self, followup: SelfFollowupSchedule) -> LineageNode:
        label = f"follow-up ({followup.bias})" + (f": {followup.abort_reason}" if followup.abort_reason else "")
        node = LineageNode(
            kind="followup",
            id=str(followup.pk),
            label=label,
            status=followup.status,
            at=followup.scheduled_for,
            url=reverse("admin:reactor_selffollowupschedule_change", args=[followup.pk]),
        )
        # Every trigger acting for a follow-up carries its id (the evaluation, each deferral).
        for trigger in Trigger.objects.filter(payload__followup_id=followup.pk).order_by("created_at"):
            if self.visit("trigger", trigger.pk):
                node.children.append(self.trigger(trigger))
        if followup.fired_decision_id is not None:
            for decision in find_decisions(DecisionQuery(decision_ids=(followup.fired_decision_id,))):
                if self.visit("decision", decision.id):
                    node.children.append(self.decision(decision))
        return node


def event_lineage(event: ReactorEvent) -> LineageNode:
    """What an event caused: its triggers, their children, the decisions and follow-ups that came of them."""
    return _Walk().event(event)


def trigger_lineage(trigger: Trigger) -> LineageNode:
    """What a trigger caused, from the event that started its chain when there is one."""
    root = trigger
    while root.parent_trigger_id is not None:
        parent = Trigger.objects.filter(pk=root.parent_trigger_id).first()
        if parent is None:
            break
        root = parent
    if root.parent_event is not None:
        return event_lineage(root.parent_event)
    walk = _Walk()
    walk.visit("trigger", root.pk)
    return walk.trigger(root)
