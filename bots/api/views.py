"""Bots API: bots (reads for signed-in users, writes for staff), their resolved settings and overrides, and the
runs of their task workers (read-only)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from bots.api.serializers import (
    BotCreateSerializer,
    BotSerializer,
    BotUpdateSerializer,
    ErrorSerializer,
    SettingOverrideInputSerializer,
    SettingStateSerializer,
    TaskRunSerializer,
)
from bots.errors import InvalidSettingValue
from bots.models import Bot, TaskRun
from bots.selectors import bot_get, bot_list, setting_state_get, setting_states
from bots.services import bot_create, bot_delete, bot_update, setting_override_clear, setting_override_set

SLUG_PARAMETER = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The bot's slug.")
KEY_PARAMETER = OpenApiParameter(
    "key", OpenApiTypes.STR, OpenApiParameter.PATH, description="A setting or credential key of the bot's manifest."
)


@extend_schema_view(
    list=extend_schema(summary="List bots"),
    retrieve=extend_schema(summary="One bot", responses={200: BotSerializer, 404: ErrorSerializer}),
)
class BotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Bot]):
    """Bots by slug."""

    serializer_class = BotSerializer
    lookup_field = "slug"
    # A slug and a name: a few hundred bytes; more is a mistake or an attack.
    max_body_bytes = 4096
    ordering_fields = ["slug", "name", "created_at"]

    def get_queryset(self) -> Any:
        return bot_list()

    def get_object(self) -> Bot:
        return bot_get(slug=self.kwargs["slug"])

    @extend_schema(
        summary="Create a bot without a manifest (staff)",
        request=BotCreateSerializer,
        responses={201: BotSerializer, 409: ErrorSerializer},
    )
    def create(self, request: Request) -> Response:
        data = BotCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bot = bot_create(**data.validated_data)
        return Response(BotSerializer(bot).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename a bot (staff)",
        request=BotUpdateSerializer,
        responses={200: BotSerializer, 404: ErrorSerializer},
    )
    def partial_update(self, request: Request, slug: str) -> Response:
        bot = self.get_object()
        data = BotUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if data.validated_data:
            bot = bot_update(bot=bot, **data.validated_data)
        return Response(BotSerializer(bot).data)

    @extend_schema(
        summary="Delete a bot that has no history yet (staff); a bot that has run is refused with 409",
        responses={204: None, 404: ErrorSerializer, 409: ErrorSerializer},
    )
    def destroy(self, request: Request, slug: str) -> Response:
        bot_delete(bot=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class BotSettingViewSet(viewsets.ViewSet):
    """A bot's settings as they resolve now (override, then environment, then default), secrets masked."""

    # One setting value: prompts and lists fit in far less.
    max_body_bytes = 64 * 1024

    @extend_schema(
        summary="A bot's resolved settings",
        parameters=[SLUG_PARAMETER],
        responses={200: SettingStateSerializer(many=True), 404: ErrorSerializer},
    )
    def list(self, request: Request, slug: str) -> Response:
        states = setting_states(bot=bot_get(slug=slug))
        return Response(SettingStateSerializer(states, many=True).data)

    @extend_schema(
        summary="One resolved setting",
        parameters=[SLUG_PARAMETER, KEY_PARAMETER],
        responses={200: SettingStateSerializer, 404: ErrorSerializer},
    )
    def retrieve(self, request: Request, slug: str, key: str) -> Response:
        state = setting_state_get(bot=bot_get(slug=slug), key=key)
        return Response(SettingStateSerializer(state).data)

    def unstorable_text_error(self, where: str, reason: str) -> Exception:
        """A value the database cannot store is an invalid value of the setting it was offered for."""
        key = str(self.kwargs.get("key", ""))
        return InvalidSettingValue(f"{key}: {reason}", key=key)

    @extend_schema(
        summary="Override a setting (staff); the value is validated by the field's type, secrets are write-only",
        parameters=[SLUG_PARAMETER, KEY_PARAMETER],
        request=SettingOverrideInputSerializer,
        responses={200: SettingStateSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def update(self, request: Request, slug: str, key: str) -> Response:
        data = SettingOverrideInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bot = bot_get(slug=slug)
        setting_override_set(bot=bot, key=key, value=data.validated_data["value"], actor=request.user)
        return Response(SettingStateSerializer(setting_state_get(bot=bot, key=key)).data)

    @extend_schema(
        summary="Remove a setting's override (staff), so it resolves from the environment or default again",
        parameters=[SLUG_PARAMETER, KEY_PARAMETER],
        responses={204: None, 404: ErrorSerializer},
    )
    def destroy(self, request: Request, slug: str, key: str) -> Response:
        setting_override_clear(bot=bot_get(slug=slug), key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List task worker runs"),
    retrieve=extend_schema(summary="One task worker run", responses={200: TaskRunSerializer, 404: ErrorSerializer}),
)
class TaskRunViewSet(viewsets.ReadOnlyModelViewSet[TaskRun]):
    """Goal-shaped requests turns delegated to task workers: progress, result, posting (newest first)."""

    queryset = TaskRun.objects.select_related("bot").order_by("-created_at", "-id")
    serializer_class = TaskRunSerializer
    filterset_fields = ["status", "guild_id", "channel_id", "decision"]
    ordering_fields = ["created_at", "cost_usd", "steps"]
