"""Who the bot is on its platform right now: its identity, our bots' accounts and the messages it sent.

Kept in memory by the running host and rebuilt on every fresh session; the accounts are also in Postgres
(`BotAccount`), read through the port.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from bots.adapters.base import InboundMessage, MessageRef, ReadyEvent
from bots.host.addressing import NOT_ADDRESSED, Address, BotIdentity, detect_address
from bots.host.config import HostConfig
from bots.host.ledger import ChannelLedger

REMEMBERED_OWN_MESSAGES = 2000


class Presence:
    """The bot's identity and what it recognises as its own."""

    def __init__(self, *, name: str, config: HostConfig) -> None:
        self.name = name
        self.config = config
        self.identity: BotIdentity | None = None
        self.own_user_ids: frozenset[str] = frozenset()
        self.wake_words: tuple[str, ...] = ()
        # Other bots' accounts already looked up and found not ours: their messages need no second look.
        self.foreign_bot_ids: set[str] = set()
        self._own_messages: OrderedDict[str, None] = OrderedDict()

    def ready(self, event: ReadyEvent) -> BotIdentity:
        """A fresh session: the bot's user, its names, and the roles it holds in each guild."""
        user = event.bot_user
        role_ids = {role_id for snapshot in event.guilds for role_id in snapshot.bot_role_ids}
        self.identity = BotIdentity.build(
            user_id=user.id, names=[self.name, user.display_name, *self.wake_words], role_ids=role_ids
        )
        self.own_user_ids = self.own_user_ids | {user.id}
        return self.identity

    def needs_account_lookup(self, message: InboundMessage) -> bool:
        """Whether a bot's message comes from an account not yet known as ours or as someone else's."""
        author_id = message.author.id
        return message.author.is_bot and author_id not in self.own_user_ids and author_id not in self.foreign_bot_ids

    def learn_accounts(self, own_user_ids: frozenset[str], *, looked_up: str) -> None:
        """Our bots' accounts as read again; `looked_up` is the bot account that prompted the read."""
        self.own_user_ids = own_user_ids | self.own_user_ids
        if looked_up not in self.own_user_ids:
            self.foreign_bot_ids.add(looked_up)

    def is_own(self, author_id: str) -> bool:
        """Whether an author is one of our bots (this one or another)."""
        return author_id in self.own_user_ids

    def address(self, message: InboundMessage) -> Address:
        """How a message addresses this bot (not at all before the first session)."""
        if self.identity is None:
            return NOT_ADDRESSED
        return detect_address(
            message,
            bot=self.identity,
            bot_message_ids=self._own_messages,
            address_on_everyone=self.config.address_on_everyone,
            address_on_role_ping=self.config.address_on_role_ping,
        )

    def sent(self, ledger: ChannelLedger, channel_id: str, refs: Sequence[MessageRef], text: str) -> None:
        """The bot sent a message: remember it as ours, in the ledger before the platform echoes it back."""
        author_id = self.identity.user_id if self.identity is not None else ""
        for ref in refs:
            self._own_messages[ref.id] = None
            ledger.record_own(channel_id, ref.id, text=text, author_id=author_id, author_name=self.name)
        while len(self._own_messages) > REMEMBERED_OWN_MESSAGES:
            self._own_messages.popitem(last=False)
