"""A guild's time zone and quiet hours: set on its admin page, checked, read by the host in the guild's time."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from bots.models import Guild
from bots.selectors import QuietHours, quiet_hours_by_guild
from bots.services import guild_quiet_hours_set
from bots.tests.factories import GuildChannelFactory, GuildFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, owner):
    client.force_login(owner)
    return client


def test_quiet_hours_are_read_in_the_guilds_time_zone_and_may_run_past_midnight():
    night = QuietHours(time_zone="Asia/Tokyo", start=time(23), end=time(7))
    # 15:30 UTC is 00:30 in Tokyo; 03:00 UTC is noon there.
    assert night.covers(datetime(2025, 5, 1, 15, 30, tzinfo=UTC))
    assert not night.covers(datetime(2025, 5, 1, 3, 0, tzinfo=UTC))
    afternoon = QuietHours(time_zone="UTC", start=time(13), end=time(14))
    assert afternoon.covers(datetime(2025, 5, 1, 13, 59, tzinfo=UTC))
    assert not afternoon.covers(datetime(2025, 5, 1, 14, 0, tzinfo=UTC))


def test_only_guilds_with_quiet_hours_are_read_for_a_bot():
    quiet = GuildFactory.create()
    GuildFactory.create(bot=quiet.bot)
    guild_quiet_hours_set(guild=quiet, time_zone="Europe/Berlin", start=time(22), end=time(6))

    assert quiet_hours_by_guild(bot_id=quiet.bot_id) == {
        quiet.external_id: QuietHours(time_zone="Europe/Berlin", start=time(22), end=time(6))
    }


@pytest.mark.parametrize(
    ("zone", "start", "end", "field"),
    [
        ("Mars/Olympus", time(22), time(6), "time_zone"),
        ("UTC", time(22), None, "quiet_hours_end"),
        ("UTC", time(9), time(9), "quiet_hours_end"),
    ],
)
def test_quiet_hours_need_a_real_time_zone_and_both_ends_that_differ(zone, start, end, field):
    guild = GuildFactory.create()

    with pytest.raises(ValidationError) as raised:
        guild_quiet_hours_set(guild=guild, time_zone=zone, start=start, end=end)

    assert field in raised.value.message_dict


def test_a_moderator_sets_quiet_hours_on_the_guild_page_and_a_sync_keeps_them(admin_client):
    guild = GuildFactory.create(name="Home")
    GuildChannelFactory.create(guild=guild)
    url = reverse("admin:bots_guild_change", args=[guild.pk])

    page = admin_client.get(url).content.decode()
    saved = admin_client.post(
        url,
        {
            "time_zone": "America/New_York",
            "quiet_hours_start": "23:00",
            "quiet_hours_end": "07:00",
            "channels-TOTAL_FORMS": "1",
            "channels-INITIAL_FORMS": "1",
            "channels-0-id": str(guild.channels.get().pk),
            "channels-0-guild": str(guild.pk),
            "channels-0-external_id": guild.channels.get().external_id,
            "channels-0-name": guild.channels.get().name,
            "channels-0-kind": "text",
            "roles-TOTAL_FORMS": "0",
            "roles-INITIAL_FORMS": "0",
        },
    )
    refused = admin_client.post(url, {"time_zone": "Nowhere/Land", "quiet_hours_start": "23:00"})

    assert "Quiet hours" in page
    assert saved.status_code == 302, saved.content.decode()[:3000]
    guild.refresh_from_db()
    assert (guild.time_zone, guild.quiet_hours_start, guild.quiet_hours_end) == ("America/New_York", time(23), time(7))
    assert refused.status_code == 200
    assert "Unknown time zone" in refused.content.decode()
    Guild.objects.filter(pk=guild.pk).update(name="Renamed")
    assert quiet_hours_by_guild(bot_id=guild.bot_id)[guild.external_id].time_zone == "America/New_York"
