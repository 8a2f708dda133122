"""Self-followups: after a turn, maybe come back to it later; when the time comes, decide whether to.

After a turn the host calls `schedule_followup(FinishedTurn(...))`: the disposition's hint is rolled with
the decision's seed (`dispositions.followups.roll_followup`); if it lands, a `SelfFollowupSchedule` row
and a `bots.self_followup` trigger are written, due uniformly within the hint's window. Replies and
reactions to the bot's messages wake the trigger early (its wake keys).

At evaluation (`evaluate_followup`, the trigger's effect in a worker) the rules below are applied in
order; the first that decides wins:

1. A human replied to the bot's message: abort (that conversation is a normal turn now).
2. The bot has taken another turn in the channel since: abort (it has moved on itself).
3. A doubtful reaction to the bot's message (🤔, 👎, ...): transform the follow-up into a self-correction.
4. Woken before its time with nothing decisive: wait for the scheduled time.
5. Evaluated long after it was due (the bot or the reactor was down): abort, the moment has passed.
6. The conversation moved off the topic: downgrade to a callback much later, or abort a callback.
7. Someone is mid-thought in the channel: defer briefly, a few times, then abort.
8. Otherwise fire: hand the bot a turn with trigger self_followup, the bias and the previous turn.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from bots.models import Bot
from bots.scheduled_turns import PreviousTurn, ScheduledTurn, deliver_turn, expiry_for
from bots.turn_settings import FollowupConfig
from dispositions.choices import FollowupBias, TriggerKind
from dispositions.followups import reroll_window, roll_followup
from dispositions.models import DispositionDecision
from dispositions.services import new_seed
from dispositions.specs import FollowupHint
from memory.models import Transcript
from reactor.choices import EventKind, FollowupStatus
from reactor.declare import Outcome, TriggerRun
from reactor.models import ReactorEvent, SelfFollowupSchedule
from reactor.services import schedule

logger = logging.getLogger(__name__)

FOLLOWUP_TRIGGER = "bots.self_followup"
DOUBT_EMOJI = frozenset({"🤔", "👎", "❓", "🧐", "🤨", "❌"})
_WORD = re.compile(r"[\w']+")
# Words too common to say what a conversation is about.
_COMMON_WORDS = (
    "about after again also because been before being could does doing every from have having here into just "
    "like make more most much only other over really said same should some such than that their them then there "
    "these they thing think this those very want well were what when where which while will with would your"
)
_STOPWORDS = frozenset(_COMMON_WORDS.split())


@dataclass(frozen=True, slots=True)
class FinishedTurn:
    """A turn that just ended, as the follow-up scheduler needs it."""

    decision_id: int
    bot_id: int
    guild_id: str
    channel_id: str
    trigger_kind: str
    seed: int
    hint: FollowupHint | None
    bot_message_ids: tuple[str, ...]
    said: tuple[str, ...] = ()
    answered_message_id: str = ""
    answered_text: str = ""


def topic_terms(text: str) -> frozenset[str]:
    """The content words of a text (four letters or more, not a stopword), lower-cased."""
    return frozenset(
        word for word in (w.lower() for w in _WORD.findall(text)) if len(word) >= 4 and word not in _STOPWORDS
    )


def reply_key(message_id: str) -> str:
    """The wake key a reply to `message_id` carries."""
    return f"reply:{message_id}"


def reaction_key(message_id: str) -> str:
    """The wake key a reaction to `message_id` carries."""
    return f"react:{message_id}"


def schedule_followup(
    turn: FinishedTurn, *, config: FollowupConfig | None = None, now: datetime | None = None
) -> SelfFollowupSchedule | None:
    """Roll the turn's follow-up hint; when it lands, schedule the evaluation and return its row."""
    if turn.trigger_kind == TriggerKind.SELF_FOLLOWUP or turn.hint is None or not turn.bot_message_ids:
        # A follow-up never schedules another; a turn that said nothing has nothing to come back to.
        return None
    if config is None:
        bot = Bot.objects.filter(pk=turn.bot_id).first()
        if bot is None:
            return None
        config = FollowupConfig.from_settings(bot.settings)
    if not config.enabled:
        return None
    roll = roll_followup(turn.hint, seed=turn.seed)
    if not roll.lands:
        logger.info("decision %s: follow-up roll %.3f missed %.2f", turn.decision_id, roll.roll, turn.hint.probability)
        return None
    moment = now or timezone.now()
    scheduled_for = moment + timedelta(seconds=roll.delay_seconds)
    topic = "\n".join((turn.answered_text, *turn.said))
    with transaction.atomic():
        followup = SelfFollowupSchedule.objects.create(
            parent_decision_id=turn.decision_id,
            bot_id=turn.bot_id,
            guild_id=turn.guild_id,
            channel_id=turn.channel_id,
            bias=roll.bias,
            scheduled_for=scheduled_for,
            seed=turn.seed,
            roll=roll.roll,
            window_min_seconds=roll.window_min_seconds,
            window_max_seconds=roll.window_max_seconds,
            bot_message_ids=list(turn.bot_message_ids),
            context={
                "answered_message_id": turn.answered_message_id,
                "said": list(turn.said),
                "topic_text": topic[:2000],
                "topic_terms": sorted(topic_terms(topic)),
            },
        )
        _arm(followup, due_at=scheduled_for, parent_trigger_id=None)
        DispositionDecision.objects.filter(pk=turn.decision_id).update(scheduled_followup_id=followup.pk)
    logger.info(
        "decision %s: follow-up %s (%s) scheduled for %s", turn.decision_id, followup.pk, roll.bias, scheduled_for
    )
    return followup


