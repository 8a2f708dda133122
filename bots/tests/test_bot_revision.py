"""`bot_revision`: what a running host compares each turn to notice its bot row changed or went away."""

from __future__ import annotations

import pytest

from bots.models import Bot
from bots.selectors import bot_revision
from bots.services import bot_update, setting_override_clear, setting_override_set
from bots.tests.factories import BotFactory

pytestmark = pytest.mark.django_db


def test_a_revision_names_the_bot_and_stays_equal_while_nothing_changes(django_assert_num_queries):
    bot = BotFactory.create(manifest=True, slug="steady", name="Steady")

    with django_assert_num_queries(1):
        first = bot_revision(bot_id=bot.pk)

    assert first is not None
    assert (first.slug, first.name, first.manifest_id, first.override_count) == (
        "steady",
        "Steady",
        bot.current_manifest_id,
        0,
    )
    assert bot_revision(bot_id=bot.pk) == first


@pytest.mark.parametrize("change", ["rename", "set an override", "change an override", "clear an override"])
def test_a_rename_or_a_settings_change_gives_a_new_revision(change):
    bot = BotFactory.create(manifest=True)
    if change in ("change an override", "clear an override"):
        setting_override_set(bot=bot, key="GREETING", value="hi")
    before = bot_revision(bot_id=bot.pk)

    if change == "rename":
        bot_update(bot=bot, name="Renamed")
    elif change in ("set an override", "change an override"):
        setting_override_set(bot=bot, key="GREETING", value="howdy")
    else:
        setting_override_clear(bot=bot, key="GREETING")

    assert bot_revision(bot_id=bot.pk) != before


def test_a_deleted_bot_has_no_revision():
    bot = BotFactory.create()
    bot_id = bot.pk
    Bot.objects.filter(pk=bot_id).delete()

    assert bot_revision(bot_id=bot_id) is None
