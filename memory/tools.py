"""Memory's tools for the model: `memory_search`, `recall_user`, `recall_group` (registered by MemoryConfig.ready).

Each reads within the scope the caller set (`gateway.tools.ToolScope`): a guild's shared memory in a guild
channel, the DM's own memory in a DM; what was said in a DM never reaches a guild's tools, whatever the
model asks. Results are short and plain: the words, who said them, where and when.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from gateway.tools import TOOLS, Tool, ToolError, ToolScope
from memory.choices import Visibility
from memory.models import Dossier, Epoch, Fact, GroupLore, Highlight
from memory.search import ALL_LAYERS, SearchQuery, memory_search

SEARCH_LIMIT = 8
RECALL_FACTS = 8
RECALL_HIGHLIGHTS = 3
RECALL_LORE = 6
RECALL_EPOCHS = 3

MEMORY_SEARCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 2, "maxLength": 300, "description": "What to look for."},
        "layers": {
            "type": "array",
            "items": {"enum": sorted(ALL_LAYERS)},
            "uniqueItems": True,
            "description": "Where to look (default: everywhere).",
        },
        "limit": {"type": "integer", "minimum": 1, "maximum": SEARCH_LIMIT},
    },
    "required": ["query"],
    "additionalProperties": False,
}
RECALL_USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "user": {"type": "string", "minLength": 1, "maxLength": 200, "description": "A user id or a display name."}
    },
    "required": ["user"],
    "additionalProperties": False,
}
RECALL_GROUP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"topic": {"type": "string", "maxLength": 200, "description": "Narrow to a topic (optional)."}},
    "additionalProperties": False,
}


def _scoped(rows: QuerySet[Any], scope: ToolScope) -> QuerySet[Any]:
    if scope.is_dm:
        return rows.filter(visibility=Visibility.DM, guild_id="", channel_id=scope.channel_id)
    if not scope.guild_id:
        raise ToolError("memory is not available here")
    return rows.filter(guild_id=scope.guild_id, visibility=Visibility.GUILD)


def search(scope: ToolScope, arguments: dict[str, Any]) -> dict[str, Any]:
    """Hybrid search of the scope's memory."""
    if not scope.is_dm and not scope.guild_id:
        raise ToolError("memory is not available here")
    layers = frozenset(arguments.get("layers") or ALL_LAYERS)
    query = SearchQuery(
        text=str(arguments["query"]),
        guild_id="" if scope.is_dm else str(scope.guild_id or ""),
        channel_id=scope.channel_id,
        is_dm=scope.is_dm,
        requester_id=scope.requester_id,
        k=int(arguments.get("limit") or 5),
        layers=layers,
        neighbours=0,
        token_budget=600,
    )
    found = memory_search(query)
    return {
        "hits": [
            {
                "layer": hit.layer,
                "text": hit.text,
                "who": hit.author,
                "where": hit.channel_name,
                "when": hit.said_at.isoformat(timespec="minutes") if hit.said_at else None,
            }
            for hit in found.hits
        ]
    }


def _person(scope: ToolScope, who: str) -> Dossier | None:
    dossiers = _scoped(Dossier.objects.all(), scope)
    found = dossiers.filter(subject_user_id=who).first()
    if found is None:
        found = dossiers.filter(display_name__iexact=who.lstrip("@")).order_by("-last_seen_at").first()
    return found


def recall_user(scope: ToolScope, arguments: dict[str, Any]) -> dict[str, Any]:
    """What memory holds about one person: their dossier, current facts, a few of their own words."""
    who = str(arguments["user"]).strip()
    dossier = _person(scope, who)
    if dossier is None:
        raise ToolError(f"no one called {who!r} is remembered here")
    user_id = dossier.subject_user_id
    facts = _scoped(Fact.objects.filter(subject_user_id=user_id, superseded_at__isnull=True), scope)
    highlights = _scoped(Highlight.objects.filter(subject_user_id=user_id), scope).order_by("-score", "-said_at")
    return {
        "user_id": user_id,
        "name": dossier.display_name,
        "about": dossier.body_text,
        "messages_seen": dossier.message_count,
        "last_seen": dossier.last_seen_at.isoformat(timespec="minutes") if dossier.last_seen_at else None,
        "facts": [fact.statement for fact in facts.order_by("-recorded_at")[:RECALL_FACTS]],
        "said": [
            {"text": h.raw_text, "when": h.said_at.isoformat(timespec="minutes")}
            for h in highlights[:RECALL_HIGHLIGHTS]
        ],
    }


def recall_group(scope: ToolScope, arguments: dict[str, Any]) -> dict[str, Any]:
    """The group's lore (running jokes, rituals, shared history) and its latest conversation summaries."""
    topic = str(arguments.get("topic") or "").strip()
    lore = _scoped(GroupLore.objects.all(), scope)
    epochs = _scoped(Epoch.objects.exclude(summary_text=""), scope)
    if topic:
        lore = lore.filter(body_text__icontains=topic)
        epochs = epochs.filter(summary_text__icontains=topic)
    return {
        "lore": [{"kind": row.kind, "text": row.body_text} for row in lore.order_by("-score")[:RECALL_LORE]],
        "recent_conversations": [
            {"summary": row.summary_text, "ended": row.end_at.isoformat(timespec="minutes")}
            for row in epochs.order_by("-end_at")[:RECALL_EPOCHS]
        ],
    }


MEMORY_SEARCH = Tool(
    name="memory_search",
    description="Search what this server said and remembers (messages, quotes, facts, lore, past conversations).",
    parameters=MEMORY_SEARCH_SCHEMA,
    handler=search,
)
RECALL_USER = Tool(
    name="recall_user",
    description="What is remembered about one person here: who they are, facts about them, things they said.",
    parameters=RECALL_USER_SCHEMA,
    handler=recall_user,
)
RECALL_GROUP = Tool(
    name="recall_group",
    description="The group's running jokes, rituals and recent conversations, optionally about one topic.",
    parameters=RECALL_GROUP_SCHEMA,
    handler=recall_group,
)
MEMORY_TOOLS = ("memory_search", "recall_user", "recall_group")


def register() -> None:
    """Add memory's tools to the gateway's registry."""
    for tool in (MEMORY_SEARCH, RECALL_USER, RECALL_GROUP):
        TOOLS.register(tool)
