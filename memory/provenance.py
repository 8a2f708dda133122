"""Provenance: where a piece of memory came from; the privacy boundary decides on this alone."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a piece of context came from: the boundary decides on this alone.

    `is_dm` is true when the material is drawn, wholly or partly, from direct messages; `subject_user_ids`
    are the people the material is by or about.
    """

    guild_id: str
    channel_id: str
    is_dm: bool
    subject_user_ids: frozenset[str]
