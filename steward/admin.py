"""Admin screens of the steward app: members' threat standings with their reasons, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from steward.models import MemberThreat
from steward.selectors import current_score


@admin.register(MemberThreat)
class MemberThreatAdmin(admin.ModelAdmin[MemberThreat]):
    list_display = ["display_name", "user_id", "guild_id", "score_now", "score", "scored_at", "latest_reason"]
    list_filter = ["guild_id", "scored_at"]
    search_fields = ["user_id", "display_name", "guild_id"]
    date_hierarchy = "scored_at"
    show_full_result_count = False
    list_per_page = 50
    fields = [
        ("guild_id", "user_id", "display_name"),
        ("score_now", "score", "scored_at"),
        ("last_message_at", "first_scored_at"),
        "reasons_table",
    ]
    readonly_fields = [
        "guild_id",
        "user_id",
        "display_name",
        "score_now",
        "score",
        "scored_at",
        "last_message_at",
        "first_scored_at",
        "reasons_table",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="score now")
    def score_now(self, obj: MemberThreat) -> str:
        """The stored score decayed to now."""
        return f"{current_score(obj):.2f}"

    @admin.display(description="latest reason")
    def latest_reason(self, obj: MemberThreat) -> str:
        """The newest signal that moved the score."""
        return str(obj.reasons[0]["reason"]) if obj.reasons else "-"

    @admin.display(description="reasons (newest first)")
    def reasons_table(self, obj: MemberThreat) -> SafeString:
        """Every kept signal: when, which, its points and its words."""
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((r.get("at", ""), r.get("signal", ""), r.get("points", ""), r.get("reason", "")) for r in obj.reasons),
        )
        return format_html("<table><tr><th>at</th><th>signal</th><th>points</th><th>reason</th></tr>{}</table>", rows)
