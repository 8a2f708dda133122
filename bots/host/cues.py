"""Cheap readings of a message's words: questions and what they ask, who they are put to, good news and
laughter, requests to be quiet, sentence ends, nudges, mute phrases and fake silence.

Each is a small pure function, so each group-chat rule can be tested (and tuned) on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from dispositions.choices import QuestionKind

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


# Words a question may open with before its question word ("wait when's the meeting", "so how do I...").
_LEAD_INS = frozenset(
    {"wait", "so", "ok", "okay", "hey", "um", "uh", "btw", "and", "but", "also", "hmm", "oh", "quick"}
)


def is_question(text: str) -> bool:
    """A question: it ends with a question mark, or opens (lead-ins aside) with a question word and runs three words
    or more."""
    stripped = _MENTION_TOKEN.sub(" ", text).strip()
    if not stripped:
        return False
    if stripped.rstrip(" !.)\"'").endswith("?"):
        return True
    found = words(stripped)
    while found and found[0] in _LEAD_INS:
        found = found[1:]
    # "when's", "what's": the question word before its contraction.
    return len(found) >= 3 and (found[0] in _QUESTION_WORDS or found[0].split("'")[0] in _QUESTION_WORDS)


_REQUEST = re.compile(
    r"^(?:(?:please|pls|plz|hey|so|ok|okay|now)\s+)*(?:tell|give|show|list|explain|describe|recommend|suggest|help|"
    r"name|write|teach|remind|find|pick|share|summari[sz]e|translate|define|compare)\b"
)


def asks_something(text: str) -> bool:
    """A question, or a request that wants an answer all the same ("tell me a fun fact", "explain DNS")."""
    return is_question(text) or bool(_REQUEST.match(" ".join(words(text))))


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


# What a question asks for, first match wins: settling a disagreement, an explanation, something about the
# people in the chat (their evening, their plans), an opinion, else a plain fact.
_SETTLE = re.compile(
    r"\b(?:settle (?:this|it)|who'?s right|who is right|which of us is right|is (?:he|she|they) right|"
    r"am i right|tell (?:him|her|them) (?:he'?s|she'?s|they'?re) wrong)\b"
)
_EXPLAIN = re.compile(
    r"\b(?:explain|walk me through|step by step|in detail|how (?:does|do) .+ work|why (?:does|do|is|are|did)|"
    r"what'?s the difference|difference between|pros and cons|tell me (?:about|more)|break (?:it|this) down)\b"
)
_PERSONAL = re.compile(
    r"^(?:did|have|are|were|will|do) (?:you|u|y'?all|anyone|anybody|any of you|you guys)\b.*"
    r"\b(?:see|seen|catch|watch|watched|go|going|went|hear|heard|finish|finished|try|tried|coming|free|around|"
    r"up|doing|done|ready|joining|playing|eating|back|home|awake)\b"
    r"|\b(?:anyone|anybody|who'?s|who is) (?:up for|coming|joining|around|free|going|in|watching|still up|awake|"
    r"seen|catch|want|wanna|hungry)\b"
    r"|\b(?:you|u) (?:coming|free|around|up for|awake|ok|okay)\b|\bwanna\b|\bwho wants\b|\bhow are (?:you|u)\b"
    r"|\bhow was (?:your|the)\b"
)
_OPINION = re.compile(
    r"\b(?:what do you (?:all |guys )?think|thoughts|your take|what'?s your (?:take|opinion|view)|"
    r"do you (?:like|prefer|love|hate)|would you|should (?:i|we)|opinion|favou?rite|which is better|recommend)\b"
)


_FACT = re.compile(
    r"^(?:(?:what|what's|whats|when|where|who|whom|whose|which|how (?:many|much|long|far|old|big|tall|often|"
    r"do i|do you|can i|to)|is|are|was|were|does|do|did|can|could|will|has|have|had)\b)"
    r"|\b(?:anyone know|anybody know|does anyone know|is there a way)\b"
)


def question_kind(text: str) -> str:
    """What a question asks for: to settle something, an explanation, something about the people in the chat, an
    opinion, or a plain fact; blank when it asks nothing or reads as none of these ("well?")."""
    if not asks_something(text):
        return QuestionKind.NONE
    lowered = " ".join(words(text))
    for kind, pattern in (
        (QuestionKind.SETTLE, _SETTLE),
        (QuestionKind.EXPLAIN, _EXPLAIN),
        (QuestionKind.PERSONAL, _PERSONAL),
        (QuestionKind.OPINION, _OPINION),
    ):
        if pattern.search(lowered):
            return kind
    if len(lowered.split()) >= 3 and (_FACT.search(lowered) or _REQUEST.match(lowered)):
        return QuestionKind.FACT
    return QuestionKind.NONE


# A question in the bot's lane is one it can answer from what it knows: a fact or an explanation.
LANE_KINDS = frozenset({QuestionKind.FACT, QuestionKind.EXPLAIN})
_TO_THE_ROOM = re.compile(
    r"\b(?:anyone|anybody|someone|somebody|any of you|y'?all|you guys|guys|folks|everyone|everybody|"
    r"any ideas?|is there a way|how do i|how can i|does anybody|do you guys)\b"
)


def put_to_the_room(text: str) -> bool:
    """Whether a question is put to whoever is there ("anyone know...", "is there a way to...")."""
    return bool(_TO_THE_ROOM.search(" ".join(words(text))))


_GOOD_NEWS = re.compile(
    r"\b(?:i|we) (?:got|passed|won|made it|finished|did it|aced|nailed|landed|shipped|launched|bought)\b"
    r"|\b(?:got the job|got in|got engaged|engaged|promoted|promotion|hired|graduated|new job|new baby|"
    r"we did it|finally did|lets go+|let's go+|woo+h?o+|yay+|hooray|hurray)\b"
)
_GOOD_NEWS_EMOJI = frozenset("🎉🥳🎊🏆🍾")
_BAD_TURN = re.compile(r"\b(?:not|didn't|didnt|never|failed|lost|rejected|broke|broken|fired|sad|sorry)\b")


def is_good_news(text: str) -> bool:
    """Someone sharing good news ("I PASSED!!!", "we won the hackathon", "got the job 🎉"), not bad news."""
    lowered = " ".join(words(text))
    if _BAD_TURN.search(lowered):
        return False
    return bool(_GOOD_NEWS.search(lowered)) or any(ch in _GOOD_NEWS_EMOJI for ch in text)


_LAUGH_WORD = re.compile(r"^(?:l+o+l+z?|lmf?a+o+|ha(?:ha)+h?|hah|he(?:he)+|rofl|omg|dead|im|i'm|xd)$")
_LAUGH_EMOJI = frozenset("😂🤣💀😆😹")


def is_laughter(text: str) -> bool:
    """A message that only laughs: "lol", "hahaha", "😂😂😂", "lmao dead"."""
    stripped = _MENTION_TOKEN.sub(" ", text).strip()
    if not stripped:
        return False
    laughed = any(ch in _LAUGH_EMOJI for ch in stripped)
    for word in words(stripped):
        if not _LAUGH_WORD.match(word):
            return False
        laughed = laughed or word not in ("omg", "im", "i'm")
    rest = re.sub(r"[\w'\s!?.]", "", stripped)
    return laughed and all(ch in _LAUGH_EMOJI or not ch.isprintable() or ch in "\ufe0f" for ch in rest)


# Ways of asking the bot to be quiet that no short phrase list catches ("stay out of here for now").
_QUIET_REQUEST = re.compile(
    r"\b(?:stay out|keep out|give (?:us|me) (?:some |a little |a bit of )?(?:room|space|a minute|a moment|a break)|"
    r"leave (?:us|me)(?: alone)?|go away|not now|pipe down|zip it|keep it down|sit (?:this|this one) out|"
    r"butt out|let us talk|stop (?:talking|replying|chiming|interrupting|responding|answering|posting)|be quiet|"
    r"quiet down|mute yourself|take a break|shush|hush|back off|enough from you|nobody asked you|stay quiet|"
    r"keep quiet|stay silent|no more from you|that'?s enough)\b"
)


def quiet_request_cue(text: str) -> str | None:
    """The words in a message that ask the bot to be quiet ("give us some room"), unless negated; else None."""
    lowered = " ".join(words(text))
    for found in _QUIET_REQUEST.finditer(lowered):
        before = lowered[: found.start()].split()
        if before and (before[-1] in _NEGATIONS or " ".join(before[-2:]) in _NEGATIONS):
            continue
        return found.group(0)
    return None
