"""Which research personas exist, and which of them a disposition fires.

A disposition's fan-out plan names its personas. A disposition without one gets a rule from its search
posture and voice: no research when it searches for nothing (`none`); otherwise the posture picks who
reads memory (callback or setup/payoff hunting: the memory-archeologist; person-deep: the
participant-profiler; broad scan: the topic-researcher; contradiction hunting: the topic-researcher and the
contrarian), the comedian joins only for humorous voices (playful, deadpan) and the contrarian only for
sharp or contrarian ones. The plan, when there is one, is taken as written: the shipped roast-back plans
the comedian beside its sharp voice, which is what a roast is.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dispositions.choices import ResearchPersona, SearchPosture, Voice
from dispositions.research import comedian, contrarian, memory_archeologist, participant_profiler, topic_researcher
from dispositions.research.types import ResearchPersonaDef
from dispositions.specs import DispositionSpec

PERSONAS: Mapping[str, ResearchPersonaDef] = MappingProxyType(
    {
        module.PERSONA.name: module.PERSONA
        for module in (memory_archeologist, participant_profiler, topic_researcher, comedian, contrarian)
    }
)

HUMOROUS_VOICES = frozenset({Voice.PLAYFUL, Voice.DEADPAN})
SHARP_VOICES = frozenset({Voice.SHARP, Voice.CONTRARIAN})
_BY_POSTURE: Mapping[str, tuple[str, ...]] = {
    SearchPosture.NONE: (),
    SearchPosture.CALLBACK_HUNT: (ResearchPersona.MEMORY_ARCHEOLOGIST,),
    SearchPosture.SETUP_PAYOFF: (ResearchPersona.MEMORY_ARCHEOLOGIST,),
    SearchPosture.PERSON_DEEP: (ResearchPersona.PARTICIPANT_PROFILER,),
    SearchPosture.BROAD_SCAN: (ResearchPersona.TOPIC_RESEARCHER,),
    SearchPosture.CONTRADICTION_HUNT: (ResearchPersona.TOPIC_RESEARCHER, ResearchPersona.CONTRARIAN),
}


def personas_for(disposition: DispositionSpec) -> tuple[str, ...]:
    """The personas a disposition fires, in a stable order: its plan, else the rule of posture and voice."""
    if disposition.fanout_plan:
        chosen = list(disposition.fanout_plan)
    else:
        chosen = list(_BY_POSTURE.get(disposition.search_posture, ()))
        if chosen and disposition.voice in HUMOROUS_VOICES:
            chosen.append(ResearchPersona.COMEDIAN)
        if chosen and disposition.voice in SHARP_VOICES:
            chosen.append(ResearchPersona.CONTRARIAN)
    order = list(ResearchPersona.values)
    return tuple(sorted({str(name) for name in chosen if name in PERSONAS}, key=order.index))
