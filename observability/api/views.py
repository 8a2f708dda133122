"""API views of the observability app: errors, for staff only (tracebacks show the code's insides)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from rest_framework import permissions, viewsets

from dit_project.api.filters import UtcIsoDateTimeFilter
from observability.api.serializers import ErrorEventSerializer
from observability.choices import ErrorSource
from observability.models import ErrorEvent
from observability.selectors import error_event_list


class ErrorEventFilter(django_filters.FilterSet):
    source = django_filters.ChoiceFilter(choices=ErrorSource.choices)
    since = UtcIsoDateTimeFilter(field_name="last_seen", lookup_expr="gte")

    class Meta:
        model = ErrorEvent
        fields = ["source", "exception_type", "fingerprint"]


class ErrorEventViewSet(viewsets.ReadOnlyModelViewSet[ErrorEvent]):
    """Errors grouped by fingerprint, the latest seen first."""

    serializer_class = ErrorEventSerializer
    permission_classes = [permissions.IsAdminUser]
    filterset_class = ErrorEventFilter
    ordering_fields = ["last_seen", "first_seen", "count"]

    def get_queryset(self) -> QuerySet[ErrorEvent]:
        return error_event_list()
