"""Factories of the dispositions app."""

from __future__ import annotations

import factory

from dispositions.choices import ContextStrategy, OutputShape, ReasoningDepth, RiskAppetite, SearchPosture, Voice
from dispositions.models import Disposition, DispositionDecision, Persona, PersonaDispositionWeight, SubagentRun
from dispositions.router import route_turn
from dispositions.selectors import load_routing_candidates
from dispositions.services import record_decision
from dispositions.specs import Moment, RouterConfig


class PersonaFactory(factory.django.DjangoModelFactory[Persona]):
    class Meta:
        model = Persona

    name = factory.Sequence(lambda n: f"persona-{n}")
    soul_text = "Dry, warm, curious."
    wake_words = factory.LazyFunction(lambda: ["dit"])


class DispositionFactory(factory.django.DjangoModelFactory[Disposition]):
    class Meta:
        model = Disposition

    slug = factory.Sequence(lambda n: f"disposition-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    reasoning_depth = ReasoningDepth.LOW
    context_strategy = ContextStrategy.LIVE
    voice = Voice.PLAYFUL
    output_shape = OutputShape.SINGLE_LINE
    search_posture = SearchPosture.NONE
    risk_appetite = RiskAppetite.SAFE


class PersonaDispositionWeightFactory(factory.django.DjangoModelFactory[PersonaDispositionWeight]):
    class Meta:
        model = PersonaDispositionWeight

    persona = factory.SubFactory(PersonaFactory)
    disposition = factory.SubFactory(DispositionFactory)
    weight = 1.0


def make_decision(
    *,
    persona: Persona,
    context: Moment | None = None,
    config: RouterConfig | None = None,
    seed: int = 7,
    channel_id: str = "c-1",
    guild_id: str = "g-1",
) -> DispositionDecision:
    """A decision routed for real over the persona's candidates and recorded through the service."""
    context = context or Moment(message_text="hello")
    config = config or RouterConfig()
    persona_spec, candidates = load_routing_candidates(persona.pk)
    result = route_turn(context, persona_spec, candidates, config, seed=seed)
    return record_decision(
        moment=context,
        persona=persona_spec,
        candidates=candidates,
        config=config,
        result=result,
        guild_id=guild_id,
        channel_id=channel_id,
        bot_id=1,
        inbound_message_id=f"m-{seed}",
    )


class SubagentRunFactory(factory.django.DjangoModelFactory[SubagentRun]):
    class Meta:
        model = SubagentRun

    persona = "comedian"
    input_payload = factory.LazyFunction(lambda: {"topic": "rust"})
    output_payload = factory.LazyFunction(lambda: {"angles": ["a", "b"]})
