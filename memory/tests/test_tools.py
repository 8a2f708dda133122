"""Memory's tools read within the caller's scope: a guild's memory in a guild, the DM's own in a DM."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gateway.tools import TOOLS, ToolError, ToolScope
from memory import tools
from memory.choices import Visibility
from memory.models import Dossier, Epoch, Fact, GroupLore, Highlight

pytestmark = pytest.mark.django_db

GUILD = ToolScope(guild_id="g-1", channel_id="c-1", requester_id="u-alice")
DM = ToolScope(guild_id=None, channel_id="dm-bob", is_dm=True, requester_id="u-bob")


@pytest.fixture
def remembered():
    now = timezone.now()
    Dossier.objects.create(
        guild_id="g-1",
        channel_id="c-1",
        subject_user_id="u-bob",
        display_name="bob",
        body_text="Runs the ferry club.",
        message_count=40,
        last_seen_at=now,
    )
    Dossier.objects.create(
        guild_id="",
        visibility=Visibility.DM,
        channel_id="dm-bob",
        subject_user_id="u-bob",
        display_name="bob",
        body_text="Told the bot about his job hunt.",
    )
    Fact.objects.create(
        guild_id="g-1",
        channel_id="c-1",
        subject_user_id="u-bob",
        attribute="hobby",
        statement="Bob restores old ferries.",
        valid_from=now,
    )
    Fact.objects.create(
        guild_id="",
        visibility=Visibility.DM,
        channel_id="dm-bob",
        subject_user_id="u-bob",
        attribute="job",
        statement="Bob is leaving his job in March.",
        valid_from=now,
    )
    Highlight.objects.create(
        guild_id="g-1",
        channel_id="c-1",
        subject_user_id="u-bob",
        raw_text="the ferry is never on time, never",
        attribution="bob",
        said_at=now - timedelta(days=2),
        score=0.9,
    )
    Highlight.objects.create(
        guild_id="",
        visibility=Visibility.DM,
        channel_id="dm-bob",
        subject_user_id="u-bob",
        raw_text="please keep my ferry job plans secret",
        attribution="bob",
        said_at=now,
    )
    GroupLore.objects.create(guild_id="g-1", channel_id="c-1", body_text="Everyone blames the ferry.", score=0.8)
    GroupLore.objects.create(guild_id="g-1", channel_id="c-1", body_text="Friday is pizza day.", score=0.5)
    GroupLore.objects.create(guild_id="g-2", channel_id="c-9", body_text="Another server's joke.", score=1.0)
    Epoch.objects.create(
        guild_id="g-1",
        channel_id="c-1",
        start_at=now - timedelta(hours=2),
        end_at=now - timedelta(hours=1),
        first_seq=1,
        last_seq=9,
        summary_text="They argued about the ferry timetable.",
        closed_at=now,
    )
    return now


def test_memory_registers_its_three_tools_with_the_gateway():
    assert [TOOLS.get(name) for name in tools.MEMORY_TOOLS] == [
        tools.MEMORY_SEARCH,
        tools.RECALL_USER,
        tools.RECALL_GROUP,
    ]


def test_recall_user_in_a_guild_reads_the_guilds_memory_and_never_the_dm(remembered):
    found = tools.recall_user(GUILD, {"user": "bob"})

    assert found["user_id"] == "u-bob"
    assert found["about"] == "Runs the ferry club."
    assert found["facts"] == ["Bob restores old ferries."]
    assert [h["text"] for h in found["said"]] == ["the ferry is never on time, never"]
    assert "March" not in str(found)
    assert "secret" not in str(found)
    assert tools.recall_user(GUILD, {"user": "u-bob"})["user_id"] == "u-bob"


def test_recall_user_in_a_dm_reads_that_dm_only(remembered):
    found = tools.recall_user(DM, {"user": "u-bob"})

    assert found["about"] == "Told the bot about his job hunt."
    assert found["facts"] == ["Bob is leaving his job in March."]
    assert "restores" not in str(found)


def test_recall_user_of_someone_unknown_is_an_error_for_the_model(remembered):
    with pytest.raises(ToolError, match="no one called 'carol'"):
        tools.recall_user(GUILD, {"user": "carol"})


def test_recall_group_reads_this_guilds_lore_and_conversations(remembered):
    found = tools.recall_group(GUILD, {})

    assert [row["text"] for row in found["lore"]] == ["Everyone blames the ferry.", "Friday is pizza day."]
    assert [row["summary"] for row in found["recent_conversations"]] == ["They argued about the ferry timetable."]
    narrowed = tools.recall_group(GUILD, {"topic": "pizza"})
    assert [row["text"] for row in narrowed["lore"]] == ["Friday is pizza day."]
    assert narrowed["recent_conversations"] == []


def test_memory_search_finds_the_guilds_words_and_not_a_dms(remembered):
    found = tools.search(GUILD, {"query": "ferry", "layers": ["highlight"]})

    texts = [hit["text"] for hit in found["hits"]]
    assert "the ferry is never on time, never" in texts
    assert all("secret" not in text for text in texts)
    in_dm = tools.search(DM, {"query": "ferry", "layers": ["highlight"]})
    assert [hit["text"] for hit in in_dm["hits"]] == ["please keep my ferry job plans secret"]


def test_memory_tools_refuse_a_scope_with_no_guild_and_no_dm():
    nowhere = ToolScope(guild_id=None, channel_id="c-1")
    with pytest.raises(ToolError):
        tools.recall_group(nowhere, {})
    with pytest.raises(ToolError):
        tools.search(nowhere, {"query": "ferry"})
