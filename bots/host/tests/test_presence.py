"""Who the bot is on its platform: a role ping counts only for a role the bot holds."""

from __future__ import annotations

from bots.adapters.base import GuildSnapshot, MemberRef, ReadyEvent, RoleRef
from bots.host.config import HostConfig
from bots.host.presence import Presence
from bots.host.tests.builders import GUILD, message

BOT = MemberRef(id="77", display_name="Dit", is_bot=True)
DIT_ROLE = RoleRef(id="r-dit", name="Dit")


def ready(*, bot_role_ids: tuple[str, ...]) -> ReadyEvent:
    return ReadyEvent(
        platform="discord",
        bot_user=BOT,
        guilds=(GuildSnapshot(guild=GUILD, roles=(DIT_ROLE,), bot_role_ids=bot_role_ids),),
    )


def presence() -> Presence:
    return Presence(name="Dit", config=HostConfig.build(address_on_role_ping=True))


def test_a_ping_of_a_role_the_bot_holds_addresses_it():
    seen = presence()
    seen.ready(ready(bot_role_ids=("r-dit",)))

    address = seen.address(message("<@&r-dit> deploy is broken", mentioned_role_ids=("r-dit",)))

    assert address.addressed


def test_a_ping_of_a_role_named_like_the_bot_that_it_does_not_hold_is_not_for_it():
    seen = presence()
    seen.ready(ready(bot_role_ids=()))

    address = seen.address(message("<@&r-dit> deploy is broken", mentioned_role_ids=("r-dit",)))

    assert not address.addressed


def test_the_bot_knows_its_own_messages_once_sent():
    from bots.adapters.base import MessageRef
    from bots.host.ledger import ChannelLedger
    from bots.host.tests.builders import GENERAL

    seen = presence()
    seen.ready(ready(bot_role_ids=()))
    ledger = ChannelLedger()
    seen.sent(ledger, GENERAL.id, [MessageRef(channel=GENERAL, id="sent-1")], "hello")

    [arrival] = ledger.since(GENERAL.id, 0)
    assert (arrival.message_id, arrival.is_own, arrival.author_id) == ("sent-1", True, "77")
