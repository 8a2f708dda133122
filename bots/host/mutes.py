"""Being told to stop: a mute phrase, or a cheap classifier where the phrase list misses.

Only short messages addressed to the bot are read this way; the classifier (gateway purpose
router-classify) answers yes or no and is never asked about anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bots.host.choices import MuteSource
from bots.host.config import HostConfig
from bots.host.cues import is_question, match_mute_phrase, words
from dit_project.errors import ApplicationError

logger = logging.getLogger(__name__)

Classifier = Callable[[str], Awaitable[bool]]

CLASSIFIER_PROMPT = (
    "A member of a group chat wrote the message below to the chat's bot. Is the member telling the bot to stop "
    "talking, be quiet or go away? Answer with one word: yes or no."
)


@dataclass(frozen=True, slots=True)
class MuteReading:
    """Whether a message tells the bot to be quiet, and how that was read."""

    mute: bool
    source: MuteSource | None = None
    matched: str = ""


NOT_A_MUTE = MuteReading(False)


def is_short(text: str, config: HostConfig) -> bool:
    """Short enough to be read as a mute request (a few words, not a question)."""
    count = len(words(text))
    return 0 < count <= config.mute_max_words and not is_question(text)


async def read_mute_request(text: str, *, config: HostConfig, classify: Classifier | None) -> MuteReading:
    """Read a message addressed to the bot (its address already stripped) as a mute request or not."""
    if not is_short(text, config):
        return NOT_A_MUTE
    phrase = match_mute_phrase(text, config.mute_phrases)
    if phrase is not None:
        return MuteReading(True, MuteSource.PHRASE, phrase)
    if not config.mute_classifier or classify is None:
        return NOT_A_MUTE
    try:
        said_yes = await classify(text)
    except ApplicationError as exc:
        logger.warning("mute classifier unavailable (%s); reading the message as not a mute", exc.code)
        return NOT_A_MUTE
    return MuteReading(True, MuteSource.CLASSIFIER, "classifier") if said_yes else NOT_A_MUTE


def gateway_mute_classifier(*, bot_id: int, guild_id: str | None) -> Classifier:
    """A classifier asking the gateway's cheapest tier (purpose router-classify) for yes or no."""
    from gateway.client import complete

    async def classify(text: str) -> bool:
        completion = await complete(
            purpose="router-classify",
            messages=[{"role": "system", "content": CLASSIFIER_PROMPT}, {"role": "user", "content": text[:500]}],
            bot_id=bot_id,
            guild_id=guild_id,
            max_tokens=3,
            temperature=0.0,
        )
        answer = (completion.text or "").strip().lower()
        return answer.startswith("yes")

    return classify
