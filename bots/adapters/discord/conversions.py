"""Discord objects as platform-neutral values: channels, members, guilds and messages."""

from __future__ import annotations

from typing import Any

import discord

from bots.adapters.base import (
    ChannelKind,
    ChannelRef,
    GuildRef,
    GuildSnapshot,
    InboundMessage,
    MemberRef,
    MessageRef,
    ReplyRef,
    RoleRef,
)

PLATFORM = "discord"
# Only messages people (and bots) write reach the host; joins, pins and other system messages do not.
USER_MESSAGE_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def guild_id_of(channel: ChannelRef) -> int | None:
    return int(channel.guild.id) if channel.guild is not None else None


def guild_ref(guild: discord.Guild | None) -> GuildRef | None:
    return GuildRef(id=str(guild.id), name=guild.name) if guild is not None else None


def member_ref(user: discord.abc.User | discord.ClientUser) -> MemberRef:
    role_ids: tuple[str, ...] = ()
    if isinstance(user, discord.Member):
        role_ids = tuple(str(role.id) for role in user.roles if not role.is_default())
    return MemberRef(
        id=str(user.id),
        display_name=user.display_name,
        is_bot=user.bot,
        role_ids=role_ids,
        created_at=getattr(user, "created_at", None),
    )


def known_user(client: discord.Client, user_id: int, guild_id: int | None) -> discord.abc.User | None:
    if guild_id is not None:
        guild = client.get_guild(guild_id)
        member = guild.get_member(user_id) if guild is not None else None
        if member is not None:
            return member
    return client.get_user(user_id)


def channel_ref(channel: Any) -> ChannelRef:
    """A ChannelRef for any discord.py channel-like object (cached channel, thread, DM or partial)."""
    guild = guild_ref(getattr(channel, "guild", None))
    name = getattr(channel, "name", None) or ""
    if isinstance(channel, discord.Thread):
        return ChannelRef(
            id=str(channel.id),
            name=name,
            guild=guild,
            kind=ChannelKind.THREAD,
            parent_id=str(channel.parent_id),
            owner_id=str(channel.owner_id) if channel.owner_id else None,
        )
    if isinstance(channel, discord.DMChannel | discord.GroupChannel):
        return ChannelRef(id=str(channel.id), name=name, guild=None, kind=ChannelKind.DM)
    if isinstance(channel, discord.CategoryChannel):
        return ChannelRef(id=str(channel.id), name=name, guild=guild, kind=ChannelKind.CATEGORY)
    if isinstance(channel, discord.TextChannel):
        return ChannelRef(id=str(channel.id), name=name, guild=guild, kind=ChannelKind.TEXT)
    if isinstance(channel, discord.PartialMessageable):
        kind = ChannelKind.TEXT
        if channel.type in (discord.ChannelType.private, discord.ChannelType.group):
            kind = ChannelKind.DM
        elif channel.type in (discord.ChannelType.public_thread, discord.ChannelType.private_thread):
            kind = ChannelKind.THREAD
        elif channel.guild_id is None and channel.type is None:
            kind = ChannelKind.DM
        partial_guild = guild or (GuildRef(id=str(channel.guild_id)) if channel.guild_id else None)
        return ChannelRef(id=str(channel.id), name=name, guild=partial_guild, kind=kind)
    return ChannelRef(id=str(channel.id), name=name, guild=guild, kind=ChannelKind.OTHER)


def channel_ref_by_id(client: discord.Client, channel_id: int, guild_id: int | None) -> ChannelRef:
    channel = client.get_channel(channel_id)
    if channel is not None:
        return channel_ref(channel)
    return channel_ref(client.get_partial_messageable(channel_id, guild_id=guild_id))


def guild_snapshot(guild: discord.Guild) -> GuildSnapshot:
    channels = [*guild.channels, *guild.threads]
    me = guild.me
    return GuildSnapshot(
        guild=GuildRef(id=str(guild.id), name=guild.name),
        bot_role_ids=tuple(str(role.id) for role in me.roles if not role.is_default()) if me is not None else (),
        channels=tuple(channel_ref(channel) for channel in channels),
        roles=tuple(
            RoleRef(id=str(role.id), name=role.name, position=role.position)
            for role in guild.roles
            if not role.is_default()
        ),
    )


def inbound_message(message: discord.Message, *, is_edit: bool) -> InboundMessage:
    channel = channel_ref(message.channel)
    reply_to = None
    reference = message.reference
    if reference is not None and reference.message_id is not None and message.type is discord.MessageType.reply:
        replied_channel = channel
        if reference.channel_id != message.channel.id:
            replied_channel = ChannelRef(id=str(reference.channel_id), guild=channel.guild)
        resolved = reference.resolved
        reply_to = ReplyRef(
            message=MessageRef(channel=replied_channel, id=str(reference.message_id)),
            author_id=str(resolved.author.id) if isinstance(resolved, discord.Message) else None,
        )
    content = message.content
    return InboundMessage(
        platform=PLATFORM,
        message=MessageRef(channel=channel, id=str(message.id)),
        guild=guild_ref(message.guild),
        channel=channel,
        author=member_ref(message.author),
        content=content,
        created_at=message.created_at,
        reply_to=reply_to,
        # The payload's mention lists are authoritative (they include the replied-to author); the content's
        # role mentions cover roles missing from the cache.
        mentioned_user_ids=tuple(dict.fromkeys(str(user.id) for user in message.mentions)),
        mentioned_role_ids=tuple(
            dict.fromkeys([*(str(role.id) for role in message.role_mentions), *map(str, message.raw_role_mentions)])
        ),
        # Discord sets one flag for both; the content tells @everyone from @here.
        mentions_everyone=message.mention_everyone and "@everyone" in content,
        mentions_here=message.mention_everyone and "@here" in content,
        is_edit=is_edit,
        attachment_count=len(message.attachments),
    )
