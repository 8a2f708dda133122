"""Tool calls: what the synthesizer looked up in memory while composing, stored with the turn's decision.

The calls are known before the decision is written (the synthesizer runs first), so they are stored once the
decision has its id, as `gateway.ToolInvocation` rows; a turn whose synthesizer called no tool writes nothing.
The decision's outcome also lists them (`synthesis[].tools`).
"""

from __future__ import annotations

from bots.host.parts import HostParts
from bots.host.stages.record import Recorded
from bots.host.values import Draft, TurnPlan


async def store(plan: TurnPlan, draft: Draft, recorded: Recorded, parts: HostParts) -> None:
    """Store every tool call of the draft's synthesizer calls with the recorded decision."""
    for synthesis in draft.syntheses:
        if synthesis.tool_calls:
            await parts.port.record_tool_calls(
                synthesis.tool_calls,
                purpose=synthesis.purpose,
                guild_id=plan.request.guild_id,
                decision_id=recorded.decision_id,
            )
