"""Being told to stop: a mute phrase, or a cheap classifier where the phrase list misses.

A request to be quiet, however it is worded, mutes the channel it was made in (never another). Short messages
addressed to the bot are read this way, and a phrase mutes only when it is (nearly) the whole message: "stop",
"please stop now", "shut up dit", not "stop being so formal"; other short ones are put to the classifier. A
longer message (up to MUTE_REQUEST_MAX_WORDS), or a polite question ("could you give us some room for a bit?"),
is put to the classifier when it asks in so many words (`cues.quiet_request_cue`: "stay out", "give us some
room", "let us talk"), and so is such a request right after the bot spoke, unaddressed. Without the classifier,
only a short request that asks in so many words mutes. The classifier (gateway purpose router-classify) answers
yes or no and is never asked about anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bots.host.choices import MuteSource
from bots.host.config import HostConfig
from bots.host.cues import is_question, match_mute_phrase, quiet_request_cue, words
from dit_project.errors import ApplicationError
from gateway.client import ModelClient

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


# Words that may stand around a mute phrase without making it a request about something else.
# fmt: off
_AROUND_A_MUTE = frozenset((
    "please", "pls", "plz", "now", "already", "just", "ok", "okay", "for", "a", "bit", "while", "talking",
    "it", "up", "man", "dude", "bro", "mate", "you", "u", "bot", "thanks", "thx", "ty", "seriously", "lol", "oh",
    "god", "my", "right", "immediately", "asap", "today", "tonight", "again", "pretty", "hey", "yo", "oi",
    "of", "here", "in", "this", "channel", "us", "me", "alone", "little", "minute", "moment",
))
# fmt: on


def is_whole_request(text: str, phrase: str) -> bool:
    """Whether the mute phrase is the message, give or take a few words of tone ("stop it please")."""
    phrase_words = words(phrase)
    found = words(text)
    for start in range(len(found) - len(phrase_words) + 1):
        if found[start : start + len(phrase_words)] == phrase_words:
            rest = found[:start] + found[start + len(phrase_words) :]
            return all(word in _AROUND_A_MUTE for word in rest)
    return False


async def read_mute_request(
    text: str, *, config: HostConfig, classify: Classifier | None, addressed: bool = True
) -> MuteReading:
    """Read a message to the bot (its address already stripped) as a mute request or not.

    `addressed=False` is a message right after the bot spoke: only one that asks in so many words is read.
    """
    short = is_short(text, config)
    if addressed and short:
        phrase = match_mute_phrase(text, config.mute_phrases)
        if phrase is not None and is_whole_request(text, phrase):
            return MuteReading(True, MuteSource.PHRASE, phrase)
    cue = quiet_request_cue(text) if len(words(text)) <= config.mute_request_max_words else None
    if not (addressed and short) and cue is None:
        return NOT_A_MUTE
    if not config.mute_classifier or classify is None:
        # Nobody to ask: only a short request that is nothing but asking is taken at its word.
        whole = cue is not None and short and is_whole_request(text, cue)
        return MuteReading(True, MuteSource.PHRASE, cue) if whole and cue is not None else NOT_A_MUTE
    try:
        said_yes = await classify(text)
    except ApplicationError as exc:
        logger.warning("mute classifier unavailable (%s); reading the message as not a mute", exc.code)
        return NOT_A_MUTE
    return MuteReading(True, MuteSource.CLASSIFIER, "classifier") if said_yes else NOT_A_MUTE


def gateway_mute_classifier(*, bot_id: int, guild_id: str | None, model: ModelClient) -> Classifier:
    """A classifier asking the gateway's cheapest tier (purpose router-classify) for yes or no."""

    async def classify(text: str) -> bool:
        completion = await model.complete(
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
