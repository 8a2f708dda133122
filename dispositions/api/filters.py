"""Filter sets of the dispositions API."""

from __future__ import annotations

import django_filters

from dispositions.choices import ContextStrategy, OutputShape, ReasoningDepth, RiskAppetite, TriggerKind, Voice
from dispositions.models import Disposition, DispositionDecision, Persona, PersonaDispositionWeight, SubagentRun
from dit_project.api.filters import UtcIsoDateTimeFilter


class PersonaFilter(django_filters.FilterSet):
    class Meta:
        model = Persona
        fields = {"name": ["exact", "icontains"]}


class DispositionFilter(django_filters.FilterSet):
    reasoning_depth = django_filters.ChoiceFilter(choices=ReasoningDepth.choices)
    context_strategy = django_filters.ChoiceFilter(choices=ContextStrategy.choices)
    voice = django_filters.ChoiceFilter(choices=Voice.choices)
    output_shape = django_filters.ChoiceFilter(choices=OutputShape.choices)
    risk_appetite = django_filters.ChoiceFilter(choices=RiskAppetite.choices)

    class Meta:
        model = Disposition
        fields = ["slug", "enabled", "speculative_only"]


class PersonaWeightFilter(django_filters.FilterSet):
    disposition = django_filters.CharFilter(field_name="disposition__slug", help_text="Disposition slug.")

    class Meta:
        model = PersonaDispositionWeight
        fields = ["persona"]


class DecisionFilter(django_filters.FilterSet):
    trigger_kind = django_filters.ChoiceFilter(choices=TriggerKind.choices)
    output_shape = django_filters.ChoiceFilter(choices=OutputShape.choices)
    disposition = django_filters.CharFilter(field_name="chosen_slug", help_text="Chosen disposition slug.")
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text="Created at or after.")
    until = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", help_text="Created before.")

    class Meta:
        model = DispositionDecision
        fields = ["guild_id", "channel_id", "bot_id", "persona", "context_strategy_off_axis", "tiebreak_ran"]


class SubagentRunFilter(django_filters.FilterSet):
    class Meta:
        model = SubagentRun
        fields = ["decision", "persona", "ignored"]
