"""Builders for tests of reactor-started turns: a bot, a decision of its, a follow-up after it."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from bots.followups import FinishedTurn, schedule_followup
from bots.models import Bot
from bots.tests.factories import BotFactory
from bots.turn_settings import FollowupConfig
from dispositions.models import DispositionDecision
from dispositions.specs import FollowupHint
from dispositions.tests.factories import (
    DispositionFactory,
    PersonaDispositionWeightFactory,
    PersonaFactory,
    make_decision,
)
from memory.models import Transcript
from memory.tests.factories import TranscriptFactory
from reactor.models import SelfFollowupSchedule

_seeds = itertools.count(1000)
GUILD = "g-100"
CHANNEL = "c-general"
# Lands for any seed, and is due at once.
SURE_HINT = FollowupHint(probability=1.0, bias="go-deeper", window_min_seconds=0, window_max_seconds=0)


def decision_of(bot: Bot, *, channel_id: str = CHANNEL, beats: int = 1, seed: int | None = None) -> DispositionDecision:
    """A decision of `bot` in a channel that sent `beats` beats (each answering a message of its own)."""
    seed = next(_seeds) if seed is None else seed
    persona = PersonaFactory.create()
    PersonaDispositionWeightFactory.create(persona=persona, disposition=DispositionFactory.create())
    decision = make_decision(persona=persona, channel_id=channel_id, guild_id=GUILD, seed=seed)
    DispositionDecision.objects.filter(pk=decision.pk).update(bot_id=bot.pk, beat_count=beats)
    decision.refresh_from_db()
    return decision


def bot_said(message_id: str, text: str, *, channel_id: str = CHANNEL) -> Transcript:
    """The bot's own message, as its echo is ingested."""
    return TranscriptFactory.create(
        message_id=message_id,
        content=text,
        channel_id=channel_id,
        guild_id=GUILD,
        author_id="u-bot",
        author_is_bot=True,
    )


def human_said(text: str, *, reply_to: str = "", seconds_ago: float = 0, channel_id: str = CHANNEL) -> Transcript:
    """A member's message in the channel."""
    return TranscriptFactory.create(
        content=text,
        channel_id=channel_id,
        guild_id=GUILD,
        reply_to_message_id=reply_to,
        created_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


def followup_after(
    bot: Bot | None = None,
    *,
    hint: FollowupHint = SURE_HINT,
    said: str = "pizza ovens are all about heat",
    answered: str = "which pizza oven should I get?",
    config: FollowupConfig | None = None,
) -> SelfFollowupSchedule:
    """A bot's turn (decision and message m-bot-1), then its follow-up scheduled as the host would."""
    bot = bot or BotFactory.create()
    decision = decision_of(bot)
    bot_said("m-bot-1", said)
    followup = schedule_followup(
        FinishedTurn(
            decision_id=decision.pk,
            bot_id=bot.pk,
            guild_id=GUILD,
            channel_id=CHANNEL,
            trigger_kind="reactive",
            seed=decision.stochasticity_seed,
            hint=hint,
            bot_message_ids=("m-bot-1",),
            said=(said,),
            answered_message_id="m-asked",
            answered_text=answered,
        ),
        config=config,
    )
    assert followup is not None
    return followup
