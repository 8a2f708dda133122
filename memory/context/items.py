"""Memory rows as context items: one rendered block each, with the provenance the boundary decides on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from memory.choices import ContextItemKind, Visibility
from memory.context.types import ContextItem, ContextScope, Provenance
from memory.embedding.tokens import count_tokens
from memory.models import CoreBlock, Dossier, Epoch, Fact, GroupLore, Highlight
from memory.search import SearchHit


def provenance_of(row: Dossier | Highlight | Fact | GroupLore | Epoch | CoreBlock) -> Provenance:
    """Where a memory row came from and whom it is about."""
    subjects = {row.subject_user_id} if row.subject_user_id else set()
    if isinstance(row, GroupLore):
        subjects |= set(row.subject_user_ids)
    if isinstance(row, Epoch):
        subjects |= set(row.participants)
    return Provenance(
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        is_dm=row.visibility == Visibility.DM,
        subject_user_ids=frozenset(subjects),
    )


def heading(turn: ContextScope, text: str) -> ContextItem:
    """A section title; it carries the turn's own scope, so it always passes the boundary."""
    return ContextItem(
        kind=ContextItemKind.HEADING,
        text=f"## {text}",
        provenance=Provenance(
            guild_id=turn.guild_id,
            channel_id=turn.channel_id,
            is_dm=turn.is_dm,
            subject_user_ids=frozenset({turn.requester_id}),
        ),
        source="heading",
    )


def gap(turn: ContextScope, reason: str) -> ContextItem:
    """A note that the lens found nothing of its own kind: assembly records it and keeps it out of the prompt."""
    return ContextItem(
        kind=ContextItemKind.GAP,
        text=reason,
        provenance=Provenance(turn.guild_id, turn.channel_id, turn.is_dm, frozenset({turn.requester_id})),
        source="gap",
    )


def dossier_item(row: Dossier) -> ContextItem:
    """`[dossier] name (u:id), N messages, last seen ...: curated text`."""
    seen = f", last seen {row.last_seen_at:%Y-%m-%d}" if row.last_seen_at else ""
    body = " ".join(row.body_text.split()) or "(nothing curated yet)"
    text = f"[dossier] {row.display_name} (u:{row.subject_user_id}), {row.message_count} messages{seen}: {body}"
    return ContextItem(ContextItemKind.DOSSIER, text, provenance_of(row), f"dossier:{row.pk}", row.updated_at)


def highlight_item(row: Highlight) -> ContextItem:
    """A verbatim moment with its author and date."""
    text = f'[highlight {row.kind} {row.said_at:%Y-%m-%d}] {row.attribution}: "{" ".join(row.raw_text.split())}"'
    return ContextItem(ContextItemKind.HIGHLIGHT, text, provenance_of(row), f"highlight:{row.pk}", row.said_at)


def fact_item(row: Fact) -> ContextItem:
    """A fact with the time it became true (and stopped, if it did)."""
    until = f" until {row.valid_to:%Y-%m-%d}" if row.valid_to else ""
    text = f"[fact u:{row.subject_user_id} {row.attribute}, since {row.valid_from:%Y-%m-%d}{until}] {row.statement}"
    return ContextItem(ContextItemKind.FACT, text, provenance_of(row), f"fact:{row.pk}", row.valid_from)


def lore_item(row: GroupLore) -> ContextItem:
    """A pattern of the group."""
    text = f"[lore {row.kind}] {' '.join(row.body_text.split())}"
    return ContextItem(ContextItemKind.LORE, text, provenance_of(row), f"lore:{row.pk}", row.updated_at)


def epoch_item(row: Epoch) -> ContextItem:
    """An epoch's summary with its channel, dates and topics."""
    topics = f" topics: {', '.join(row.topics)}." if row.topics else ""
    where = row.channel_name or row.channel_id
    text = f"[epoch #{where} {row.start_at:%Y-%m-%d %H:%M}-{row.end_at:%H:%M}] {row.summary_text}{topics}"
    return ContextItem(ContextItemKind.EPOCH, text, provenance_of(row), f"epoch:{row.pk}", row.end_at)


def core_item(row: CoreBlock) -> ContextItem:
    """A pinned core block."""
    text = f"[pinned {row.scope}: {row.label}] {row.body}"
    return ContextItem(ContextItemKind.CORE, text, provenance_of(row), f"core:{row.pk}", row.updated_at)


def hit_item(hit: SearchHit) -> ContextItem:
    """A memory_search hit (with its neighbours) as one item."""
    kind = {
        "archive": ContextItemKind.ARCHIVE,
        "highlight": ContextItemKind.HIGHLIGHT,
        "fact": ContextItemKind.FACT,
        "epoch": ContextItemKind.EPOCH,
        "lore": ContextItemKind.LORE,
    }[hit.layer]
    return ContextItem(kind, hit.render(), hit.provenance, f"{hit.layer}:{hit.row_id}", hit.said_at)


def within_budget(items: Iterable[ContextItem], budget: int) -> list[ContextItem]:
    """Items in the order given while they fit the token budget; a heading left with nothing after it goes."""
    kept: list[ContextItem] = []
    used = 0
    for item in items:
        if item.kind == ContextItemKind.GAP:
            kept.append(item)
            continue
        cost = count_tokens(item.text) + 1
        if used + cost > budget:
            continue
        kept.append(item)
        used += cost
    return _drop_bare_headings(kept)


def _drop_bare_headings(items: Sequence[ContextItem]) -> list[ContextItem]:
    out: list[ContextItem] = []
    for index, item in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        bare = following is None or following.kind in (ContextItemKind.HEADING, ContextItemKind.GAP)
        if item.kind == ContextItemKind.HEADING and bare:
            continue
        out.append(item)
    return out
