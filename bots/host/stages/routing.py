"""Routing: the router scores the persona's dispositions against the moment and picks one, with a logged seed.

Nothing is written here: the decision is recorded with the beats it will send (see `record`), so a turn
that speaks writes its decision once. A close call is put to the cheap classifier when the bot's settings
ask for a tie-break.
"""

from __future__ import annotations

import time

from bots.host.parts import HostParts
from bots.host.values import Reading, TurnPlan, TurnRequest
from dispositions.services import aroute
from dispositions.tiebreak import make_gateway_tiebreaker


async def route(request: TurnRequest, reading: Reading, parts: HostParts, *, started: float | None = None) -> TurnPlan:
    """The router's choice for the turn, with its inputs, result and latency."""
    persona_id = parts.bot.persona_id
    assert persona_id is not None  # noqa: S101 - the host resolves its persona before taking any turn
    persona, candidates = await parts.port.candidates(persona_id)
    config = parts.config.router
    tiebreaker = (
        make_gateway_tiebreaker(bot_id=parts.bot.bot_id, guild_id=request.guild_id, model=parts.model)
        if config.tiebreak_enabled
        else None
    )
    routed = await aroute(
        moment=reading.moment,
        persona=persona,
        candidates=candidates,
        config=config,
        seed=request.seed if request.seed is not None else parts.seed_source(),
        tiebreaker=tiebreaker,
    )
    return TurnPlan(
        request=request,
        reading=reading,
        persona=persona,
        inputs=routed.inputs,
        routing=routed.result,
        router_latency_ms=routed.latency_ms,
        started=time.perf_counter() if started is None else started,
    )
