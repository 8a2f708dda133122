"""Reception: the watcher armed by the bot's own message records reactions, replies, quotes and silence against
the decision that sent it (the trigger run here as a worker runs it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bots.host.choices import BeatStatus
from bots.host.models import OutboundBeat
from bots.reception import WATCH_TRIGGER, quote_of
from dispositions.choices import ReceptionKind
from dispositions.models import DecisionReception, DispositionDecision, Persona
from dispositions.tests.factories import make_decision
from memory.ingest import ingest_message
from memory.reactions import ReactionChange, record_reaction
from memory.tests.factories import GENERAL, GUILD, IngestMessageFactory
from reactor.choices import TriggerStatus
from reactor.models import Trigger
from reactor.tests.running import run_inline, waiting

pytestmark = pytest.mark.django_db

BOT_USER = "u-dit"
SAID = "rust is fine, mostly, if you like the borrow checker"


@pytest.fixture
def decision() -> DispositionDecision:
    call_command("loaddata", "default_persona", verbosity=0)
    return make_decision(persona=Persona.objects.get(name="Dit"), channel_id=GENERAL, guild_id=GUILD)


def bot_spoke(decision: DispositionDecision, message_id: str = "m-bot", *, ago: timedelta = timedelta(0)) -> None:
    """The turn's beat was sent as `message_id`, and the bot's message came back and was stored."""
    posted = timezone.now() - ago
    OutboundBeat.objects.create(
        decision=decision,
        index=0,
        text=SAID,
        status=BeatStatus.SENT,
        platform="discord",
        channel_id=GENERAL,
        platform_message_ids=[message_id],
        sent_at=posted,
    )
    ingest_message(
        IngestMessageFactory.build(
            message_id=message_id, author_id=BOT_USER, author_is_bot=True, content=SAID, created_at=posted
        )
    )


def run_watcher(message_id: str = "m-bot") -> None:
    run_inline(waiting(WATCH_TRIGGER, dedupe_key=f"{WATCH_TRIGGER}:discord:{message_id}").pk)


def receptions(decision: DispositionDecision) -> list[tuple[str, str, str]]:
    rows = DecisionReception.objects.filter(decision=decision).order_by("at", "id")
    return [(r.kind, r.user_id, r.by_message_id) for r in rows]


def test_only_the_bots_own_message_arms_a_watcher():
    ingest_message(IngestMessageFactory.build(message_id="m-human"))
    ingest_message(IngestMessageFactory.build(message_id="m-bot", author_id=BOT_USER, author_is_bot=True))

    assert list(Trigger.objects.filter(kind=WATCH_TRIGGER).values_list("dedupe_key", flat=True)) == [
        f"{WATCH_TRIGGER}:discord:m-bot"
    ]


def test_a_reply_and_a_reaction_wake_the_watcher_and_are_recorded_once(decision, settings):
    bot_spoke(decision)
    run_watcher()  # finds the decision, then waits for its window
    waiting_row = waiting(WATCH_TRIGGER)
    assert waiting_row.due_at is not None
    assert waiting_row.due_at > timezone.now() + timedelta(seconds=60)

    ingest_message(IngestMessageFactory.build(message_id="m-reply", author_id="u-bob", reply_to_message_id="m-bot"))
    waiting_row.refresh_from_db()
    assert waiting_row.due_at is not None
    assert waiting_row.due_at <= timezone.now()
    run_inline(waiting_row.pk)
    record_reaction(
        ReactionChange(
            platform="discord",
            message_id="m-bot",
            guild_id=GUILD,
            channel_id=GENERAL,
            is_dm=False,
            user_id="u-jen",
            user_is_bot=False,
            emoji="🔥",
            added=True,
        )
    )
    woken = waiting(WATCH_TRIGGER)
    assert woken.due_at is not None
    assert woken.due_at <= timezone.now()
    run_inline(woken.pk)

    # Each once, though the watcher looked three times.
    assert sorted(receptions(decision)) == [
        (ReceptionKind.REACTION, "u-jen", ""),
        (ReceptionKind.REPLY, "u-bob", "m-reply"),
    ]
    assert DecisionReception.objects.get(kind=ReceptionKind.REACTION).detail == {"emoji": "🔥"}


def test_silence_is_recorded_when_the_window_closes_with_nothing(decision, settings):
    settings.DIT_RECEPTION_WINDOW_SECONDS = 60
    bot_spoke(decision, ago=timedelta(seconds=120))
    # A human message that neither replies to nor quotes the bot is not reception.
    ingest_message(IngestMessageFactory.build(author_id="u-bob", content="anyway, lunch?"))

    run_watcher()

    (silence,) = DecisionReception.objects.filter(decision=decision)
    assert silence.kind == ReceptionKind.SILENCE
    assert silence.detail == {"window_seconds": 60.0}
    assert not Trigger.objects.filter(kind=WATCH_TRIGGER, status=TriggerStatus.PENDING).exists()


def test_a_reply_within_the_window_means_no_silence(decision, settings):
    settings.DIT_RECEPTION_WINDOW_SECONDS = 60
    bot_spoke(decision, ago=timedelta(seconds=120))
    ingest_message(
        IngestMessageFactory.build(
            author_id="u-bob", reply_to_message_id="m-bot", created_at=timezone.now() - timedelta(seconds=100)
        )
    )

    run_watcher()

    assert receptions(decision) == [(ReceptionKind.REPLY, "u-bob", DecisionReception.objects.get().by_message_id)]


def test_a_later_quote_of_the_bots_words_is_recorded_and_is_not_silence(decision, settings):
    settings.DIT_RECEPTION_WINDOW_SECONDS = 60
    bot_spoke(decision, ago=timedelta(seconds=90))
    ingest_message(
        IngestMessageFactory.build(
            message_id="m-quote",
            author_id="u-jen",
            content="> if you like the borrow checker\nnobody likes the borrow checker",
            created_at=timezone.now() - timedelta(seconds=60),
        )
    )

    run_watcher()

    assert receptions(decision) == [(ReceptionKind.QUOTE, "u-jen", "m-quote")]
    assert DecisionReception.objects.get().detail == {"how": "words"}


def test_a_message_that_no_turn_sent_records_nothing_and_gives_up():
    ingest_message(IngestMessageFactory.build(message_id="m-other-bot", author_id="u-other", author_is_bot=True))

    for _ in range(20):
        pending = Trigger.objects.filter(kind=WATCH_TRIGGER, status=TriggerStatus.PENDING).first()
        if pending is None:
            break
        run_inline(pending.pk)

    assert not DecisionReception.objects.exists()
    last = Trigger.objects.filter(kind=WATCH_TRIGGER).order_by("-created_at").first()
    assert last is not None
    assert last.result == {"reception": "no turn sent this message"}


def test_a_quote_is_a_link_to_the_message_or_a_quoted_line_of_its_words():
    link = "https://discord.com/channels/1/2/345 lol"
    assert quote_of(link, message_id="345", said=SAID) == "link"
    assert quote_of("> rust is fine, mostly", message_id="345", said=SAID) == "words"
    assert quote_of("> ok", message_id="345", said=SAID) == ""
    assert quote_of("rust is fine, mostly", message_id="345", said=SAID) == ""
    assert quote_of("> something else entirely", message_id="345", said=SAID) == ""