async def aschedule_followup(turn: FinishedTurn) -> SelfFollowupSchedule | None:
    """Async form of `schedule_followup` for the host's event loop."""
    return await sync_to_async(schedule_followup)(turn)


def _arm(followup: SelfFollowupSchedule, *, due_at: datetime, parent_trigger_id: uuid.UUID | None) -> None:
    keys = [key for mid in followup.bot_message_ids for key in (reply_key(mid), reaction_key(mid))]
    trigger_id = schedule(
        FOLLOWUP_TRIGGER,
        due_at=due_at,
        payload={"followup_id": followup.pk},
        dedupe_key=f"{FOLLOWUP_TRIGGER}:{followup.pk}",
        on_conflict="replace",
        guild_id=followup.guild_id,
        channel_id=followup.channel_id,
        wake_keys=keys,
        parent_trigger_id=parent_trigger_id,
    )
    followup.trigger_id = trigger_id
    followup.scheduled_for = due_at
    followup.save(update_fields=["trigger", "scheduled_for", "updated_at"])


# Evaluation ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Said:
    """A message in the channel since the turn."""

    author_id: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class FollowupFacts:
    """What the rules look at: the follow-up, and the channel since its turn."""

    now: datetime
    scheduled_for: datetime
    bias: str
    defers: int
    seed: int
    topic: frozenset[str]
    human_replies: tuple[str, ...] = ()
    doubt_reactions: tuple[str, ...] = ()
    bot_turns_since: int = 0
    human_messages: tuple[Said, ...] = ()
    # When the evaluation was due (its trigger's time: the schedule's, or a deferral's); None: now.
    due_at: datetime | None = None


class Verdict(StrEnum):
    """What an evaluation decides."""

    FIRE = "fire"
    ABORT = "abort"
    DEFER = "defer"
    WAIT = "wait"
    DOWNGRADE = "downgrade"


@dataclass(frozen=True, slots=True)
class Judgement:
    """A verdict, why, and (to wait, defer or downgrade) until when, with the bias it goes on with."""

    verdict: Verdict
    reason: str
    bias: str
    at: datetime | None = None
    rule: str = ""


Rule = Callable[[FollowupFacts, FollowupConfig], "Judgement | FollowupFacts | None"]


def human_replied(facts: FollowupFacts, config: FollowupConfig) -> Judgement | None:
    """A human replied to the bot's message: that is a normal turn now."""
    if facts.human_replies:
        return Judgement(Verdict.ABORT, "a human replied to the bot's message", facts.bias)
    return None


def bot_moved_on(facts: FollowupFacts, config: FollowupConfig) -> Judgement | None:
    """The bot has taken another turn in this channel since: the follow-up would talk over itself."""
    if facts.bot_turns_since:
        return Judgement(Verdict.ABORT, "the bot has taken another turn here since", facts.bias)
    return None


def doubtful_reaction(facts: FollowupFacts, config: FollowupConfig) -> FollowupFacts | None:
    """Someone reacted with doubt to the bot's message: the follow-up becomes a self-correction."""
    if facts.doubt_reactions and facts.bias != FollowupBias.SELF_CORRECT:
        return replace(facts, bias=FollowupBias.SELF_CORRECT)
    return None


def not_yet(facts: FollowupFacts, config: FollowupConfig) -> Judgement | None:
    """Woken early by a reply or reaction that settled nothing: wait for the scheduled time."""
    if facts.now < facts.scheduled_for - timedelta(seconds=1):
        return Judgement(Verdict.WAIT, "woken early; waiting for its time", facts.bias, at=facts.scheduled_for)
    return None


