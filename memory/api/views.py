"""Memory API: staff-only reads of every layer and of the forget-me log, and memory_search (guild scope).

Memory holds what people said about themselves: unlike the other read APIs, only staff may read it.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dit_project.errors import ApplicationError
from memory.api.serializers import (
    CoreBlockSerializer,
    DossierSerializer,
    EpochSerializer,
    FactSerializer,
    ForgetRequestSerializer,
    GroupLoreSerializer,
    HighlightSerializer,
    SearchHitSerializer,
    SearchQuerySerializer,
    SearchResultSerializer,
)
from memory.models import CoreBlock, Dossier, Epoch, Fact, ForgetRequest, GroupLore, Highlight
from memory.search import ALL_LAYERS, SearchQuery, memory_search


class _ScopeFilter(django_filters.FilterSet):
    guild_id = django_filters.CharFilter()
    channel_id = django_filters.CharFilter()
    subject_user_id = django_filters.CharFilter()
    visibility = django_filters.CharFilter()


def _filter(model: type) -> type[django_filters.FilterSet]:
    meta = type("Meta", (), {"model": model, "fields": []})
    return type(f"{model.__name__}Filter", (_ScopeFilter,), {"Meta": meta})


class DossierViewSet(viewsets.ReadOnlyModelViewSet[Dossier]):
    """Dossiers per guild and person."""

    queryset = Dossier.objects.order_by("guild_id", "display_name")
    serializer_class = DossierSerializer
    permission_classes = (IsAdminUser,)
    filterset_class = _filter(Dossier)


class HighlightViewSet(viewsets.ReadOnlyModelViewSet[Highlight]):
    """Verbatim highlights."""

    queryset = Highlight.objects.defer("embedding").order_by("-said_at", "-id")
    serializer_class = HighlightSerializer
    permission_classes = (IsAdminUser,)
    filterset_class = _filter(Highlight)


class FactViewSet(viewsets.ReadOnlyModelViewSet[Fact]):
    """Facts, current and superseded."""

    queryset = Fact.objects.defer("embedding").order_by("-recorded_at", "-id")
    serializer_class = FactSerializer
    permission_classes = (IsAdminUser,)
    filterset_class = _filter(Fact)


class GroupLoreViewSet(viewsets.ReadOnlyModelViewSet[GroupLore]):
    """Group lore."""

    queryset = GroupLore.objects.defer("embedding").order_by("-score", "-id")
    serializer_class = GroupLoreSerializer
    permission_classes = (IsAdminUser,)
    filterset_class = _filter(GroupLore)


class EpochViewSet(viewsets.ReadOnlyModelViewSet[Epoch]):
    """Conversation epochs and their summaries."""

    queryset = Epoch.objects.defer("embedding").order_by("-end_at", "-id")
    serializer_class = EpochSerializer
    permission_classes = (IsAdminUser,)
    filterset_class = _filter(Epoch)


class CoreBlockViewSet(viewsets.ReadOnlyModelViewSet[CoreBlock]):
    """Pinned core blocks (written in admin)."""

    queryset = CoreBlock.objects.order_by("scope", "label", "id")
    serializer_class = CoreBlockSerializer
    permission_classes = (IsAdminUser,)
    filterset_class = _filter(CoreBlock)


class ForgetRequestViewSet(viewsets.ReadOnlyModelViewSet[ForgetRequest]):
    """The forget-me log."""

    queryset = ForgetRequest.objects.order_by("-created_at", "-id")
    serializer_class = ForgetRequestSerializer
    permission_classes = (IsAdminUser,)
    filterset_fields = ("guild_id", "status", "requested_by")


class SearchView(APIView):
    """memory_search over a guild's memory (guild-visible rows only; DMs are never searchable here)."""

    permission_classes = (IsAdminUser,)

    @extend_schema(parameters=[SearchQuerySerializer], responses=SearchResultSerializer)
    def get(self, request: Request) -> Response:
        """Hits for `q` in `guild_id`, fused and ranked."""
        params = SearchQuerySerializer(data=request.query_params)
        if not params.is_valid():
            fields = ", ".join(sorted(params.errors))
            raise ApplicationError(
                f"the search query is invalid ({fields}); q and guild_id are required",
                code="invalid_search_query",
                fields=params.errors,
            )
        data = params.validated_data
        result = memory_search(
            SearchQuery(
                text=data["q"],
                guild_id=data["guild_id"],
                channel_id="",
                k=data["k"],
                layers=frozenset(data.get("layers") or ALL_LAYERS),
                person_ids=tuple(data.get("person_id") or ()),
                channel_ids=tuple(data.get("channel_id") or ()),
                since=data.get("since"),
                until=data.get("until"),
                token_budget=data.get("token_budget"),
            )
        )
        return Response(
            {
                "person_ids": list(result.person_ids),
                "tokens": result.tokens,
                "hits": SearchHitSerializer(result.hits, many=True).data,
            }
        )
