"""The self-followup roll: does a finished turn's hint land, and when would the follow-up be weighed.

Pure: the decision's seed drives one `random.Random`, so the roll replays exactly from the decision row.
The salt keeps it apart from the router's own use of the same seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dispositions.specs import FollowupHint

_SALT = 0x5E1F_F011


@dataclass(frozen=True, slots=True)
class FollowupRoll:
    """One roll of a hint: the draw, whether it landed under the probability, and the delay it picked."""

    bias: str
    roll: float
    lands: bool
    delay_seconds: float
    window_min_seconds: int
    window_max_seconds: int


def roll_followup(hint: FollowupHint, *, seed: int) -> FollowupRoll:
    """Roll `hint` with a decision's seed: lands when the draw is under the probability; delay uniform in the window."""
    rng = random.Random(seed ^ _SALT)  # noqa: S311 - reproducible behaviour, not security
    draw = rng.random()
    delay = rng.uniform(hint.window_min_seconds, hint.window_max_seconds)
    return FollowupRoll(
        bias=hint.bias,
        roll=draw,
        lands=draw < hint.probability,
        delay_seconds=delay,
        window_min_seconds=hint.window_min_seconds,
        window_max_seconds=hint.window_max_seconds,
    )


def reroll_window(*, seed: int, low: int, high: int, salt: int) -> float:
    """A seeded delay uniform in [low, high] for a later step of the same follow-up (a downgrade, a deferral)."""
    return random.Random(seed ^ _SALT ^ salt).uniform(low, high)  # noqa: S311 - reproducible, not security