def moment_passed(facts: FollowupFacts, config: FollowupConfig) -> Judgement | None:
    """Evaluated long after it was due (the bot or the reactor was away): the moment has gone.

    "Long" is the time a turn handed to the bot may wait for it (SCHEDULED_TURN_EXPIRY_SECONDS).
    """
    due = facts.due_at or facts.scheduled_for
    late = (facts.now - due).total_seconds()
    if late > config.turn_expiry_seconds:
        return Judgement(Verdict.ABORT, f"evaluated {late:.0f}s after its time; the moment has passed", facts.bias)
    return None


def moved_off_topic(facts: FollowupFacts, config: FollowupConfig) -> Judgement | None:
    """Enough has been said since, and too little of it about the topic: the moment has passed."""
    messages = facts.human_messages
    if not facts.topic or len(messages) < config.off_topic_messages:
        return None
    on_topic = sum(1 for said in messages if topic_terms(said.text) & facts.topic)
    if on_topic / len(messages) >= config.on_topic_share:
        return None
    if facts.bias == FollowupBias.CALLBACK_LATER:
        return Judgement(Verdict.ABORT, "the conversation moved on", facts.bias)
    delay = reroll_window(
        seed=facts.seed, low=config.callback_min_seconds, high=config.callback_max_seconds, salt=0xCA11
    )
    return Judgement(
        Verdict.DOWNGRADE,
        "the conversation moved on; kept as a later callback",
        FollowupBias.CALLBACK_LATER,
        at=facts.now + timedelta(seconds=delay),
    )


def mid_thought(facts: FollowupFacts, config: FollowupConfig) -> Judgement | None:
    """Someone is in the middle of saying something: defer briefly, and give up after a few tries."""
    if not facts.human_messages:
        return None
    last = facts.human_messages[-1].at
    if (facts.now - last).total_seconds() >= config.mid_thought_seconds:
        return None
    if facts.defers >= config.max_defers:
        return Judgement(Verdict.ABORT, "the channel stayed busy", facts.bias)
    return Judgement(
        Verdict.DEFER, "someone is mid-thought", facts.bias, at=facts.now + timedelta(seconds=config.defer_seconds)
    )


RULES: tuple[Rule, ...] = (
    human_replied,
    bot_moved_on,
    doubtful_reaction,
    not_yet,
    moment_passed,
    moved_off_topic,
    mid_thought,
)


def judge_followup(facts: FollowupFacts, config: FollowupConfig, rules: Sequence[Rule] = RULES) -> Judgement:
    """Apply the rules in order: the first judgement wins; a rule may transform the follow-up and go on."""
    for rule in rules:
        found = rule(facts, config)
        if isinstance(found, FollowupFacts):
            facts = found
        elif found is not None:
            return replace(found, rule=rule.__name__)
    return Judgement(Verdict.FIRE, "the moment is still there", facts.bias, rule="fire")


def gather_facts(followup: SelfFollowupSchedule, *, now: datetime, due_at: datetime | None = None) -> FollowupFacts:
    """Read the channel since the follow-up's turn: replies, reactions, the bot's later turns, who spoke."""
    own = set(followup.bot_message_ids)
    since = followup.created_at
    rows = (
        Transcript.objects.filter(channel_id=followup.channel_id, created_at__gt=since, created_at__lte=now)
        .exclude(message_id__in=own)
        .order_by("created_at", "seq")
        .values_list("author_id", "author_is_bot", "content", "created_at", "reply_to_message_id", "message_id")
    )
    humans = [row for row in rows if not row[1]]
    reactions = ReactorEvent.objects.filter(
        kind=EventKind.REACTION_ADDED,
        channel_id=followup.channel_id,
        created_at__gt=since,
        payload__message_id__in=list(own),
    ).values_list("payload", flat=True)
    doubts = tuple(
        str(payload.get("emoji", ""))
        for payload in reactions
        if payload.get("emoji") in DOUBT_EMOJI and not payload.get("user_is_bot")
    )
    later_turns = DispositionDecision.objects.filter(
        bot_id=followup.bot_id,
        channel_id=followup.channel_id,
        created_at__gt=since,
        beat_count__gt=0,
    ).exclude(pk=followup.parent_decision_id)
    return FollowupFacts(
        now=now,
        scheduled_for=followup.scheduled_for,
        bias=followup.bias,
        defers=followup.defers,
        seed=followup.seed,
        topic=frozenset(followup.context.get("topic_terms", ())),
        human_replies=tuple(row[5] for row in humans if row[4] and row[4] in own),
        doubt_reactions=doubts,
        bot_turns_since=later_turns.count(),
        human_messages=tuple(Said(author_id=row[0], text=row[2], at=row[3]) for row in humans),
        due_at=due_at,
    )


