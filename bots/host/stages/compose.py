"""Composing: the chosen strategy's context, then the synthesizer's one call, with the typing indicator on.

Context assembly reads memory within the privacy boundary (a guild turn never sees DM material, a DM turn
only its own), reusing the transcript the turn already read where the strategy allows. The synthesizer turns
the disposition into beats (or one emoji); a failure is a draft that is not `ok`, never an exception.
"""

from __future__ import annotations

import contextlib

from bots.host.parts import HostParts
from bots.host.values import Draft, TurnPlan
from dispositions.choices import OutputShape
from dispositions.synthesis import SynthesisRequest


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
        is_dm=scope.is_dm,
        note=reading.note,
    )
    # Someone composing a reply shows as typing; a reaction is not typed.
    typing = (
        parts.adapter.typing(plan.request.channel) if plan.shape != OutputShape.REACT_ONLY else contextlib.nullcontext()
    )
    async with typing:
        result = await parts.synthesize(request)
    context = {"strategy": assembled.strategy_used.value, "items": len(assembled.items)}
    return Draft(request=request, reply_to=reading.reply_to, context=context).with_synthesis(result)
