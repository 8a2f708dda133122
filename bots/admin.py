"""Admin screens of the bots app: bots with a settings page built from the manifest, manifest history,
overrides (secrets masked), synced guilds, and task workers' runs (read-only progress)."""

from __future__ import annotations

import json
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from bots import services
from bots.forms import BotSettingsForm
from bots.models import Bot, BotManifest, Guild, GuildChannel, GuildRole, SettingOverride, TaskRun
from bots.selectors import bot_history
from dit_project.admin import EstimatedCountPaginator
from dit_project.vault import MASK
from gateway.models import ToolInvocation


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin[Bot]):
    list_display = ["slug", "name", "version", "manifest_version", "updated_at", "settings_link"]
    list_select_related = ["current_manifest"]
    search_fields = ["slug", "name"]
    fields = ["slug", "name", "version", "current_manifest", "settings_link", "created_at", "updated_at"]
    readonly_fields = ["version", "current_manifest", "settings_link", "created_at", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Bot | None = None) -> bool:
        # A bot that has run keeps its row: its decisions, usage and messages point at it (bot_delete).
        # Django asks this per object for the bulk delete action too, which then refuses with 403.
        if obj is not None and bot_history(bot=obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Bot | None = None) -> list[str]:
        # The slug is the bot's identity (manifests and env files name it): set once, never renamed.
        return [*self.readonly_fields, "slug"] if obj is not None else list(self.readonly_fields)

    @admin.display(description="Manifest", ordering="current_manifest__version")
    def manifest_version(self, bot: Bot) -> str:
        return f"v{bot.current_manifest.version}" if bot.current_manifest is not None else "none"

    @admin.display(description="Settings")
    def settings_link(self, bot: Bot) -> SafeString | str:
        if bot.pk is None:
            return "Save the bot first."
        url = reverse("admin:bots_bot_settings", args=[bot.pk])
        return format_html('<a href="{}">Edit settings</a>', url)

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<path:object_id>/settings/",
                self.admin_site.admin_view(self.settings_view),
                name="bots_bot_settings",
            )
        ]
        return custom + super().get_urls()

    def settings_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The bot's settings form: one control per manifest field, validation errors on the field."""
        bot = self.get_object(request, unquote(object_id))
        if bot is None:
            raise Http404(f"No bot with id {object_id!r}")
        if not self.has_view_or_change_permission(request, bot):
            raise PermissionDenied
        can_change = self.has_change_permission(request, bot)
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            form = BotSettingsForm(request.POST, bot=bot)
            if form.is_valid():
                changed = form.save(actor=request.user)
                if changed:
                    # Keys only: the admin log must never hold a value, secret or not.
                    self.log_change(request, bot, f"Changed settings: {', '.join(changed)}")
                    self.message_user(request, f"Saved {len(changed)} setting(s) of {bot}.", messages.SUCCESS)
                else:
                    self.message_user(request, "No settings changed.", messages.INFO)
                return HttpResponseRedirect(request.path)
        else:
            form = BotSettingsForm(bot=bot)
        # AdminForm and AdminErrorList only use the Form API; the stubs ask for a ModelForm.
        adminform = helpers.AdminForm(cast(Any, form), form.fieldsets(), {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Settings of {bot.name}",
            "subtitle": None,
            "opts": self.opts,
            "original": bot,
            "adminform": adminform,
            "errors": helpers.AdminErrorList(cast(Any, form), []),
            "media": self.media + adminform.media,
            "has_view_permission": True,
            "can_change": can_change,
            "has_manifest": bot.current_manifest_id is not None,
        }
        return TemplateResponse(request, "admin/bots/bot/settings.html", context)


@admin.register(BotManifest)
class BotManifestAdmin(admin.ModelAdmin[BotManifest]):
    list_display = ["bot", "version", "short_digest", "source", "created_at"]
    list_select_related = ["bot"]
    list_filter = ["bot"]
    fields = ["bot", "version", "digest", "source", "created_at", "pretty_content"]
    readonly_fields = ["bot", "version", "digest", "source", "created_at", "pretty_content"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Manifests arrive through `manage.py loadmanifest`, validated.

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # A version is history: it is never edited.

    @admin.display(description="Digest")
    def short_digest(self, manifest: BotManifest) -> str:
        return manifest.digest[:12]

    @admin.display(description="Content")
    def pretty_content(self, manifest: BotManifest) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(manifest.content, indent=2, ensure_ascii=False))


@admin.register(SettingOverride)
class SettingOverrideAdmin(admin.ModelAdmin[SettingOverride]):
    list_display = ["bot", "key", "shown_value", "is_secret", "updated_by", "updated_at"]
    list_select_related = ["bot", "updated_by"]
    list_filter = ["bot", "is_secret"]
    search_fields = ["key"]
    fields = ["bot", "key", "shown_value", "is_secret", "updated_by", "updated_at"]
    readonly_fields = ["bot", "key", "shown_value", "is_secret", "updated_by", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Values are set on the bot's settings page, where they are validated by type.

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Value")
    def shown_value(self, override: SettingOverride) -> str:
        return MASK if override.is_secret else json.dumps(override.value, ensure_ascii=False)


class GuildChannelInline(admin.TabularInline[GuildChannel, Guild]):
    model = GuildChannel
    extra = 0
    fields = ["external_id", "name", "kind"]


class GuildRoleInline(admin.TabularInline[GuildRole, Guild]):
    model = GuildRole
    extra = 0
    fields = ["external_id", "name"]


@admin.register(Guild)
class GuildAdmin(admin.ModelAdmin[Guild]):
    list_display = [
        "name",
        "bot",
        "platform",
        "external_id",
        "time_zone",
        "quiet_hours_start",
        "quiet_hours_end",
        "channel_count",
        "role_count",
        "synced_at",
    ]
    list_select_related = ["bot"]
    list_filter = ["bot", "platform"]
    search_fields = ["name", "external_id"]
    inlines = [GuildChannelInline, GuildRoleInline]
    fieldsets = [
        (None, {"fields": ["name", "bot", "platform", "external_id", "synced_at"]}),
        (
            "Quiet hours and time zone",
            {
                "fields": ["time_zone", "quiet_hours_start", "quiet_hours_end"],
                "description": "The time zone (blank: the server's) places speculative turns and quiet hours. "
                "During quiet hours the bot stays out of unaddressed talk and answers a mention "
                "with a short sleepy line or not at all. Leave both times empty for none.",
            },
        ),
    ]
    # The platform owns what a sync writes; people own the time zone and quiet hours.
    readonly_fields = ["name", "bot", "platform", "external_id", "synced_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Guilds come from the platform when the bot connects.

    def save_model(self, request: HttpRequest, obj: Guild, form: Any, change: bool) -> None:
        services.guild_quiet_hours_set(
            guild=obj, time_zone=obj.time_zone, start=obj.quiet_hours_start, end=obj.quiet_hours_end
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Guild]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                channel_total=Count("channels", distinct=True),
                role_total=Count("roles", distinct=True),
            )
        )

    @admin.display(description="Channels", ordering="channel_total")
    def channel_count(self, guild: Any) -> int:
        return int(guild.channel_total)

    @admin.display(description="Roles", ordering="role_total")
    def role_count(self, guild: Any) -> int:
        return int(guild.role_total)


@admin.register(TaskRun)
class TaskRunAdmin(admin.ModelAdmin[TaskRun]):
    """Read-only: a task is written by the turn that delegated it and by its worker (`bots.task_workers`)."""

    list_display = [
        "id",
        "created_at",
        "bot",
        "status",
        "goal_line",
        "steps",
        "attempts",
        "cost_usd",
        "posted",
        "channel_id",
    ]
    list_filter = ["status", "bot", "created_at"]
    search_fields = ["goal", "channel_id", "guild_id", "requested_by"]
    list_select_related = ["bot"]
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["bot", "status", "goal", "result_text", "error"]}),
        ("Progress", {"fields": ["steps", "attempts", "cost_usd", "model_used", "started_at", "finished_at"]}),
        ("Limits", {"fields": ["max_steps", "max_seconds", "max_cost_usd"]}),
        ("Posting", {"fields": ["posted_at", "posted_message_id"]}),
        (
            "Where it came from",
            {"fields": ["guild_id", "channel_id", "requested_by", "request_message_id", "decision", "trigger_id"]},
        ),
        ("Tool calls", {"fields": ["tool_calls"]}),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: TaskRun | None = None) -> list[str]:
        return [*(field.name for field in TaskRun._meta.fields), "tool_calls"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TaskRun | None = None) -> bool:
        return False

    @admin.display(description="Goal")
    def goal_line(self, task: TaskRun) -> str:
        """The goal, cut to a line."""
        return task.goal if len(task.goal) <= 80 else task.goal[:79] + "…"

    @admin.display(description="Posted", boolean=True)
    def posted(self, task: TaskRun) -> bool:
        """Whether the result went out (taken for posting and accepted by the platform)."""
        return bool(task.posted_message_id)

    @admin.display(description="Tool calls")
    def tool_calls(self, task: TaskRun) -> SafeString | str:
        """Every tool call the task's worker made, in order."""
        calls = ToolInvocation.objects.filter(task_id=task.pk).order_by("created_at", "id")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (call.step, call.tool, json.dumps(call.arguments)[:200], "ok" if call.ok else "error", call.error[:200])
                for call in calls
            ),
        )
        if not rows:
            return "None."
        return format_html(
            "<table><tr><th>step</th><th>tool</th><th>arguments</th><th>ok</th><th>error</th></tr>{}</table>", rows
        )
