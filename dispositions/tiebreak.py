"""The router's classifier tie-break through the model gateway (purpose `router-classify`)."""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Sequence
from typing import Any, Protocol, cast

from dispositions.specs import TieBreaker
from dit_project.errors import ApplicationError

logger = logging.getLogger(__name__)

PURPOSE = "router-classify"
_SYSTEM_PROMPT = (
    "You classify group-chat turns. Reply with exactly one of the option names you are given, nothing else."
)


class CompletionClient(Protocol):
    """The part of the gateway's in-process client the tie-break uses."""

    async def complete(
        self,
        *,
        purpose: str,
        messages: list[dict[str, str]],
        bot_id: int,
        guild_id: str,
        max_tokens: int,
        temperature: float,
    ) -> Any:
        """One chat completion; the result has `.text`."""


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
    client: CompletionClient | None = None,
) -> TieBreaker:
    """A tie-breaker that asks the gateway's cheapest tier; on a gateway failure it answers None (sample instead)."""

    async def tiebreak(prompt: str, options: list[str]) -> str | None:
        # Imported on first use: the router and its tests never need the gateway loaded.
        gateway = client or cast(CompletionClient, importlib.import_module("gateway.client"))
        try:
            completion = await gateway.complete(
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
        answer = parse_tiebreak_answer(getattr(completion, "text", None), options)
        if answer is None:
            logger.info("router tie-break for bot %s named no option: %r", bot_id, getattr(completion, "text", None))
        return answer

    return tiebreak
