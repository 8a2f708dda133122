"""Admin of the host harness: channel mutes (moderators mute and lift), outbound beats and bot accounts (logs)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from bots.host.choices import MuteSource
from bots.host.models import BotAccount, ChannelMute, OutboundBeat
from bots.host.services import MUTE_MINUTES_MAX, MUTE_MINUTES_MIN, mute_create, mute_lift, staff_name
from dit_project.admin import EstimatedCountPaginator


class ChannelMuteAddForm(forms.ModelForm[ChannelMute]):
    minutes = forms.FloatField(
        min_value=MUTE_MINUTES_MIN, max_value=MUTE_MINUTES_MAX, initial=60, help_text="How long the mute lasts."
    )

    class Meta:
        model = ChannelMute
        fields = ["bot", "platform", "guild_id", "channel_id", "reason"]


@admin.register(ChannelMute)
class ChannelMuteAdmin(admin.ModelAdmin[ChannelMute]):
    list_display = ["channel_id", "bot", "source", "muted_by", "created_at", "until", "is_active_now", "lifted_by"]
    list_filter = ["source", "bot"]
    list_select_related = ["bot"]
    search_fields = ["channel_id", "guild_id", "muted_by", "reason"]
    actions = ["lift_selected"]
    readonly_fields = [
        "bot",
        "platform",
        "guild_id",
        "channel_id",
        "source",
        "reason",
        "muted_by",
        "muted_by_user",
        "message_id",
        "created_at",
        "until",
        "lifted_at",
        "lifted_by",
        "lifted_by_user",
        "lift_reason",
    ]

    @admin.display(description="Active", boolean=True)
    def is_active_now(self, mute: ChannelMute) -> bool:
        return mute.is_active()

    def get_form(
        self, request: HttpRequest, obj: ChannelMute | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ChannelMuteAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: ChannelMute | None = None) -> list[str]:
        # A mute is a log entry: written once through the service, then only lifted.
        return list(self.readonly_fields) if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: ChannelMute | None = None) -> Any:
        if obj is None:
            return ["bot", "platform", "guild_id", "channel_id", "reason", "minutes"]
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: ChannelMute, form: Any, change: bool) -> None:
        if change:
            return
        created = mute_create(
            bot_id=obj.bot_id,
            platform=obj.platform,
            guild_id=obj.guild_id,
            channel_id=obj.channel_id,
            source=MuteSource.ADMIN,
            reason=obj.reason,
            muted_by=staff_name(request.user),
            muted_by_user=request.user,
            minutes=form.cleaned_data["minutes"],
        )
        obj.pk = created.pk
        obj.created_at, obj.until, obj.source, obj.muted_by = (
            created.created_at,
            created.until,
            created.source,
            created.muted_by,
        )

    def has_delete_permission(self, request: HttpRequest, obj: ChannelMute | None = None) -> bool:
        return False

    @admin.action(description="Lift the selected mutes now")
    def lift_selected(self, request: HttpRequest, queryset: QuerySet[ChannelMute]) -> None:
        lifted = 0
        for mute in queryset.filter(lifted_at__isnull=True):
            mute = mute_lift(
                mute=mute,
                lifted_by=staff_name(request.user),
                lifted_by_user=request.user,
                reason="lifted by a moderator in admin",
            )
            lifted += mute.lifted_at is not None
        self.message_user(request, f"Lifted {lifted} mute(s).", messages.SUCCESS)


@admin.register(OutboundBeat)
class OutboundBeatAdmin(admin.ModelAdmin[OutboundBeat]):
    list_display = ["decision", "index", "kind", "status", "channel_id", "created_at", "sent_at"]
    list_filter = ["status", "kind", "platform"]
    list_select_related = ["decision"]
    search_fields = ["channel_id", "platform_message_ids"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    readonly_fields = [
        "decision",
        "index",
        "kind",
        "text",
        "is_correction",
        "status",
        "platform",
        "channel_id",
        "target_message_id",
        "platform_message_ids",
        "last_error",
        "created_at",
        "sent_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboundBeat | None = None) -> bool:
        return False


@admin.register(BotAccount)
class BotAccountAdmin(admin.ModelAdmin[BotAccount]):
    list_display = ["bot", "platform", "user_id", "display_name", "seen_at"]
    list_select_related = ["bot"]
    readonly_fields = ["bot", "platform", "user_id", "display_name", "seen_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
