"""The labelled group-chat situations, one module per point of the issue.

The bot is called Sol (its Discord user is "sol") and speaks as the shipped persona Dit (wake word "dit"); alice,
bob and carol are in the guild, with #general and #random. Each description names the rule the situation pins:
remove that rule from the host and the situation fails.
"""

from __future__ import annotations

from bots.host.tests.situations.catalog.addressing import ADDRESSING
from bots.host.tests.situations.catalog.ambient import AMBIENT
from bots.host.tests.situations.catalog.boundary import BOUNDARY
from bots.host.tests.situations.catalog.exactly_once import EXACTLY_ONCE
from bots.host.tests.situations.catalog.fragments import FRAGMENTS
from bots.host.tests.situations.catalog.late_addressing import LATE
from bots.host.tests.situations.catalog.other_bots import OTHER_BOTS
from bots.host.tests.situations.catalog.quiet import QUIET
from bots.host.tests.situations.catalog.who_said_what import WHO_SAID_WHAT
from bots.host.tests.situations.model import Situation, validate_catalog

__all__ = ["CATALOG", "COUNTS"]

CATALOG: list[Situation] = [
    *ADDRESSING,
    *AMBIENT,
    *FRAGMENTS,
    *LATE,
    *OTHER_BOTS,
    *QUIET,
    *WHO_SAID_WHAT,
    *BOUNDARY,
    *EXACTLY_ONCE,
]
COUNTS = validate_catalog(CATALOG)
