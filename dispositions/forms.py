"""Admin forms of the dispositions app: list fields edited one item per line, checkboxes for choices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms

from dispositions.choices import ResearchPersona, Voice
from dispositions.models import MAX_WEIGHT, Disposition, Persona


class LinesField(forms.CharField):
    """A list of strings edited as one item per line; blank lines are dropped."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60})

    def prepare_value(self, value: Any) -> Any:
        """Show a stored list one item per line."""
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        """Split on newlines, strip, drop blanks."""
        if isinstance(value, list | tuple):
            return [str(item).strip() for item in value if str(item).strip()]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class PersonaAdminForm(forms.ModelForm[Persona]):
    banned_phrases = LinesField(required=False, help_text="One phrase per line.")
    never_do = LinesField(required=False, help_text="One rule per line.")
    wake_words = LinesField(required=False, help_text="One name or nickname per line.")
    eligible_voices = forms.MultipleChoiceField(
        choices=Voice.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Persona
        fields = ["name", "soul_text", "banned_phrases", "never_do", "wake_words", "eligible_voices"]


class DispositionAdminForm(forms.ModelForm[Disposition]):
    fanout_plan = forms.MultipleChoiceField(
        choices=ResearchPersona.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Disposition
        fields = [
            "name",
            "slug",
            "description",
            "enabled",
            "speculative_only",
            "reasoning_depth",
            "context_strategy",
            "voice",
            "output_shape",
            "search_posture",
            "risk_appetite",
            "followup_bias",
            "followup_probability",
            "followup_window_min_seconds",
            "followup_window_max_seconds",
            "fanout_plan",
        ]


class WhatIfForm(forms.Form):
    """One weight per candidate of a logged decision, pre-filled with the weights it was routed with."""

    def __init__(self, *args: Any, weights: Mapping[str, float], slugs: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for slug in slugs:
            self.fields[slug] = forms.FloatField(
                min_value=0.0, max_value=MAX_WEIGHT, initial=weights.get(slug, 1.0), label=slug
            )

    def weights(self) -> dict[str, float]:
        """The weights entered, keyed by disposition slug."""
        return {slug: float(value) for slug, value in self.cleaned_data.items()}
