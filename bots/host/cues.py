"""Cheap readings of a message's words: questions, sentence ends, nudges, mute phrases and fake silence.

Each is a small pure function, so each group-chat rule can be tested (and tuned) on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# fmt: off
_QUESTION_WORDS = frozenset((
    "who", "what", "when", "where", "why", "how", "which", "whose", "whom", "is", "are", "am", "was", "were",
    "do", "does", "did", "can", "could", "would", "should", "will", "shall", "may", "might", "has", "have", "had",
    "isn't", "aren't", "doesn't", "don't", "didn't", "can't", "won't", "anyone", "anybody",
))
# fmt: on
_WORD = re.compile(r"[\w']+", re.UNICODE)
_MENTION_TOKEN = re.compile(r"<@[!&]?\d+>|@everyone|@here")
# Words that nudge without saying anything new: "@bot ^^", "bot?", "hello??", "bump".
_NUDGE_WORDS = frozenset({"bump", "ping", "pls", "plz", "please", "hello", "helloo", "hey", "yo", "oi", "up"})
_NEGATIONS = frozenset({"don't", "dont", "do not", "never", "can't", "cant", "cannot", "won't", "wont", "not"})
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"')\]\u201d\u2019]*\s*$")


def words(text: str) -> list[str]:
    """The lower-cased words of a text (mention tokens left out)."""
    return [w.lower() for w in _WORD.findall(_MENTION_TOKEN.sub(" ", text))]


def is_question(text: str) -> bool:
    """A question: it ends with a question mark, or opens with a question word and runs three words or more."""
    stripped = _MENTION_TOKEN.sub(" ", text).strip()
    if not stripped:
        return False
    if stripped.rstrip(" !.)\"'").endswith("?"):
        return True
    found = words(stripped)
    return len(found) >= 3 and found[0] in _QUESTION_WORDS


def ends_sentence(text: str) -> bool:
    """Whether the text ends a sentence (., !, ? or an ellipsis, closing quotes allowed)."""
    return bool(_SENTENCE_END.search(text.strip()))


def strip_address(text: str, *, names: Iterable[str], bot_user_id: str = "") -> str:
    """The text without the ways of calling the bot: its mention tokens, `@name`, and its names as words."""
    stripped = text
    if bot_user_id:
        stripped = re.sub(rf"<@!?{re.escape(bot_user_id)}>", " ", stripped)
    for name in sorted({n for n in names if n.strip()}, key=len, reverse=True):
        stripped = re.sub(rf"(?<![\w])@?{re.escape(name)}(?![\w])", " ", stripped, flags=re.IGNORECASE)
    return " ".join(stripped.split())


def has_new_content(text: str) -> bool:
    """Whether a text (already stripped of the bot's names) says anything beyond a nudge like "^^" or "?"."""
    return any(word not in _NUDGE_WORDS for word in words(text) if re.search(r"[^\W_]", word))


def match_mute_phrase(text: str, phrases: Sequence[str]) -> str | None:
    """The mute phrase a short message uses ("stop", "shut up"), unless negated ("don't stop"); else None."""
    lowered = " ".join(words(text))
    for phrase in phrases:
        wanted = " ".join(words(phrase))
        if not wanted:
            continue
        for found in re.finditer(rf"(?<![\w']){re.escape(wanted)}(?![\w'])", lowered):
            before = lowered[: found.start()].split()
            preceding = " ".join(before[-2:])
            if before and (before[-1] in _NEGATIONS or preceding in _NEGATIONS):
                continue
            return phrase
    return None


_WRAPPERS = "*_()[]<>{}~`'\" "
_SILENCE_WORDS = re.compile(
    r"^(?:(?:i(?:'ll| will)?|bot|the bot|dit)\s+)?"
    r"(?:(?:stay|stays|staying|remain|remains|remaining|keep|keeps|keeping|stayed|remained)\s+"
    r"(?:silent|quiet)(?:\s+for now)?|silence|silent|no response|no reply|no comment|says nothing|"
    r"said nothing|say nothing|nothing to (?:say|add)|listens|listening|lurks|lurking|pass(?:es)?|"
    r"skip(?:s|ping)?|no output|empty|none|null|n/?a)$"
)


def is_silence_text(text: str) -> bool:
    """Whether a beat only performs silence: "(staying silent)", "*stays silent*", "[silence]", "...", "" ..."""
    stripped = text.strip()
    if not stripped:
        return True
    # Only dots, dashes and ellipses: a pause written down, not words.
    if re.fullmatch(r"[\s.\u2026\-_~]*", stripped):
        return True
    inner = stripped.strip(_WRAPPERS).strip().rstrip(".!").strip(_WRAPPERS).strip().lower()
    inner = " ".join(inner.split())
    return bool(_SILENCE_WORDS.match(inner))
