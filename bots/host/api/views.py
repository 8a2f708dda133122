"""Channel mutes of a bot, for moderators (staff only): list, mute a channel, lift a mute."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from bots.api.serializers import ErrorSerializer
from bots.host.api.serializers import ChannelMuteCreateSerializer, ChannelMuteLiftSerializer, ChannelMuteSerializer
from bots.host.choices import MuteSource
from bots.host.selectors import mute_list
from bots.host.services import mute_create, mute_lift_by_id, staff_name
from bots.selectors import bot_get

SLUG_PARAMETER = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The bot's slug.")
ACTIVE_PARAMETER = OpenApiParameter(
    "active", OpenApiTypes.BOOL, OpenApiParameter.QUERY, description="Only mutes holding now."
)


class ChannelMuteViewSet(viewsets.ViewSet):
    """A bot's channel mutes; every mute and lift is logged with who and why."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="A bot's channel mutes, newest first (staff)",
        parameters=[SLUG_PARAMETER, ACTIVE_PARAMETER],
        responses={200: ChannelMuteSerializer(many=True), 404: ErrorSerializer},
    )
    def list(self, request: Request, slug: str) -> Response:
        bot = bot_get(slug=slug)
        active = request.query_params.get("active", "").lower() in ("1", "true", "yes")
        mutes = mute_list(bot_id=bot.pk, active_only=active)[:200]
        return Response(ChannelMuteSerializer(mutes, many=True).data)

    @extend_schema(
        summary="Mute the bot's unprompted turns in a channel (staff)",
        parameters=[SLUG_PARAMETER],
        request=ChannelMuteCreateSerializer,
        responses={201: ChannelMuteSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def create(self, request: Request, slug: str) -> Response:
        data = ChannelMuteCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bot = bot_get(slug=slug)
        values: dict[str, Any] = data.validated_data
        mute = mute_create(
            bot_id=bot.pk,
            source=MuteSource.API,
            muted_by=staff_name(request.user),
            muted_by_user=request.user,
            **values,
        )
        return Response(ChannelMuteSerializer(mute).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Lift a mute now (staff)",
        parameters=[SLUG_PARAMETER, OpenApiParameter("mute_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=ChannelMuteLiftSerializer,
        responses={200: ChannelMuteSerializer, 404: ErrorSerializer},
    )
    def lift(self, request: Request, slug: str, mute_id: int) -> Response:
        data = ChannelMuteLiftSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bot = bot_get(slug=slug)
        mute = mute_lift_by_id(
            bot_id=bot.pk,
            mute_id=mute_id,
            lifted_by=staff_name(request.user),
            lifted_by_user=request.user,
            reason=data.validated_data["reason"],
        )
        return Response(ChannelMuteSerializer(mute).data)
