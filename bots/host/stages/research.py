"""Research: the disposition's research personas in parallel, before the synthesizer, within the turn's deadline.

Who fires is the disposition's fan-out plan, or the rule of its search posture and voice
(`dispositions.research.registry`); a turn with nobody to fire returns its plan untouched and costs nothing.
Each persona reads memory through the port (inside the privacy boundary) and makes one `subagent-research`
call; a persona that fails or times out loses its payload and nothing else. The payloads reach the
synthesizer as its research-material block, suggestions it may ignore; the runs are written with the
decision (`record`), each with how much of it the reply used.
"""

from __future__ import annotations

from dataclasses import replace

from bots.host.parts import HostParts
from bots.host.values import TurnPlan
from dispositions.research.fanout import fan_out
from dispositions.research.registry import personas_for
from dispositions.research.types import Brief


async def research(plan: TurnPlan, parts: HostParts) -> TurnPlan:
    """The plan with its research material, or the plan as it was when no persona fires."""
    # A turn that delegates its request (or asks what it means) does no research: the task worker will.
    names = () if plan.takes_no_work else personas_for(plan.chosen)
    if not names:
        return plan
    reading = plan.reading
    chosen = plan.chosen
    brief = Brief(
        scope=reading.scope,
        message=plan.request.text,
        answering="\n".join(line.render() for line in reading.answering),
        topic=reading.scope.topic,
        voice=chosen.voice,
        search_posture=chosen.search_posture,
        risk_appetite=chosen.risk_appetite,
        bot_id=parts.bot.bot_id,
        guild_id=plan.request.guild_id or None,
    )
    found = await fan_out(
        names,
        brief,
        gather=parts.port.research_material,
        client=parts.model,
        timeout=parts.config.research_subagent_timeout_seconds,
        deadline=parts.config.research_deadline_seconds,
    )
    return replace(plan, research=found)
