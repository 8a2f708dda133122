"""Forget-me: zero rows of the member in any memory table afterwards, summaries included; transcripts redacted."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.db import connection

from memory.choices import ForgetRequester, ForgetStatus
from memory.forgetting import forget_member, is_forget_request, pseudonym, subject_hash
from memory.models import ArchiveEntry, Epoch, ForgetRequest, Transcript
from memory.tests.factories import GUILD
from memory.tests.seeding import CachingEmbedder, seed_guild

pytestmark = pytest.mark.django_db

MEMBER, NAME = "u-carol", "carol"


def _rows_naming(needles):
    """(table, column) of every memory row whose text holds one of the needles."""
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_app_config("memory").get_models():
            table = model._meta.db_table
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            columns = [c.name for c in cursor.description]
            for row in cursor.fetchall():
                blob = json.dumps([str(v) for v in row]).casefold()
                for needle in needles:
                    if needle.casefold() in blob:
                        found.append((table, dict(zip(columns, row, strict=True)).get("id"), needle))
    return found


def test_forget_me_leaves_zero_rows_of_the_member_in_any_table_summaries_included(gateway_on_openai_server):
    seed_guild()
    epoch = Epoch.objects.get()
    own_lines = Transcript.objects.filter(author_id=MEMBER).count()
    assert "Carol" in epoch.summary_text
    assert _rows_naming([MEMBER, NAME])  # the test can fail: carol is all over memory before
    gateway_on_openai_server.queue_reply(
        json.dumps({"summary": "Someone defended a pizza topping; Bob disagreed.", "topics": ["pizza"]})
    )

    log = forget_member(guild_id=GUILD, user_id=MEMBER, requested_by=ForgetRequester.MEMBER, embedder=CachingEmbedder())

    assert _rows_naming([MEMBER, NAME]) == []
    epoch.refresh_from_db()
    assert epoch.summary_text == "Someone defended a pizza topping; Bob disagreed."
    assert MEMBER not in epoch.participants
    assert log.status == ForgetStatus.DONE
    assert log.epochs_regenerated == 1
    assert log.subject_hash == subject_hash(GUILD, MEMBER)
    assert log.deleted["highlights"] == 1
    assert log.deleted["transcripts_redacted"] == own_lines


def test_transcripts_are_redacted_not_dropped_and_others_lines_lose_the_members_name(gateway_on_openai_server):
    seeded = seed_guild()
    count = Transcript.objects.count()
    gateway_on_openai_server.queue_reply(json.dumps({"summary": "A pizza argument.", "topics": []}))
    forget_member(
        guild_id=GUILD,
        user_id=MEMBER,
        requested_by=ForgetRequester.ADMIN,
        staff_username="owner",
        embedder=CachingEmbedder(),
    )
    assert Transcript.objects.count() == count
    own = Transcript.objects.get(pk=seeded.messages["pizza"].pk)
    assert (own.content, own.author_id, own.author_display_name) == (
        "[redacted]",
        pseudonym(GUILD, MEMBER),
        "forgotten member",
    )
    reply = Transcript.objects.get(pk=seeded.messages["pushback-2"].pk)
    assert reply.content == "wrong again, [forgotten member]"
    assert reply.reply_to_author_id == pseudonym(GUILD, MEMBER)
    # Their archive rows went; the reply naming them was archived again from the redacted wording.
    assert ArchiveEntry.objects.get(transcript=reply).content == "wrong again, [forgotten member]"
    assert ForgetRequest.objects.get().requested_by_staff == "owner"


def test_other_members_memory_stays(gateway_on_openai_server):
    seed_guild()
    gateway_on_openai_server.queue_reply(json.dumps({"summary": "A pizza argument.", "topics": []}))
    forget_member(guild_id=GUILD, user_id=MEMBER, requested_by=ForgetRequester.MEMBER, embedder=CachingEmbedder())
    remaining = _rows_naming(["u-alice"])
    assert any(table == "memory_dossier" for table, _, _ in remaining)
    assert any(table == "memory_fact" for table, _, _ in remaining)


def test_a_summary_that_cannot_be_regenerated_is_emptied_never_left_with_the_old_words(gateway_on_openai_server):
    seed_guild()
    gateway_on_openai_server.queue_fault(400, message="model refuses")
    forget_member(guild_id=GUILD, user_id=MEMBER, requested_by=ForgetRequester.MEMBER, embedder=CachingEmbedder())
    assert Epoch.objects.get().summary_text == ""
    assert _rows_naming([MEMBER, NAME]) == []


@pytest.mark.parametrize(
    "text",
    [
        "forget me",
        "@dit please forget everything about me",
        "can you delete my data?",
        "erase me from your memory please",
        "Forget all I ever said",
        "stop remembering me",
        "delete everything you know about me",
    ],
)
def test_forget_requests_are_recognised(text):
    assert is_forget_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "don't forget me when you're famous",
        "forget me not is a flower",
        "did you forget me?",
        "forget about the meeting",
        "i forget things",
        "",
        "how do I make you forget my birthday",
    ],
)
def test_talk_about_forgetting_is_not_a_request(text):
    assert not is_forget_request(text)


def _rows_naming_in(app_labels, needles):
    """(table, id, needle) of every row of these apps whose columns hold one of the needles."""
    found = []
    with connection.cursor() as cursor:
        for label in app_labels:
            for model in apps.get_app_config(label).get_models():
                cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608
                for row in cursor.fetchall():
                    blob = json.dumps([str(v) for v in row]).casefold()
                    found += [(model._meta.db_table, row[0], n) for n in needles if n.casefold() in blob]
    return found


def test_forget_me_reaches_what_other_apps_keep_about_the_member(gateway_on_openai_server):
    from dispositions.models import DecisionReception
    from dispositions.specs import Moment
    from dispositions.tests.factories import PersonaDispositionWeightFactory, SubagentRunFactory, make_decision
    from gateway.choices import Purpose
    from gateway.models import ToolInvocation
    from steward.models import MemberThreat

    seed_guild()
    own = Transcript.objects.filter(author_id=MEMBER).first()
    assert own is not None
    persona = PersonaDispositionWeightFactory.create().persona
    hers = make_decision(persona=persona, context=Moment(message_text=own.content), guild_id=GUILD, seed=1)
    hers.inbound_message_id = own.message_id
    hers.save(update_fields=["inbound_message_id"])
    about_her = make_decision(persona=persona, context=Moment(message_text="Carol is wrong on pizza"), guild_id=GUILD)
    SubagentRunFactory.create(decision=hers, input_payload={"message": "anything"}, output_payload={"people": []})
    SubagentRunFactory.create(decision=about_her, output_payload={"people": [{"name": "carol", "notes": "pineapple"}]})
    kept = SubagentRunFactory.create(decision=about_her, output_payload={"angles": ["bob's smoker"]})
    DecisionReception.objects.create(
        decision=hers, kind="reaction", key="r1", message_id="b-1", user_id=MEMBER, at=own.created_at
    )
    MemberThreat.objects.create(guild_id=GUILD, user_id=MEMBER, display_name=NAME, score=0.4, reasons=["flood"])
    ToolInvocation.objects.create(
        guild_id=GUILD, purpose=Purpose.SYNTH_MID, step=0, tool="recall_user", arguments={"user": "Carol"}, ok=True
    )
    others = ("dispositions", "steward", "gateway")
    assert {table for table, _, _ in _rows_naming_in(others, [MEMBER, NAME])} >= {
        "steward_memberthreat",
        "dispositions_decisionreception",
        "gateway_toolinvocation",
    }  # the test can fail: carol is in every app's rows before
    gateway_on_openai_server.queue_reply(json.dumps({"summary": "Someone defended a topping.", "topics": ["pizza"]}))

    log = forget_member(guild_id=GUILD, user_id=MEMBER, requested_by=ForgetRequester.MEMBER, embedder=CachingEmbedder())

    assert _rows_naming_in(others, [MEMBER, NAME]) == []
    hers.refresh_from_db()
    about_her.refresh_from_db()
    kept.refresh_from_db()
    assert hers.router_inputs["context"]["message_text"] == "[redacted]"
    assert about_her.router_inputs["context"]["message_text"] == "[forgotten member] is wrong on pizza"
    assert kept.output_payload == {"angles": ["bob's smoker"]}
    assert DecisionReception.objects.get().user_id == pseudonym(GUILD, MEMBER)
    assert log.deleted["member_threats"] == 1
    assert log.deleted["subagent_runs_redacted"] == 2
    assert log.deleted["receptions_renamed"] == 1
    assert log.deleted["decisions_redacted"] == 2
    assert log.deleted["tool_calls_redacted"] == 1


def test_forget_me_reaches_the_words_follow_ups_keep_and_the_ids_decisions_logged(gateway_on_openai_server):
    from datetime import timedelta

    from django.utils import timezone

    from bots.followups import topic_terms
    from dispositions.specs import Moment
    from dispositions.tests.factories import PersonaDispositionWeightFactory, make_decision
    from reactor.models import Delivery, SelfFollowupSchedule, Trigger

    seed_guild()
    own = Transcript.objects.filter(author_id=MEMBER).first()
    assert own is not None
    persona = PersonaDispositionWeightFactory.create().persona
    present = make_decision(persona=persona, context=Moment(present_users=(MEMBER, "u-bob")), guild_id=GUILD)

    def followup(answered: str, text: str, said: str) -> SelfFollowupSchedule:
        topic = f"{text}\n{said}"
        return SelfFollowupSchedule.objects.create(
            parent_decision_id=present.pk,
            bot_id=1,
            guild_id=GUILD,
            channel_id="c-general",
            bias="go-deeper",
            scheduled_for=timezone.now(),
            seed=1,
            roll=0.1,
            window_min_seconds=10,
            window_max_seconds=20,
            context={
                "answered_message_id": answered,
                "said": [said],
                "topic_text": topic,
                "topic_terms": sorted(topic_terms(topic)),
            },
        )

    hers = followup(own.message_id, own.content, "good point, pineapple has its fans")
    about_her = followup("m-bob", "carol thinks the game was rigged", "carol is brave")
    kept = followup("m-bob-2", "bob smokes brisket on sundays", "low and slow")
    trigger = Trigger.objects.create(kind="bots.self_followup", guild_id=GUILD, due_at=timezone.now())
    Delivery.objects.create(
        trigger=trigger,
        recipient="bot.1",
        kind="turn",
        expires_at=timezone.now() + timedelta(minutes=2),
        payload={"previous": {**hers.context, "decision_id": present.pk}},
    )
    words = [own.content, "carol thinks", MEMBER]
    rows = [hers.context, about_her.context, Delivery.objects.get().payload, present.router_inputs]
    assert all(any(w.casefold() in json.dumps(row).casefold() for w in words) for row in rows)  # the test can fail
    gateway_on_openai_server.queue_reply(json.dumps({"summary": "Someone defended a topping.", "topics": ["pizza"]}))

    log = forget_member(guild_id=GUILD, user_id=MEMBER, requested_by=ForgetRequester.MEMBER, embedder=CachingEmbedder())

    for row in (hers, about_her, kept, present):
        row.refresh_from_db()
    handed = Delivery.objects.get().payload["previous"]
    for data in (hers.context, about_her.context, handed, present.router_inputs):
        blob = json.dumps(data).casefold()
        assert own.content.casefold() not in blob
        assert NAME not in blob
        assert MEMBER not in blob
    assert hers.context["topic_text"] == "[redacted]\ngood point, pineapple has its fans"
    assert handed["topic_text"] == hers.context["topic_text"]
    assert (
        about_her.context["topic_text"] == "[forgotten member] thinks the game was rigged\n[forgotten member] is brave"
    )
    assert about_her.context["topic_terms"] == sorted(topic_terms(about_her.context["topic_text"]))
    assert kept.context["topic_text"] == "bob smokes brisket on sundays\nlow and slow"
    assert present.router_inputs["context"]["present_users"] == [pseudonym(GUILD, MEMBER), "u-bob"]
    assert (log.deleted["followups_redacted"], log.deleted["deliveries_redacted"]) == (2, 1)
    assert log.deleted["decisions_renamed"] >= 1
