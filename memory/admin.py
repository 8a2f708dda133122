"""Admin screens of the memory app: transcripts (read-only), every memory layer, policies and the forget-me log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from dit_project.admin import EstimatedCountPaginator
from memory.choices import ForgetRequester
from memory.epochs import resummarize
from memory.forgetting import forget_member
from memory.models import (
    ArchiveEntry,
    CoreBlock,
    Dossier,
    Epoch,
    Fact,
    ForgetRequest,
    GroupLore,
    GuildMemoryPolicy,
    Highlight,
    Transcript,
    TranscriptRevision,
)

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


class _ReadOnly:
    """Derived rows are rebuilt from transcripts, never typed in: admin shows them and may delete them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Dossier)
class DossierAdmin(_ReadOnly, admin.ModelAdmin[Dossier]):
    """One curated text per person per guild; select members here to forget them."""

    list_display = ("display_name", "subject_user_id", "guild_id", "message_count", "last_seen_at", "updated_at")
    list_filter = ("visibility",)
    search_fields = ("display_name", "=subject_user_id", "=guild_id")
    readonly_fields = tuple(f.name for f in Dossier._meta.concrete_fields if f.name != "id")
    ordering = ("guild_id", "display_name")
    actions = ("forget_members",)

    @admin.action(description="Forget these members in their guild (delete memory, redact transcripts)")
    def forget_members(self, request: HttpRequest, queryset: QuerySet[Dossier]) -> None:
        """Run forget-me for each selected dossier's member."""
        done = 0
        for guild_id, user_id in list(queryset.values_list("guild_id", "subject_user_id")):
            if not guild_id:
                continue
            forget_member(
                guild_id=guild_id,
                user_id=user_id,
                requested_by=ForgetRequester.ADMIN,
                staff_username=request.user.get_username(),
            )
            done += 1
        self.message_user(request, f"Forgot {done} member(s); see Forget requests for what was removed.")


@admin.register(Highlight)
class HighlightAdmin(_ReadOnly, admin.ModelAdmin[Highlight]):
    """Moments kept verbatim, with attribution."""

    list_display = ("said_at", "attribution", "kind", "score", "guild_id", "channel_id", "preview")
    list_filter = ("kind", "visibility")
    search_fields = ("raw_text", "=guild_id", "=subject_user_id")
    readonly_fields = tuple(f.name for f in Highlight._meta.concrete_fields if f.name not in ("id", "embedding"))
    exclude = ("embedding",)
    ordering = ("-said_at",)

    @admin.display(description="words")
    def preview(self, obj: Highlight) -> str:
        """The first words of the quote."""
        return obj.raw_text[:PREVIEW_CHARS]


@admin.register(Fact)
class FactAdmin(_ReadOnly, admin.ModelAdmin[Fact]):
    """Facts with both clocks; superseded ones stay, marked."""

    list_display = ("subject_user_id", "attribute", "statement", "valid_from", "valid_to", "is_current_fact")
    list_filter = ("visibility", ("superseded_at", admin.EmptyFieldListFilter))
    search_fields = ("statement", "=subject_user_id", "=guild_id", "attribute")
    readonly_fields = tuple(f.name for f in Fact._meta.concrete_fields if f.name not in ("id", "embedding"))
    exclude = ("embedding",)
    list_select_related = ("superseded_by",)
    ordering = ("-recorded_at",)

    @admin.display(boolean=True, description="current")
    def is_current_fact(self, obj: Fact) -> bool:
        """Whether no newer fact replaced it."""
        return obj.is_current


@admin.register(GroupLore)
class GroupLoreAdmin(_ReadOnly, admin.ModelAdmin[GroupLore]):
    """Patterns of the group."""

    list_display = ("kind", "body_text", "score", "guild_id", "updated_at")
    list_filter = ("kind", "visibility")
    search_fields = ("body_text", "=guild_id")
    readonly_fields = tuple(f.name for f in GroupLore._meta.concrete_fields if f.name not in ("id", "embedding"))
    exclude = ("embedding",)


@admin.register(CoreBlock)
class CoreBlockAdmin(admin.ModelAdmin[CoreBlock]):
    """Pinned blocks per scope, written by people; the database refuses a body over the size limit."""

    list_display = ("scope", "label", "guild_id", "channel_id", "subject_user_id", "persona_id", "updated_at")
    list_filter = ("scope", "visibility")
    search_fields = ("label", "body", "=guild_id")
    fields = ("scope", "label", "body", "guild_id", "channel_id", "subject_user_id", "persona_id", "visibility")


@admin.register(ArchiveEntry)
class ArchiveEntryAdmin(_ReadOnly, admin.ModelAdmin[ArchiveEntry]):
    """What search sees of each transcript: wording and whether it is embedded yet."""

    list_display = ("seq", "said_at", "guild_id", "channel_name", "author_display_name", "embedded", "embedding_model")
    list_filter = ("visibility", ("embedded_at", admin.EmptyFieldListFilter))
    search_fields = ("=guild_id", "=channel_id", "=subject_user_id")
    readonly_fields = (
        "transcript",
        "seq",
        "guild_id",
        "channel_id",
        "channel_name",
        "subject_user_id",
        "visibility",
        "author_display_name",
        "content",
        "said_at",
        "embedding_model",
        "embedded_at",
    )
    exclude = ("embedding", "source_transcript_ids")
    raw_id_fields = ("transcript",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    ordering = ("-seq",)

    @admin.display(boolean=True, description="embedded")
    def embedded(self, obj: ArchiveEntry) -> bool:
        """Whether the row has its vector yet."""
        return obj.embedded_at is not None


@admin.register(Epoch)
class EpochAdmin(_ReadOnly, admin.ModelAdmin[Epoch]):
    """Closed conversation windows and their summaries; a failed summary shows its error."""

    list_display = ("channel_name", "start_at", "end_at", "message_count", "status", "topics", "attempts")
    list_filter = ("status", "visibility")
    search_fields = ("summary_text", "=guild_id", "=channel_id")
    readonly_fields = tuple(f.name for f in Epoch._meta.concrete_fields if f.name not in ("id", "embedding"))
    exclude = ("embedding",)
    ordering = ("-end_at",)
    actions = ("summarize_again",)

    @admin.action(description="Summarize again from the transcripts")
    def summarize_again(self, request: HttpRequest, queryset: QuerySet[Epoch]) -> None:
        """Regenerate the selected epochs' summaries."""
        done = resummarize(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Summarized {done} of {queryset.count()} epoch(s).")


@admin.register(GuildMemoryPolicy)
class GuildMemoryPolicyAdmin(admin.ModelAdmin[GuildMemoryPolicy]):
    """Per-guild archive retention and epoch gap."""

    list_display = ("guild_id", "archive_retention_days", "epoch_gap_seconds", "updated_at")
    search_fields = ("=guild_id",)


@admin.register(ForgetRequest)
class ForgetRequestAdmin(_ReadOnly, admin.ModelAdmin[ForgetRequest]):
    """The forget-me log: who asked, what went; the member appears only as a keyed hash."""

    list_display = ("created_at", "guild_id", "subject_hash_short", "requested_by", "status", "epochs_regenerated")
    list_filter = ("status", "requested_by")
    search_fields = ("=guild_id", "=subject_hash")
    readonly_fields = tuple(f.name for f in ForgetRequest._meta.concrete_fields if f.name != "id")

    @admin.display(description="subject")
    def subject_hash_short(self, obj: ForgetRequest) -> str:
        """The first characters of the member's hash."""
        return obj.subject_hash[:12]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