def evaluate_followup(run: TriggerRun) -> Outcome:
    """The `bots.self_followup` effect: judge the follow-up now and fire, wait, defer, downgrade or abort."""
    followup = SelfFollowupSchedule.objects.select_for_update().filter(pk=run.payload["followup_id"]).first()
    if followup is None or followup.status != FollowupStatus.SCHEDULED or followup.trigger_id != run.id:
        return Outcome(result={"skipped": "the follow-up is no longer waiting on this trigger"})
    bot = Bot.objects.filter(pk=followup.bot_id).first()
    now = timezone.now()
    if bot is None:
        return _finish(followup, Judgement(Verdict.ABORT, "the bot is gone", followup.bias), now)
    config = FollowupConfig.from_settings(bot.settings)
    facts = gather_facts(followup, now=now, due_at=run.due_at)
    judgement = judge_followup(facts, config)
    followup.evaluations = [
        *followup.evaluations,
        {
            "at": now.isoformat(),
            "verdict": judgement.verdict.value,
            "rule": judgement.rule,
            "reason": judgement.reason,
            "bias": judgement.bias,
            "human_messages": len(facts.human_messages),
            "replies": len(facts.human_replies),
            "doubts": len(facts.doubt_reactions),
        },
    ]
    if judgement.verdict in (Verdict.WAIT, Verdict.DEFER):
        assert judgement.at is not None  # noqa: S101 - both verdicts carry a time
        if judgement.verdict == Verdict.DEFER:
            followup.defers += 1
        followup.bias = judgement.bias
        followup.save(update_fields=["evaluations", "defers", "bias", "updated_at"])
        _arm(followup, due_at=judgement.at, parent_trigger_id=run.id)
        return Outcome(result={"verdict": judgement.verdict.value, "until": judgement.at.isoformat()})
    if judgement.verdict == Verdict.DOWNGRADE:
        assert judgement.at is not None  # noqa: S101 - a downgrade carries its new time
        later = SelfFollowupSchedule.objects.create(
            parent_decision_id=followup.parent_decision_id,
            bot_id=followup.bot_id,
            guild_id=followup.guild_id,
            channel_id=followup.channel_id,
            bias=judgement.bias,
            scheduled_for=judgement.at,
            seed=followup.seed,
            roll=followup.roll,
            window_min_seconds=config.callback_min_seconds,
            window_max_seconds=config.callback_max_seconds,
            bot_message_ids=followup.bot_message_ids,
            context=followup.context,
            downgraded_from=followup,
        )
        _arm(later, due_at=judgement.at, parent_trigger_id=run.id)
        outcome = _finish(followup, judgement, now, status=FollowupStatus.DOWNGRADED)
        return Outcome(result={**outcome.result, "callback_followup_id": later.pk})
    if judgement.verdict == Verdict.ABORT:
        return _finish(followup, judgement, now)
    turn = ScheduledTurn(
        trigger_id=run.id,
        bot_id=followup.bot_id,
        guild_id=followup.guild_id,
        channel_id=followup.channel_id,
        trigger_kind=TriggerKind.SELF_FOLLOWUP,
        # The follow-up's own routing gets a fresh seed, logged on the delivery and the decision it makes.
        seed=new_seed(),
        expires_at=expiry_for(config.turn_expiry_seconds, now),
        bias=judgement.bias,
        parent_decision_id=followup.parent_decision_id,
        followup_id=followup.pk,
        previous=PreviousTurn(
            decision_id=followup.parent_decision_id,
            answered_message_id=str(followup.context.get("answered_message_id", "")),
            bot_message_ids=tuple(followup.bot_message_ids),
            said=tuple(followup.context.get("said", ())),
            topic_text=str(followup.context.get("topic_text", "")),
        ),
    )
    deliver_turn(turn)
    followup.bias = judgement.bias
    return _finish(followup, judgement, now, status=FollowupStatus.FIRED)


def _finish(
    followup: SelfFollowupSchedule, judgement: Judgement, now: datetime, *, status: str = FollowupStatus.ABORTED
) -> Outcome:
    followup.status = status
    if status in (FollowupStatus.ABORTED, FollowupStatus.DOWNGRADED):
        followup.abort_reason = judgement.reason[:200]
    followup.save(update_fields=["status", "abort_reason", "evaluations", "bias", "updated_at"])
    logger.info("follow-up %s: %s (%s)", followup.pk, judgement.verdict, judgement.reason)
    return Outcome(result={"verdict": judgement.verdict.value, "reason": judgement.reason, "rule": judgement.rule})
