"""Channel mutes for moderators: the API (staff only) and admin; every mute logged with who and why."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from bots.host.choices import MuteSource
from bots.host.models import ChannelMute
from bots.host.selectors import active_mute
from bots.host.services import mute_create
from bots.tests.factories import BotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator_client(moderator) -> APIClient:
    client = APIClient()
    client.force_authenticate(moderator)
    return client


@pytest.fixture
def admin_client(client, owner):
    client.force_login(owner)
    return client


def test_a_moderator_mutes_a_channel_through_the_api_and_it_is_logged(moderator_client, moderator):
    bot = BotFactory.create()

    response = moderator_client.post(
        f"/api/bots/{bot.slug}/mutes/", {"channel_id": "c1", "minutes": 30, "reason": "too chatty"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["channel_id"], body["source"], body["muted_by"], body["muted_by_user"], body["active"]) == (
        "c1",
        "api",
        "staff:moderator",
        "moderator",
        True,
    )
    assert active_mute(bot_id=bot.pk, channel_id="c1") is not None


def test_a_moderator_lifts_a_mute_through_the_api(moderator_client):
    bot = BotFactory.create()
    mute = mute_create(bot_id=bot.pk, channel_id="c1", source=MuteSource.PHRASE, muted_by="alice (u:1)", minutes=60)

    response = moderator_client.post(f"/api/bots/{bot.slug}/mutes/{mute.pk}/lift/", {"reason": "we miss it"})

    assert response.status_code == 200
    assert (response.json()["lifted_by"], response.json()["lift_reason"]) == ("staff:moderator", "we miss it")
    assert active_mute(bot_id=bot.pk, channel_id="c1") is None


def test_lifting_another_bots_mute_is_not_found(moderator_client):
    bot, other = BotFactory.create(), BotFactory.create()
    mute = mute_create(bot_id=other.pk, channel_id="c1", source=MuteSource.PHRASE, muted_by="a", minutes=60)

    response = moderator_client.post(f"/api/bots/{bot.slug}/mutes/{mute.pk}/lift/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "mute_not_found"


def test_mutes_are_for_staff_only_even_to_read(member_client, api_client):
    bot = BotFactory.create()

    assert member_client.get(f"/api/bots/{bot.slug}/mutes/").status_code == 403
    assert member_client.post(f"/api/bots/{bot.slug}/mutes/", {"channel_id": "c", "minutes": 5}).status_code == 403
    assert api_client.get(f"/api/bots/{bot.slug}/mutes/").status_code in (401, 403)


def test_a_mute_needs_a_channel_and_a_positive_duration(moderator_client):
    bot = BotFactory.create()

    response = moderator_client.post(f"/api/bots/{bot.slug}/mutes/", {"minutes": 0}, format="json")

    assert response.status_code == 400
    assert ChannelMute.objects.count() == 0


def test_the_mute_list_query_count_does_not_grow_with_rows(moderator_client, django_assert_num_queries):
    bot = BotFactory.create()
    url = f"/api/bots/{bot.slug}/mutes/"
    mute_create(bot_id=bot.pk, channel_id="c0", source=MuteSource.PHRASE, muted_by="a", minutes=60)
    moderator_client.get(url)
    with django_assert_num_queries(2):
        assert len(moderator_client.get(url).json()) == 1
    for n in range(1, 6):
        mute_create(bot_id=bot.pk, channel_id=f"c{n}", source=MuteSource.PHRASE, muted_by="a", minutes=60)
    with django_assert_num_queries(2):
        assert len(moderator_client.get(url + "?active=true").json()) == 6


def test_a_moderator_mutes_from_admin_and_lifts_with_the_action(admin_client, owner):
    bot = BotFactory.create()

    added = admin_client.post(
        reverse("admin:host_channelmute_add"),
        {"bot": bot.pk, "platform": "discord", "guild_id": "g", "channel_id": "c9", "reason": "raid", "minutes": 15},
    )

    assert added.status_code == 302, added.content.decode()[:2000]
    mute = ChannelMute.objects.get()
    assert (mute.source, mute.muted_by, mute.muted_by_user) == (MuteSource.ADMIN, "staff:owner", owner)
    assert 14 * 60 < (mute.until - mute.created_at).total_seconds() <= 15 * 60

    lifted = admin_client.post(
        reverse("admin:host_channelmute_changelist"), {"action": "lift_selected", "_selected_action": [mute.pk]}
    )

    assert lifted.status_code == 302
    mute.refresh_from_db()
    assert mute.lifted_at is not None
    assert mute.lifted_at <= timezone.now()
    assert mute.lifted_by == "staff:owner"


def test_the_admin_mute_changelist_query_count_is_pinned(admin_client, django_assert_num_queries):
    bot = BotFactory.create()
    url = reverse("admin:host_channelmute_changelist")
    mute_create(bot_id=bot.pk, channel_id="c0", source=MuteSource.PHRASE, muted_by="a", minutes=60)
    admin_client.get(url)
    with django_assert_num_queries(6):
        assert admin_client.get(url).status_code == 200
    for n in range(1, 6):
        mute_create(bot_id=bot.pk, channel_id=f"c{n}", source=MuteSource.PHRASE, muted_by="a", minutes=60)
    with django_assert_num_queries(6):
        assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize(
    "text",
    ["stop", "stop it please", "please shut up", "ok be quiet now", "shut up already man", "stfu"],
)
async def test_a_mute_phrase_that_is_the_whole_request_mutes(text):
    from bots.host.config import HostConfig
    from bots.host.mutes import read_mute_request

    reading = await read_mute_request(text, config=HostConfig.build(mute_classifier=False), classify=None)

    assert reading.mute


@pytest.mark.parametrize(
    "text", ["stop being so formal", "stop saying that word", "shut up about rust for a sec", "be quiet on the intro"]
)
async def test_a_mute_phrase_inside_a_longer_request_is_not_a_mute(text):
    from bots.host.config import HostConfig
    from bots.host.mutes import read_mute_request

    reading = await read_mute_request(text, config=HostConfig.build(mute_classifier=False), classify=None)

    assert not reading.mute


async def test_a_longer_request_that_asks_in_so_many_words_is_put_to_the_classifier():
    from bots.host.config import HostConfig
    from bots.host.mutes import read_mute_request

    asked = []

    async def classify(text):
        asked.append(text)
        return True

    text = "could you give us some room for a bit, we're planning a surprise for bob"
    reading = await read_mute_request(text, config=HostConfig.build(), classify=classify)

    assert reading.mute
    assert reading.source == MuteSource.CLASSIFIER
    assert asked == [text]


async def test_a_long_message_without_a_request_to_be_quiet_is_never_classified():
    from bots.host.config import HostConfig
    from bots.host.mutes import read_mute_request

    asked = []

    async def classify(text):
        asked.append(text)
        return True

    text = "can you stop by the docs later and tell me if the API changed?"
    reading = await read_mute_request(text, config=HostConfig.build(), classify=classify)

    assert not reading.mute
    assert asked == []


async def test_unaddressed_only_a_request_in_so_many_words_is_read_and_short_ones_need_no_classifier():
    from bots.host.config import HostConfig
    from bots.host.mutes import read_mute_request

    without = HostConfig.build(mute_classifier=False)

    assert (await read_mute_request("stay out of here for now", config=without, classify=None)).mute
    assert not (await read_mute_request("go on then", config=without, classify=None, addressed=False)).mute
    assert (await read_mute_request("give us some room please", config=without, classify=None, addressed=False)).mute
