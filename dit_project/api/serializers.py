"""Serializer parts shared by every app's API: strict writes and the one error shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


class RejectUnknownFieldsMixin:
    """A write naming a field the serializer does not have is a 400, not silently dropped.

    Read-only fields a client echoes back from a GET are known, so they are accepted (and ignored).
    """

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        """Refuse unknown keys, then validate as usual."""
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


class ErrorDetailSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer[Any]):
    """The body of every error response; the schema's `Error` component (dit_project.api.schema) documents
    its optional members."""

    error = ErrorDetailSerializer()
