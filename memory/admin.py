"""Admin screens of the memory app: transcripts as they were recorded, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dit_project.admin import EstimatedCountPaginator
from memory.models import Transcript, TranscriptRevision

PREVIEW_CHARS = 80


class TranscriptRevisionInline(admin.TabularInline[TranscriptRevision, Transcript]):
    """Edits of a transcript line, in the order they were made."""

    model = TranscriptRevision
    fields = ("edited_at", "content", "ingested_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Transcript)
class TranscriptAdmin(admin.ModelAdmin[Transcript]):
    """The raw record: list, filter and read; edits show as revisions; nothing is changed here."""

    list_display = ("seq", "created_at", "guild_id", "channel_name", "author_display_name", "role", "preview")
    # Only filters with fixed choices: a filter on a free column would scan the table for its values.
    list_filter = ("role", "is_dm", "author_is_bot")
    search_fields = ("=guild_id", "=channel_id", "=author_id", "=message_id")
    readonly_fields = tuple(field.name for field in Transcript._meta.concrete_fields if field.name != "id")
    inlines = (TranscriptRevisionInline,)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    ordering = ("-seq",)

    @admin.display(description="content")
    def preview(self, obj: Transcript) -> str:
        """The first words of the message as first posted."""
        return obj.content if len(obj.content) <= PREVIEW_CHARS else obj.content[:PREVIEW_CHARS] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
