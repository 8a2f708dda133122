"""The rules every run keeps, whatever the situation: checked on everything the run produced, setup included.

- no visible silence: no message of ours only performs silence ("(staying silent)", "*silence*", "[no response]",
  "I'll stay quiet", dots) or is blank;
- no DM leak: a marker said in a DM never appears in a guild channel, in a model call made for a guild turn, or in
  a model call made for someone else's DM;
- no double reply: one reactive turn per inbound message, at most one message per non-burst turn, every message of
  ours accounted for by exactly one sent beat, no message answered twice, at most one reaction of ours per message;
- no bot loop: never more consecutive replies to bots in a channel (no human in between) than BOT_REPLY_CHAIN_MAX,
  and never one of our instances answering another.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bots.host.tests.situations.model import MUTE_ACK, RunRecord

SILENCE_TEXT = re.compile(
    r"""^[\s*_()\[\]<>{}~`'"]*(?:
        \(?\s*(?:staying|stays|stay|remaining|remains|keeping)\s+(?:silent|quiet)\s*\)?
      | (?:i'?ll|i\s+will|i\s+am|i'm)\s+(?:stay|staying|remain|keep)\s+(?:silent|quiet)
      | silence | silent | no\s+response | no\s+reply | says\s+nothing | nothing\s+to\s+say
      | [.\u2026\s]+
    )[\s*_()\[\]<>{}~`'".!]*$""",
    re.IGNORECASE | re.VERBOSE,
)
NON_BURST_SHAPES = frozenset({"single-line", "multi-line", "react-only"})


@dataclass(frozen=True, slots=True)
class Broken:
    """One broken invariant in one run."""

    invariant: str
    situation: str
    seed: int
    detail: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.situation} (seed {self.seed}): {self.detail}"


def check_invariants(run: RunRecord) -> list[Broken]:
    """Every invariant broken in the run (none, when the bot behaved)."""
    found: list[Broken] = []
    for name, details in (
        ("no visible silence text", _silence_as_text(run)),
        ("no DM leak", _dm_leaks(run)),
        ("no double reply", _double_replies(run)),
        ("no bot loop past the cap", _bot_loops(run)),
    ):
        found.extend(Broken(name, run.situation, run.seed, detail) for detail in details)
    return found


def is_visible_silence(text: str) -> bool:
    """Whether a sent message only performs silence, or is blank."""
    return not text.strip() or bool(SILENCE_TEXT.match(text.strip()))


def _silence_as_text(run: RunRecord) -> list[str]:
    return [f"sent {m.content!r} in {m.channel}" for m in run.ours(in_script=False) if is_visible_silence(m.content)]


def _dm_leaks(run: RunRecord) -> list[str]:
    leaks: list[str] = []
    guild_messages = [m for m in run.messages if not m.channel.startswith("dm:")]
    for secret, author in run.dm_secrets.items():
        owner = run.users.get(author, "")
        for message in guild_messages:
            if secret in message.content:
                leaks.append(f"{author}'s DM marker {secret} was posted in #{message.channel}")
        for call in run.model_calls:
            if call.kind != "synth" or secret not in call.text:
                continue
            if not call.is_dm:
                leaks.append(f"{author}'s DM marker {secret} reached a guild turn's prompt")
            elif call.answering_id and call.answering_id != owner:
                leaks.append(f"{author}'s DM marker {secret} reached the DM turn of user {call.answering_id}")
    return leaks


def _double_replies(run: RunRecord) -> list[str]:
    problems: list[str] = []
    per_inbound = Counter(
        (d.bot_id, d.inbound_message_id) for d in run.decisions if d.trigger == "reactive" and d.inbound_message_id
    )
    problems.extend(f"message {m} got {n} turns" for (_, m), n in per_inbound.items() if n > 1)
    sent_ids: Counter[str] = Counter()
    messages_per_decision: Counter[int] = Counter()
    for beat in run.beats:
        if beat.kind == "message" and beat.status == "sent":
            sent_ids.update(beat.message_ids)
            messages_per_decision[beat.decision_id] += 1
    shapes = {d.id: d.output_shape for d in run.decisions}
    problems.extend(
        f"turn {decision} ({shapes.get(decision)}) sent {count} messages"
        for decision, count in messages_per_decision.items()
        if shapes.get(decision) in NON_BURST_SHAPES and count > 1
    )
    for message in run.ours(in_script=False):
        if sent_ids[message.id] != 1:
            problems.append(f"bot message {message.content!r} is accounted for by {sent_ids[message.id]} sent beats")
    replies = Counter((m.author_id, m.reply_to) for m in run.ours(in_script=False) if m.reply_to)
    problems.extend(f"message {target} was answered {n} times" for (_, target), n in replies.items() if n > 1)
    ours = {run.bot_user_id, run.twin_user_id} - {""}
    reactions = Counter((r.user_id, r.message_id) for r in run.reactions if r.user_id in ours and r.emoji != MUTE_ACK)
    problems.extend(f"message {m} got {n} reactions from one bot" for (_, m), n in reactions.items() if n > 1)
    return problems


def _bot_loops(run: RunRecord) -> list[str]:
    problems: list[str] = []
    by_id = {m.id: m for m in run.messages}
    turn_of: dict[str, int] = {}
    for beat in run.beats:
        for message_id in beat.message_ids:
            turn_of[message_id] = beat.decision_id
    answered = {d.id: by_id.get(d.inbound_message_id) for d in run.decisions}
    ours = {run.bot_user_id, run.twin_user_id} - {""}
    for decision in run.decisions:
        inbound = answered[decision.id]
        if inbound is not None and inbound.author_id in ours and decision.end in ("spoke", "reacted"):
            problems.append(f"one of our instances answered the other ({inbound.content!r})")
    chains: dict[str, int] = {}
    counted: set[int] = set()
    for message in run.messages:
        if not message.is_bot:
            chains[message.channel] = 0
            continue
        turn_id = turn_of.get(message.id)
        if not (message.ours or message.twin) or turn_id is None or turn_id in counted:
            continue
        answering = answered.get(turn_id)
        if answering is None or not answering.is_bot:
            continue
        counted.add(turn_id)
        chains[message.channel] = chains.get(message.channel, 0) + 1
        if chains[message.channel] == run.chain_max + 1:
            problems.append(f"{chains[message.channel]} replies to bots in a row in #{message.channel}")
    return problems
