"""The labelled group-chat situations, one module per point of the issue.

The bot is called Sol (its Discord user is "sol") and speaks as the shipped persona Dit (wake word "dit"); alice,
bob and carol are in the guild, with #general and #random. Each description names the rule the situation pins:
remove that rule from the host and the situation fails.

Two parts: the tuning part (the modules here) and the held-back part (`held_back/`), kept aside as a check that
nothing is tuned on. The catalog marks the held-back situations `held_back=True`; only the report reads it.
"""

from __future__ import annotations

from dataclasses import replace

from bots.host.tests.situations.catalog.addressing import ADDRESSING
from bots.host.tests.situations.catalog.ambient import AMBIENT
from bots.host.tests.situations.catalog.ambient_budget import AMBIENT_BUDGET
from bots.host.tests.situations.catalog.announcements import ANNOUNCEMENTS
from bots.host.tests.situations.catalog.answered_fragments import ANSWERED_FRAGMENTS
from bots.host.tests.situations.catalog.arguments import ARGUMENTS
from bots.host.tests.situations.catalog.boundary import BOUNDARY
from bots.host.tests.situations.catalog.celebrations import CELEBRATIONS
from bots.host.tests.situations.catalog.exactly_once import EXACTLY_ONCE
from bots.host.tests.situations.catalog.fragments import FRAGMENTS
from bots.host.tests.situations.catalog.held_back import HELD_BACK
from bots.host.tests.situations.catalog.late_addressing import LATE
from bots.host.tests.situations.catalog.late_pings import LATE_PINGS
from bots.host.tests.situations.catalog.mute_wording import MUTE_WORDING
from bots.host.tests.situations.catalog.newcomers import NEWCOMERS
from bots.host.tests.situations.catalog.other_bots import OTHER_BOTS
from bots.host.tests.situations.catalog.questions import QUESTIONS
from bots.host.tests.situations.catalog.quiet import QUIET
from bots.host.tests.situations.catalog.register import REGISTER
from bots.host.tests.situations.catalog.shape import SHAPE
from bots.host.tests.situations.catalog.sleep_and_threat import SLEEP_AND_THREAT
from bots.host.tests.situations.catalog.unprompted import UNPROMPTED
from bots.host.tests.situations.catalog.who_said_what import WHO_SAID_WHAT
from bots.host.tests.situations.model import Situation, validate_catalog

__all__ = ["CATALOG", "COUNTS", "HELD_BACK_PART", "TUNING_PART"]

TUNING_PART: list[Situation] = [
    *ADDRESSING,
    *AMBIENT,
    *FRAGMENTS,
    *LATE,
    *OTHER_BOTS,
    *QUIET,
    *WHO_SAID_WHAT,
    *BOUNDARY,
    *EXACTLY_ONCE,
    *QUESTIONS,
    *ANNOUNCEMENTS,
    *CELEBRATIONS,
    *LATE_PINGS,
    *ANSWERED_FRAGMENTS,
    *NEWCOMERS,
    *ARGUMENTS,
    *UNPROMPTED,
    *SHAPE,
    *AMBIENT_BUDGET,
    *MUTE_WORDING,
    *REGISTER,
    *SLEEP_AND_THREAT,
]
HELD_BACK_PART: list[Situation] = [replace(situation, held_back=True) for situation in HELD_BACK]
CATALOG: list[Situation] = [*TUNING_PART, *HELD_BACK_PART]
COUNTS = validate_catalog(CATALOG)
