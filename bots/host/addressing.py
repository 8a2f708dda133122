"""Addressing: whether a message is said to the bot, and how (mention, reply, name, the bot's thread).

@everyone, @here and role pings address the bot only when settings say so. A message that mentions or
replies to someone else is for them, unless it also mentions the bot, replies to it, or opens by calling
it by name ("Sol, ..."). Names and wake words match as whole words, so "our solar panels" never calls Sol.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bots.adapters.base import InboundMessage
from dispositions.choices import AddressKind


@dataclass(frozen=True, slots=True)
class Address:
    """How a message addresses the bot; `reason` says which rule decided, for the decision record."""

    addressed: bool
    kind: str
    reason: str
    others_targeted: bool = False

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "addressed": self.addressed,
            "kind": self.kind,
            "reason": self.reason,
            "others_targeted": self.others_targeted,
        }


NOT_ADDRESSED = Address(False, AddressKind.NONE, "not addressed")


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """What the bot answers to on one platform."""

    user_id: str
    names: tuple[str, ...]
    role_ids: frozenset[str] = frozenset()

    @classmethod
    def build(cls, *, user_id: str, names: Iterable[str], role_ids: Iterable[str] = ()) -> BotIdentity:
        """Names are kept lower-cased, de-duplicated and non-empty."""
        cleaned = tuple(dict.fromkeys(n.strip().lower() for n in names if n and n.strip()))
        return cls(user_id=user_id, names=cleaned, role_ids=frozenset(role_ids))


def name_pattern(name: str) -> re.Pattern[str]:
    """A whole-word, case-insensitive pattern for a name ("sol" matches "Sol," and "@sol", not "solar")."""
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.IGNORECASE)


_PLATFORM_TOKEN = re.compile(r"<(?:@[!&]?|#|a?:\w+:)[\w-]+>")


def names_the_bot(text: str, names: Iterable[str]) -> bool:
    """Whether any of the bot's names appears as a whole word (mention and emoji tokens aside)."""
    plain = _PLATFORM_TOKEN.sub(" ", text)
    return any(name_pattern(name).search(plain) for name in names)


def calls_by_name_first(text: str, names: Iterable[str]) -> bool:
    """A vocative: the text opens by calling the bot ("Sol, ...", "hey sol ...", "@sol ...")."""
    opening = text.strip()
    for name in names:
        escaped = re.escape(name)
        pattern = rf"^\W*(?:(?:hey|hi|yo|ok|okay|oi)\s+@?{escaped}(?![\w-])|@{escaped}(?![\w-])|{escaped}\s*[,:!?])"
        if re.match(pattern, opening, re.IGNORECASE):
            return True
    return False


def detect_address(
    message: InboundMessage,
    *,
    bot: BotIdentity,
    bot_message_ids: Collection[str] = (),
    address_on_everyone: bool = False,
    address_on_role_ping: bool = False,
) -> Address:
    """How `message` addresses the bot, first matching rule wins."""
    if message.is_dm:
        return Address(True, AddressKind.NONE, "direct message")
    reply = message.reply_to
    replies_to_bot = reply is not None and (
        reply.author_id == bot.user_id or (reply.author_id is None and reply.message.id in bot_message_ids)
    )
    if replies_to_bot:
        return Address(True, AddressKind.REPLY, "reply to the bot's message")
    mentioned = set(message.mentioned_user_ids)
    # A reply adds the replied-to author to the mentions; that mention is the reply, not a second target.
    replied_author = reply.author_id if reply is not None else None
    explicit_mentions = {uid for uid in mentioned if uid != replied_author or f"<@{uid}>" in message.content}
    if bot.user_id in explicit_mentions or re.search(rf"<@!?{re.escape(bot.user_id)}>", message.content):
        return Address(True, AddressKind.MENTION, "mentioned the bot")
    if (message.mentions_everyone or message.mentions_here) and address_on_everyone:
        return Address(True, AddressKind.MENTION, "@everyone/@here (ADDRESS_ON_EVERYONE)")
    roles = set(message.mentioned_role_ids)
    if roles and address_on_role_ping and roles & bot.role_ids:
        return Address(True, AddressKind.MENTION, "pinged a role of the bot (ADDRESS_ON_ROLE_PING)")
    others = (explicit_mentions - {bot.user_id}) or (reply is not None and not replies_to_bot)
    text = message.content
    if names_the_bot(text, bot.names):
        if not others:
            return Address(True, AddressKind.NAME, "called by name")
        if calls_by_name_first(text, bot.names):
            return Address(True, AddressKind.NAME, "called by name first, others mentioned too", True)
        return Address(False, AddressKind.NONE, "named the bot while talking to someone else", True)
    if message.is_thread and message.thread_owner_id == bot.user_id:
        if others:
            return Address(False, AddressKind.NONE, "in the bot's thread but to someone else", True)
        return Address(True, AddressKind.THREAD, "in a thread the bot started")
    if others:
        return Address(False, AddressKind.NONE, "to someone else", True)
    if message.mentions_everyone or message.mentions_here:
        return Address(False, AddressKind.NONE, "@everyone/@here does not address the bot")
    if roles:
        return Address(False, AddressKind.NONE, "a role ping does not address the bot")
    return NOT_ADDRESSED
