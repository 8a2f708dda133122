"""The router's classifier tie-break through the model gateway (purpose `router-classify`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from dispositions.specs import TieBreaker
from dit_project.errors import ApplicationError
from gateway.client import GATEWAY, ModelClient

logger = logging.getLogger(__name__)

PURPOSE = "router-classify"
_SYSTEM_PROMPT = (
    "You classify group-chat turns. Reply with exactly one of the option names you are given, nothing else."
)


def parse_tiebreak_answer(text: str | None, options: Sequence[str]) -> str | None:
    """The option a classifier named: an exact answer first, else the longest option named as a whole word."""
    if not text:
        return None
    answer = text.strip().strip("`'\".").lower()
    lowered = {option.lower(): option for option in options}
    if answer in lowered:
        return lowered[answer]
    # Longest first, so "quick-react-deep" wins over "quick-react" when both could match.
    for option in sorted(options, key=len, reverse=True):
        if re.search(rf"(?<![\w-]){re.escape(option.lower())}(?![\w-])", answer):
            return option
    return None


def make_gateway_tiebreaker(
    *,
    bot_id: int,
    guild_id: str,
    max_tokens: int = 12,
    model: ModelClient = GATEWAY,
) -> TieBreaker:
    """A tie-breaker that asks the gateway's cheapest tier; on a gateway failure it answers None (sample instead)."""

    async def tiebreak(prompt: str, options: list[str]) -> str | None:
        try:
            completion = await model.complete(
                purpose=PURPOSE,
                messages=[{"role": "system", "content": _SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
                bot_id=bot_id,
                guild_id=guild_id,
                max_tokens=max_tokens,
                temperature=0.0,
            )
        except ApplicationError as exc:
            # A tie-break is optional: the router samples instead, and the decision logs no answer.
            logger.warning("router tie-break failed for bot %s (%s): %s", bot_id, exc.code, exc.message)
            return None
        answer = parse_tiebreak_answer(completion.text, options)
        if answer is None:
            logger.info("router tie-break for bot %s named no option: %r", bot_id, completion.text)
        return answer

    return tiebreak
