"""How much of a payload the reply used: the signal for tuning research personas (their ignore rate).

The measure is cheap and deterministic: shared content words. A payload's content words are its words of
four letters or more, lower-cased, a plural `s` cut, minus common function words, and minus every word of
the message the turn answers (the reply echoing the question shows nothing about the material). The
payload's `uptake` is the share of those words the reply also uses; the payload counts as `ignored` when
the reply shares fewer than two of them and less than half. A quoted span the reply repeats shares its
words, so a direct callback always counts as used; a reply that took the idea in other words may count as
ignored, which is the price of a measure with no model in it. A persona's ignore rate is the share of its
measured runs that were ignored (`dispositions.selectors.subagent_ignore_rates`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MIN_SHARED_WORDS = 2
MIN_UPTAKE = 0.5
_WORD = re.compile(r"[^\W\d_][\w']{3,}", re.UNICODE)
STOPWORDS = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "also",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "could",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "else",
        "even",
        "ever",
        "every",
        "from",
        "further",
        "have",
        "having",
        "here",
        "hers",
        "herself",
        "himself",
        "into",
        "itself",
        "just",
        "like",
        "make",
        "more",
        "most",
        "much",
        "must",
        "myself",
        "never",
        "only",
        "other",
        "ought",
        "ours",
        "ourselves",
        "over",
        "same",
        "shall",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "want",
        "well",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "said",
        "says",
        "thing",
        "things",
        "really",
        "still",
        "thats",
        "dont",
        "cant",
        "wont",
        "didnt",
        "isnt",
        "arent",
        "youre",
        "theyre",
    ]
)


@dataclass(frozen=True, slots=True)
class Uptake:
    """What the reply took from one payload: the share of its content words, and whether it was ignored."""

    uptake: float | None
    ignored: bool | None
    shared: tuple[str, ...] = ()


NOT_MEASURED = Uptake(uptake=None, ignored=None)


def content_words(text: str) -> frozenset[str]:
    """The content words of a text (see the module docstring)."""
    words = set()
    for raw in _WORD.findall(text.casefold()):
        word = raw.replace("'", "")
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if len(word) >= 4 and word not in STOPWORDS:
            words.add(word)
    return frozenset(words)


def payload_text(payload: Any) -> str:
    """Every string in a payload, joined."""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, dict):
        return " ".join(payload_text(value) for value in payload.values())
    if isinstance(payload, list | tuple):
        return " ".join(payload_text(value) for value in payload)
    return ""


def measure(payload: Any, *, reply: str, answered: str) -> Uptake:
    """How much of `payload` the reply used; not measured without a reply or without payload words of its own."""
    if payload is None or not reply.strip():
        return NOT_MEASURED
    offered = content_words(payload_text(payload)) - content_words(answered)
    if not offered:
        return NOT_MEASURED
    shared = offered & content_words(reply)
    uptake = len(shared) / len(offered)
    ignored = len(shared) < MIN_SHARED_WORDS and uptake < MIN_UPTAKE
    return Uptake(uptake=round(uptake, 4), ignored=ignored, shared=tuple(sorted(shared)))
