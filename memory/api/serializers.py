"""Serializers of the memory API: memory rows out (never their vectors), the search query in and hits out."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from memory.models import CoreBlock, Dossier, Epoch, Fact, ForgetRequest, GroupLore, Highlight
from memory.search import ALL_LAYERS

_SCOPE = ("id", "guild_id", "channel_id", "subject_user_id", "visibility", "source_transcript_ids", "created_at")


class DossierSerializer(serializers.ModelSerializer[Dossier]):
    class Meta:
        model = Dossier
        fields = (*_SCOPE, "display_name", "body_text", "signals", "message_count", "last_seen_at", "updated_at")


class HighlightSerializer(serializers.ModelSerializer[Highlight]):
    class Meta:
        model = Highlight
        fields = (*_SCOPE, "kind", "raw_text", "attribution", "surrounding_context", "score", "said_at")


class FactSerializer(serializers.ModelSerializer[Fact]):
    class Meta:
        model = Fact
        fields = (
            *_SCOPE,
            "attribute",
            "statement",
            "valid_from",
            "valid_to",
            "recorded_at",
            "superseded_at",
            "superseded_by",
            "confidence",
        )


class GroupLoreSerializer(serializers.ModelSerializer[GroupLore]):
    class Meta:
        model = GroupLore
        fields = (*_SCOPE, "kind", "body_text", "subject_user_ids", "score", "updated_at")


class EpochSerializer(serializers.ModelSerializer[Epoch]):
    class Meta:
        model = Epoch
        fields = (
            "id",
            "guild_id",
            "channel_id",
            "channel_name",
            "visibility",
            "start_at",
            "end_at",
            "first_seq",
            "last_seq",
            "message_count",
            "participants",
            "summary_text",
            "topics",
            "score",
            "status",
            "closed_at",
            "summarized_at",
            "last_error",
        )


class CoreBlockSerializer(serializers.ModelSerializer[CoreBlock]):
    class Meta:
        model = CoreBlock
        fields = (*_SCOPE, "scope", "persona_id", "label", "body", "updated_at")


class ForgetRequestSerializer(serializers.ModelSerializer[ForgetRequest]):
    class Meta:
        model = ForgetRequest
        fields = (
            "id",
            "guild_id",
            "subject_hash",
            "requested_by",
            "status",
            "deleted",
            "epochs_regenerated",
            "last_error",
            "created_at",
            "finished_at",
        )


class SearchQuerySerializer(serializers.Serializer[dict[str, Any]]):
    q = serializers.CharField(max_length=2000)
    guild_id = serializers.CharField(max_length=64)
    k = serializers.IntegerField(min_value=1, max_value=100, default=10)
    layers = serializers.MultipleChoiceField(choices=sorted(ALL_LAYERS), required=False)
    person_id = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    channel_id = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    token_budget = serializers.IntegerField(min_value=1, required=False)


class NeighbourSerializer(serializers.Serializer[Any]):
    transcript_id = serializers.IntegerField()
    author = serializers.CharField()
    text = serializers.CharField()
    said_at = serializers.DateTimeField()
    offset = serializers.IntegerField()


class SearchHitSerializer(serializers.Serializer[Any]):
    layer = serializers.CharField()
    row_id = serializers.IntegerField()
    text = serializers.CharField()
    author = serializers.CharField()
    subject_user_id = serializers.CharField()
    channel_id = serializers.CharField()
    said_at = serializers.DateTimeField(allow_null=True)
    score = serializers.FloatField()
    transcript_ids = serializers.ListField(child=serializers.IntegerField())
    ranks = serializers.DictField(child=serializers.IntegerField())
    neighbours = NeighbourSerializer(many=True)


class SearchResultSerializer(serializers.Serializer[Any]):
    """What /api/memory/search/ answers: the people the query was narrowed to, the tokens used, the hits."""

    person_ids = serializers.ListField(child=serializers.CharField())
    tokens = serializers.IntegerField()
    hits = SearchHitSerializer(many=True)
