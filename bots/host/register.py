"""Register: the tone of the message a turn answers, read from cheap cues, a classifier only when they are unsure.

Four registers change what the bot may do (see `dispositions.factors`): distress (someone sharing a loss or a
bad time: never teased, never a lone reaction or a burst), gratitude (thanks: a reaction or a short line), an
invitation to be teased ("roast me": teasing allowed even from a stranger) and hostility toward the bot (no
teasing back, nothing long, silence allowed). A strong cue decides alone ("passed away", "roast me"); a weak
one ("rough day", "bring it") is put to the cheap classifier (gateway purpose router-classify, the one the
router's tie-break uses); no cue at all is neutral, and the classifier is not asked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bots.host.cues import is_question, words
from dispositions.choices import Register
from dit_project.errors import ApplicationError
from gateway.client import ModelClient

logger = logging.getLogger(__name__)

RegisterClassifier = Callable[[str], Awaitable[str | None]]

CLASSIFIER_PROMPT = (
    "A member of a group chat wrote the message below. Which register is it in? distress (sharing a loss, "
    "grief or a bad time), gratitude (thanking), tease (inviting others to tease or roast them), hostile "
    "(hostile toward the chat's bot) or neutral (anything else). Answer with one word: distress, gratitude, "
    "tease, hostile or neutral."
)
_ANSWERS = {
    "distress": Register.DISTRESS,
    "gratitude": Register.GRATITUDE,
    "tease": Register.TEASE_INVITE,
    "hostile": Register.HOSTILE,
    "neutral": Register.NEUTRAL,
}
_THANKS_MAX_WORDS = 12

_STRONG: tuple[tuple[Register, re.Pattern[str]], ...] = (
    (
        Register.DISTRESS,
        re.compile(
            r"\b(?:passed away|died|has died|funeral|put (?:him|her|my \w+|our \w+) down|lost my|lost our|"
            r"miscarriage|cancer|diagnosed|in (?:the )?hospital|hospice|depressed|depression|can'?t cope|"
            r"heartbroken|broke up|breakup|laid off|got fired|grief|grieving|mourning|rest in peace|"
            r"devastated|panic attack)\b"
        ),
    ),
    (
        Register.TEASE_INVITE,
        re.compile(
            r"\b(?:roast me|tease me|do your worst|give me your worst|make fun of me|insult me|rip into me|"
            r"drag me|roast away|go ahead and roast)\b"
        ),
    ),
    (
        Register.HOSTILE,
        re.compile(
            r"\b(?:you'?re (?:useless|stupid|dumb|trash|garbage|worthless|an idiot|pathetic)|stupid bot|dumb bot|"
            r"useless bot|i hate you|you suck|fuck (?:you|off)|screw you|nobody likes you|worst bot)\b"
        ),
    ),
)
_THANKS = re.compile(
    r"\b(?:thanks|thank you|thank u|thx|ty|tysm|cheers|appreciate (?:it|that|you)|much appreciated|"
    r"you'?re the best|legend|lifesaver|life saver)\b"
)
# Cues that hint at a register without settling it: these are put to the classifier.
_WEAK = re.compile(
    r"\b(?:(?:rough|awful|terrible|horrible|bad|long|hard) (?:day|week|night|time|year)|not (?:ok|okay|great|good)|"
    r"struggling|exhausted|burnt out|burned out|crying|lonely|anxious|stressed|miss (?:him|her|them)|"
    r"bring it|come at me|go on then|annoying|whatever bot)\b"
)


@dataclass(frozen=True, slots=True)
class RegisterReading:
    """The register of a message, and how it was read (a cue, the classifier, or nothing found)."""

    register: str = Register.NEUTRAL
    source: str = ""
    cue: str = ""

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form, for the decision's outcome."""
        return {"register": self.register, "source": self.source, "cue": self.cue}


NEUTRAL = RegisterReading()


def register_cue(text: str) -> RegisterReading | None:
    """The register a strong cue settles ("my gran passed away", "roast me", "thanks!"), or None."""
    lowered = " ".join(words(text))
    for register, pattern in _STRONG:
        found = pattern.search(lowered)
        if found:
            return RegisterReading(register, "cue", found.group(0))
    thanks = _THANKS.search(lowered)
    if thanks and len(lowered.split()) <= _THANKS_MAX_WORDS and not is_question(text):
        return RegisterReading(Register.GRATITUDE, "cue", thanks.group(0))
    return None


def unsure_cue(text: str) -> str:
    """A weak cue ("rough day", "bring it") that makes the register worth asking about; "" when none."""
    found = _WEAK.search(" ".join(words(text)))
    return found.group(0) if found else ""


async def read_register(text: str, *, classify: RegisterClassifier | None) -> RegisterReading:
    """The register of a message: a strong cue, else the classifier when a weak cue makes it unsure, else neutral."""
    settled = register_cue(text)
    if settled is not None:
        return settled
    weak = unsure_cue(text)
    if not weak or classify is None:
        return NEUTRAL
    try:
        answer = await classify(text)
    except ApplicationError as exc:
        logger.warning("register classifier unavailable (%s); reading the message as neutral", exc.code)
        return NEUTRAL
    if answer is None:
        return NEUTRAL
    return RegisterReading(answer, "classifier", weak)


def parse_register_answer(text: str | None) -> str | None:
    """The register a classifier named (its first word), or None when it named none."""
    found = re.findall(r"[a-z]+", (text or "").lower())
    return _ANSWERS.get(found[0]) if found else None


def gateway_register_classifier(*, bot_id: int, guild_id: str | None, model: ModelClient) -> RegisterClassifier:
    """A classifier asking the gateway's cheapest tier (purpose router-classify) for the register."""

    async def classify(text: str) -> str | None:
        completion = await model.complete(
            purpose="router-classify",
            messages=[{"role": "system", "content": CLASSIFIER_PROMPT}, {"role": "user", "content": text[:500]}],
            bot_id=bot_id,
            guild_id=guild_id,
            max_tokens=3,
            temperature=0.0,
        )
        return parse_register_answer(completion.text)

    return classify
