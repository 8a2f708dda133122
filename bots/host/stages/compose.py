"""Composing: the chosen strategy's context, then the synthesizer's one call, with the typing indicator on.

Context assembly reads memory within the privacy boundary (a guild turn never sees DM material, a DM turn
only its own), reusing the transcript the turn already read where the strategy allows. The synthesizer turns
the disposition into beats (or one emoji); a failure is a draft that is not `ok`, never an exception.
"""

from __future__ import annotations

import contextlib

from django.conf import settings

from bots.host.parts import HostParts
from bots.host.values import Draft, TurnPlan
from dispositions.choices import OutputShape, SearchPosture, Voice
from dispositions.specs import DispositionSpec
from dispositions.synthesis import SynthesisRequest

# Shapes that write words; a reaction or silence has nothing to look up.
_WRITTEN = frozenset({OutputShape.SINGLE_LINE, OutputShape.MULTI_LINE, OutputShape.BURST})


def offers_tools(disposition: DispositionSpec, shape: str) -> bool:
    """The synthesizer may call memory's tools when its disposition searches (a search posture other than
    none) or states facts (the fact-drop voice), and writes words; DIT_SYNTH_TOOLS=0 turns tools off."""
    looks_up = disposition.search_posture != SearchPosture.NONE or disposition.voice == Voice.FACT_DROP
    return bool(settings.DIT_SYNTH_TOOLS) and looks_up and shape in _WRITTEN


async def compose(plan: TurnPlan, parts: HostParts) -> Draft:
    """What the turn means to say: context, then one synthesizer call."""
    reading = plan.reading
    scope = reading.scope
    assembled = await parts.port.assemble_context(strategy=plan.context_strategy, scope=scope)
    request = SynthesisRequest(
        persona=plan.persona,
        disposition=plan.chosen,
        output_shape=plan.shape,
        context_text=assembled.text,
        bot_name=parts.bot.name,
        bot_id=parts.bot.bot_id,
        guild_id=plan.request.guild_id or None,
        answering=reading.answering,
        research_material=plan.research.block if plan.research is not None else "",
        is_dm=scope.is_dm,
        note=reading.note,
        # A turn that hands its request to a task worker only acknowledges it: no tool loop inside the turn.
        tools=parts.port.tool_box(scope) if offers_tools(plan.chosen, plan.shape) and not plan.takes_no_work else None,
    )
    # Someone composing a reply shows as typing; a reaction is not typed.
    typing = (
        parts.adapter.typing(plan.request.channel) if plan.shape != OutputShape.REACT_ONLY else contextlib.nullcontext()
    )
    async with typing:
        result = await parts.synthesize(request)
    # What the lens found is part of the decision: an empty block says why, and what it looked for and missed.
    context: dict[str, object] = {
        "strategy": assembled.strategy_used.value,
        "items": len(assembled.items),
        "tokens": assembled.tokens,
    }
    if assembled.empty:
        context["empty"] = True
        context["empty_reason"] = assembled.empty_reason
    if assembled.gaps:
        context["gaps"] = list(assembled.gaps)
    return Draft(request=request, reply_to=reading.reply_to, context=context).with_synthesis(result)
