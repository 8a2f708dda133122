"""The vocabulary situations are written in: steps of a script, the expectation, checks, and what a run saw.

A situation is data: who says what, where and when (`steps`), the bot's settings and persona weights, whether the
bot must speak, must stay silent or may do either once the judged part of the script starts, and checks that pin
the rule the situation is about. Text may hold placeholders the driver fills in for each run:

    {bot}          a mention of the bot (`<@id>`)          {twin}        a mention of the second instance of our bot
    {user:bob}     a mention of bob                         {role:sol}    a ping of the role named "sol"
    {secret}       a marker unique to this message (said in a DM, it must never leave that DM)

Channels are named: "general", "random", a thread the bot started (by its name), or "dm" (the author's DM with
the bot). Checks name messages by the `label` of the step that posted them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

MUTE_ACK = "🤐"


class Category(enum.StrEnum):
    """What a situation is about: the group-chat issue's nine points, then the judgement issue's thirteen classes."""

    ADDRESSING = "addressing"
    AMBIENT = "ambient"
    FRAGMENTS = "fragments"
    LATE_ADDRESSING = "late-addressing"
    OTHER_BOTS = "other-bots"
    QUIET = "quiet"
    WHO_SAID_WHAT = "who-said-what"
    BOUNDARY = "boundary"
    EXACTLY_ONCE = "exactly-once"
    # Judgement in a group chat: when to speak, in what shape, and to whom.
    QUESTIONS = "questions-between-people"
    ANNOUNCEMENTS = "announcements"
    CELEBRATIONS = "celebrations"
    LATE_PINGS = "late-pings"
    ANSWERED_FRAGMENTS = "answered-fragments"
    NEWCOMERS = "newcomers"
    ARGUMENTS = "arguments"
    UNPROMPTED = "unprompted"
    SHAPE = "shape"
    AMBIENT_BUDGET = "ambient-budget"
    MUTE_WORDING = "mute-wording"
    REGISTER = "register"
    SLEEP_AND_THREAT = "sleep-and-threat"


# The judgement issue's thirteen classes, in its order: each has situations in both parts of the suite.
JUDGEMENT_CLASSES = (
    Category.QUESTIONS,
    Category.ANNOUNCEMENTS,
    Category.CELEBRATIONS,
    Category.LATE_PINGS,
    Category.ANSWERED_FRAGMENTS,
    Category.NEWCOMERS,
    Category.ARGUMENTS,
    Category.UNPROMPTED,
    Category.SHAPE,
    Category.AMBIENT_BUDGET,
    Category.MUTE_WORDING,
    Category.REGISTER,
    Category.SLEEP_AND_THREAT,
)


class Expect(enum.StrEnum):
    """Whether the bot must produce visible output once the judged script starts.

    NO_WORDS: a reaction is fine, a message is not; scored as staying silent, with "spoke" meaning "said words".
    """

    MUST_SPEAK = "must_speak"
    MUST_STAY_SILENT = "must_stay_silent"
    NO_WORDS = "no_words"
    MAY_EITHER = "may_either"


# Steps.


@dataclass(frozen=True, slots=True)
class Say:
    """`author` posts `text` in `channel`, optionally as a platform reply to a labelled message (or "bot": the
    bot's latest message there)."""

    author: str
    text: str
    channel: str = "general"
    reply_to: str | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class Earlier:
    """`author` said `text` in `channel` `minutes_ago` minutes before the run: memory holds it, the platform has moved
    on (no event reaches the bot). "sol" is the bot itself; `reply_to` names an earlier labelled message."""

    author: str
    text: str
    minutes_ago: float
    channel: str = "general"
    reply_to: str | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class Regular:
    """`author` has been around: `messages` messages of theirs in memory, spread over the last `days` days."""

    author: str
    messages: int = 30
    days: float = 30.0
    channel: str = "random"


@dataclass(frozen=True, slots=True)
class Typing:
    """`author` starts typing in `channel`."""

    author: str
    channel: str = "general"


@dataclass(frozen=True, slots=True)
class Pause:
    """The people in the script stay quiet for a moment (part of the script, never an assertion)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Settle:
    """Wait until everything said so far reached the bot and every turn it started has ended."""


@dataclass(frozen=True, slots=True)
class Edit:
    """The author of a labelled message edits it."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class BotStartsThread:
    """The bot opens a thread called `name` in `channel` (as a steward skill would)."""

    name: str
    channel: str = "general"


@dataclass(frozen=True, slots=True)
class Unprompted:
    """The reactor asks the bot for a turn nobody prompted (speculative or self-followup) in `channel`."""

    channel: str = "general"
    trigger: str = "speculative"


@dataclass(frozen=True, slots=True)
class DropConnection:
    """The gateway connection drops; the client resumes (replaying `replay_overlap` events it had) or, with
    `resume=False`, identifies afresh."""

    resume: bool = True
    replay_overlap: int = 0


@dataclass(frozen=True, slots=True)
class GatewayReconnect:
    """The gateway sends op 7 RECONNECT: the client closes and resumes."""


@dataclass(frozen=True, slots=True)
class WhileAway:
    """The session is invalidated (op 9) and `steps` are posted before the client is back: it only learns of
    them through history."""

    steps: tuple[Say, ...]
    resumable: bool = False


@dataclass(frozen=True, slots=True)
class Restart:
    """The bot process stops (drains) and starts again; `while_down` is posted while it is gone."""

    while_down: tuple[Say, ...] = ()


@dataclass(frozen=True, slots=True)
class WhileGenerating:
    """`trigger` starts a turn; while the model is still writing the answer, `meanwhile` happens."""

    trigger: Say
    meanwhile: tuple[Say | Typing, ...]


@dataclass(frozen=True, slots=True)
class BotLoop:
    """The foreign bot `bot` answers every new message of ours in `channel` (mentioning us), up to `rounds`."""

    bot: str
    rounds: int
    channel: str = "general"


@dataclass(frozen=True, slots=True)
class SendFault:
    """The platform answers the bot's next `count` sends with `status` (after creating the message when
    `after_commit`: the response is lost on the way back)."""

    status: int
    count: int = 1
    after_commit: bool = False


Step = (
    Say
    | Earlier
    | Regular
    | Typing
    | Pause
    | Settle
    | Edit
    | BotStartsThread
    | Unprompted
    | DropConnection
    | GatewayReconnect
    | WhileAway
    | Restart
    | WhileGenerating
    | BotLoop
    | SendFault
)


# What a run saw.


@dataclass(frozen=True, slots=True)
class SeenMessage:
    """A message on the local Discord after the run."""

    id: str
    channel: str
    author: str
    author_id: str
    is_bot: bool
    content: str
    reply_to: str | None
    ours: bool
    twin: bool
    in_script: bool


@dataclass(frozen=True, slots=True)
class SeenReaction:
    """A reaction on the local Discord after the run."""

    channel: str
    message_id: str
    user_id: str
    emoji: str
    in_script: bool


@dataclass(frozen=True, slots=True)
class SeenDecision:
    """A decision the host recorded (our bot or the twin)."""

    id: int
    bot_id: int
    inbound_message_id: str
    trigger: str
    chosen_slug: str
    output_shape: str
    seed: int
    end: str
    fragments: tuple[str, ...]
    addressed: bool
    address_kind: str
    late_address_of: str
    recheck: str
    in_script: bool
    risk: str = ""
    voice: str = ""
    moment: Mapping[str, object] = field(default_factory=dict)
    # The chance the router gave the chosen disposition (from the decision's candidate scores).
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class SeenBeat:
    """An outbound beat row of a decision."""

    decision_id: int
    index: int
    kind: str
    status: str
    message_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelCall:
    """One chat completion the local model server answered, read back as the kind of call it was."""

    kind: str  # "synth", "classifier" (mute), "register" or "other"
    system: str
    user: str
    is_dm: bool
    answering_id: str
    in_script: bool

    @property
    def text(self) -> str:
        """Everything the model saw."""
        return f"{self.system}\n{self.user}"


@dataclass
class RunRecord:
    """Everything one run of a situation produced, for checks, invariants and the report."""

    situation: str
    category: Category
    seed: int
    expect: Expect
    judged_channel: str = ""
    held_back: bool = False
    bot_user_id: str = ""
    twin_user_id: str = ""
    bot_ids: tuple[int, ...] = ()
    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    dm_secrets: dict[str, str] = field(default_factory=dict)
    history_authors: dict[str, str] = field(default_factory=dict)
    messages: list[SeenMessage] = field(default_factory=list)
    reactions: list[SeenReaction] = field(default_factory=list)
    decisions: list[SeenDecision] = field(default_factory=list)
    beats: list[SeenBeat] = field(default_factory=list)
    model_calls: list[ModelCall] = field(default_factory=list)
    active_mutes: set[str] = field(default_factory=set)
    chain_max: int = 3
    problems: list[str] = field(default_factory=list)

    def message(self, label: str) -> SeenMessage:
        """The message a step labelled `label` posted."""
        message_id = self.labels[label]
        return next(m for m in self.messages if m.id == message_id)

    def ours(self, *, in_script: bool = True) -> list[SeenMessage]:
        """Messages of our bot (and its twin), in the judged script only unless asked otherwise."""
        return [m for m in self.messages if (m.ours or m.twin) and (m.in_script or not in_script)]

    def our_reactions(self, *, in_script: bool = True) -> list[SeenReaction]:
        """Reactions of our bots other than the mute acknowledgement."""
        ids = {self.bot_user_id, self.twin_user_id} - {""}
        return [
            r for r in self.reactions if r.user_id in ids and r.emoji != MUTE_ACK and (r.in_script or not in_script)
        ]

    @property
    def spoke(self) -> bool:
        """Whether the bot produced visible output (a message, or a reaction that is not a mute acknowledgement)
        once the judged script started (in the judged channel, when the situation names one)."""
        where = self.judged_channel
        messages = [m for m in self.ours() if not where or m.channel == where]
        reactions = [r for r in self.our_reactions() if not where or r.channel == where]
        return bool(messages or reactions)

    @property
    def said_words(self) -> bool:
        """Whether the bot posted a message once the judged script started (in the judged channel, if named)."""
        where = self.judged_channel
        return any(not where or m.channel == where for m in self.ours())

    @property
    def spoke_as_judged(self) -> bool:
        """What the label judges: words for NO_WORDS situations, any visible output otherwise."""
        return self.said_words if self.expect == Expect.NO_WORDS else self.spoke

    def scripted_turns(self) -> list[SeenDecision]:
        """Decisions of our main bot taken in the judged script."""
        main = self.bot_ids[0] if self.bot_ids else None
        return [d for d in self.decisions if d.in_script and d.bot_id == main]

    def decision_for(self, label: str) -> SeenDecision | None:
        """The reactive decision whose turn took in the labelled message (answered, or merged as a fragment)."""
        message_id = self.labels[label]
        for decision in self.decisions:
            if decision.inbound_message_id == message_id or message_id in decision.fragments:
                return decision
        return None

    def fill(self, text: str) -> str:
        """A check's text with `{id:name}` (a user's id) and `{secret:label}` placeholders filled in."""

        def one(match: re.Match[str]) -> str:
            kind, _, name = match.group(1).partition(":")
            if kind == "id":
                return self.users.get(name, "") if name != "bot" else self.bot_user_id
            if kind == "secret":
                return next((s for s, label in self.dm_secrets.items() if label == name), "")
            return match.group(0)

        return re.sub(r"\{(\w+:\w+)\}", one, text)


# Checks: each returns what it found wrong (nothing when the rule held).


class Check(Protocol):
    """A rule one situation pins, evaluated on the run."""

    def failures(self, run: RunRecord) -> list[str]:
        """What is wrong; empty when the rule held."""
        ...


@dataclass(frozen=True, slots=True)
class RepliesTo:
    """One of our messages is a platform reply to the labelled message (and names `name` when given)."""

    label: str
    name: str = ""

    def failures(self, run: RunRecord) -> list[str]:
        target = run.labels[self.label]
        replies = [m for m in run.ours() if m.reply_to == target]
        if not replies:
            return [f"no bot message replies to {self.label!r} (bot said {[m.content for m in run.ours()]})"]
        if self.name and not any(self.name.lower() in m.content.lower() for m in replies):
            return [f"the reply to {self.label!r} is not for {self.name}: {[m.content for m in replies]}"]
        return []


@dataclass(frozen=True, slots=True)
class NotRepliedTo:
    """None of our messages is a platform reply to the labelled message."""

    label: str

    def failures(self, run: RunRecord) -> list[str]:
        target = run.labels[self.label]
        bad = [m.content for m in run.ours() if m.reply_to == target]
        return [f"bot replied to {self.label!r}: {bad}"] if bad else []


@dataclass(frozen=True, slots=True)
class PlainMessage:
    """Our messages in the script are plain messages, not platform replies (nothing came in between)."""

    def failures(self, run: RunRecord) -> list[str]:
        replies = [m.content for m in run.ours() if m.reply_to is not None]
        return [f"sent as platform replies though nobody spoke in between: {replies}"] if replies else []


@dataclass(frozen=True, slots=True)
class NotAnswered:
    """The labelled message got no answer: no turn that spoke for it, no reply to it."""

    label: str

    def failures(self, run: RunRecord) -> list[str]:
        decision = run.decision_for(self.label)
        problems = NotRepliedTo(self.label).failures(run)
        if decision is not None and decision.end in ("spoke", "reacted"):
            problems.append(f"the turn for {self.label!r} ended {decision.end}")
        return problems


@dataclass(frozen=True, slots=True)
class Answered:
    """The turn that took in the labelled message spoke (a message or a reaction)."""

    label: str

    def failures(self, run: RunRecord) -> list[str]:
        decision = run.decision_for(self.label)
        if decision is None:
            return [f"{self.label!r} started no turn"]
        return [] if decision.end in ("spoke", "reacted") else [f"the turn for {self.label!r} ended {decision.end}"]


@dataclass(frozen=True, slots=True)
class NoTurn:
    """The labelled message started no turn (it stays context)."""

    label: str

    def failures(self, run: RunRecord) -> list[str]:
        decision = run.decision_for(self.label)
        return [f"{self.label!r} started turn {decision.id} ({decision.chosen_slug})"] if decision else []


@dataclass(frozen=True, slots=True)
class TurnTaken:
    """The labelled message reached the router; `addressed`/`kind` pin how it was read when given."""

    label: str
    addressed: bool | None = None
    kind: str = ""

    def failures(self, run: RunRecord) -> list[str]:
        decision = run.decision_for(self.label)
        if decision is None:
            return [f"{self.label!r} started no turn"]
        problems = []
        if self.addressed is not None and decision.addressed != self.addressed:
            problems.append(f"{self.label!r} read as addressed={decision.addressed}, expected {self.addressed}")
        if self.kind and decision.address_kind != self.kind:
            problems.append(f"{self.label!r} read as address kind {decision.address_kind!r}, expected {self.kind!r}")
        return problems


@dataclass(frozen=True, slots=True)
class MergedTurn:
    """The labelled messages were merged into one turn."""

    labels: tuple[str, ...]

    def failures(self, run: RunRecord) -> list[str]:
        ids = {run.labels[label] for label in self.labels}
        for decision in run.decisions:
            if ids <= set(decision.fragments) | {decision.inbound_message_id}:
                return []
        groups = [list(d.fragments) for d in run.decisions if d.in_script]
        return [f"{list(self.labels)} were not merged into one turn (turns: {groups})"]


@dataclass(frozen=True, slots=True)
class SeparateTurns:
    """The two labelled messages were not merged into one turn."""

    first: str
    second: str

    def failures(self, run: RunRecord) -> list[str]:
        a, b = run.decision_for(self.first), run.decision_for(self.second)
        if a is not None and b is not None and a.id == b.id:
            return [f"{self.first!r} and {self.second!r} were merged into turn {a.id}"]
        return []


@dataclass(frozen=True, slots=True)
class Turns:
    """How many reactive turns (decisions) our main bot took in the script."""

    at_least: int = 0
    at_most: int | None = None

    def failures(self, run: RunRecord) -> list[str]:
        count = sum(1 for d in run.decisions if d.in_script and d.trigger == "reactive" and d.bot_id == run.bot_ids[0])
        if count < self.at_least or (self.at_most is not None and count > self.at_most):
            return [f"{count} turns taken, expected {self.at_least}..{self.at_most}"]
        return []


@dataclass(frozen=True, slots=True)
class BotMessages:
    """How many messages our bots sent in the script (in one channel: "general", "dm:alice", a thread)."""

    at_least: int = 0
    at_most: int | None = None
    channel: str = ""

    def failures(self, run: RunRecord) -> list[str]:
        sent = [m for m in run.ours() if not self.channel or m.channel == self.channel]
        if len(sent) < self.at_least or (self.at_most is not None and len(sent) > self.at_most):
            where = f" in {self.channel}" if self.channel else ""
            texts = [m.content for m in sent]
            return [f"{len(sent)} bot messages{where}, expected {self.at_least}..{self.at_most}: {texts}"]
        return []


@dataclass(frozen=True, slots=True)
class AnsweringTurns:
    """How many turns of our bots in the script put something on the platform (a burst is one turn)."""

    at_least: int = 0
    at_most: int | None = None

    def failures(self, run: RunRecord) -> list[str]:
        count = sum(1 for d in run.decisions if d.in_script and d.end in ("spoke", "reacted"))
        if count < self.at_least or (self.at_most is not None and count > self.at_most):
            return [f"{count} turns answered, expected {self.at_least}..{self.at_most}"]
        return []


@dataclass(frozen=True, slots=True)
class Reactions:
    """How many reactions (mute acknowledgements aside) our bots added in the script."""

    at_most: int

    def failures(self, run: RunRecord) -> list[str]:
        count = len(run.our_reactions())
        return [f"{count} reactions, expected at most {self.at_most}"] if count > self.at_most else []


@dataclass(frozen=True, slots=True)
class MuteAcknowledged:
    """The labelled message was acknowledged with the mute emoji, and nothing was said about it."""

    label: str

    def failures(self, run: RunRecord) -> list[str]:
        target = run.labels[self.label]
        if any(r.message_id == target and r.emoji == MUTE_ACK and r.user_id == run.bot_user_id for r in run.reactions):
            return []
        return [f"{self.label!r} was not acknowledged with {MUTE_ACK}"]


@dataclass(frozen=True, slots=True)
class Muted:
    """Whether the bot is muted in `channel` when the run ends."""

    channel: str = "general"
    active: bool = True

    def failures(self, run: RunRecord) -> list[str]:
        muted = run.channels[self.channel] in run.active_mutes
        return [] if muted == self.active else [f"muted in {self.channel}: {muted}, expected {self.active}"]


@dataclass(frozen=True, slots=True)
class PromptHas:
    """Some synthesizer call in the script saw `text` (placeholders `{id:bob}`, `{secret:label}` filled)."""

    text: str

    def failures(self, run: RunRecord) -> list[str]:
        wanted = run.fill(self.text)
        calls = [c for c in run.model_calls if c.kind == "synth" and c.in_script]
        if any(wanted in call.text for call in calls):
            return []
        return [f"no synthesizer prompt contains {wanted!r} ({len(calls)} calls)"]


@dataclass(frozen=True, slots=True)
class PromptLacks:
    """No model call in the script saw `text`."""

    text: str

    def failures(self, run: RunRecord) -> list[str]:
        unwanted = run.fill(self.text)
        if not unwanted:
            return ["nothing to look for: a placeholder did not resolve"]
        calls = [c for c in run.model_calls if c.in_script and unwanted in c.text]
        return [f"{len(calls)} model calls saw {unwanted!r}"] if calls else []


@dataclass(frozen=True, slots=True)
class AnswerPromptFor:
    """The synthesizer was asked to answer the labelled message's author and saw its words, not `not_text`."""

    label: str
    not_text: str = ""

    def failures(self, run: RunRecord) -> list[str]:
        message = run.message(self.label)
        calls = [
            c for c in run.model_calls if c.kind == "synth" and c.in_script and c.answering_id == message.author_id
        ]
        if not any(message.content in call.user for call in calls):
            return [f"no synthesizer call answered {message.author} with {message.content!r}"]
        if self.not_text and all(self.not_text in call.user for call in calls):
            return [f"the answer prompt for {message.author} still carries {self.not_text!r}"]
        return []


@dataclass(frozen=True, slots=True)
class LateAddressOf:
    """The labelled nudge's turn answered the earlier labelled question (or, `expected=False`, did not)."""

    nudge: str
    question: str
    expected: bool = True

    def failures(self, run: RunRecord) -> list[str]:
        decision = run.decision_for(self.nudge)
        if decision is None:
            return [f"{self.nudge!r} started no turn"]
        pointed = decision.late_address_of == run.labels[self.question]
        if pointed != self.expected:
            return [f"late addressing of {self.question!r} by {self.nudge!r}: {pointed}, expected {self.expected}"]
        return []


@dataclass(frozen=True, slots=True)
class BotToBotReplies:
    """How many of our messages answered a bot-authored message."""

    at_most: int
    at_least: int = 0

    def failures(self, run: RunRecord) -> list[str]:
        count = bot_to_bot_replies(run)
        if count > self.at_most or count < self.at_least:
            return [f"{count} replies to bots, expected {self.at_least}..{self.at_most}"]
        return []


@dataclass(frozen=True, slots=True)
class ModelCalls:
    """How many model calls of a kind the script made."""

    kind: str
    at_most: int | None = None
    at_least: int = 0

    def failures(self, run: RunRecord) -> list[str]:
        count = sum(1 for c in run.model_calls if c.kind == self.kind and c.in_script)
        if count < self.at_least or (self.at_most is not None and count > self.at_most):
            return [f"{count} {self.kind} calls, expected {self.at_least}..{self.at_most}"]
        return []


_ANSWERED_ENDS = ("spoke", "reacted")


@dataclass(frozen=True, slots=True)
class ShapesOnly:
    """Every turn of ours in the script that put something out used one of `shapes`."""

    shapes: frozenset[str]

    def failures(self, run: RunRecord) -> list[str]:
        bad = [
            f"{d.chosen_slug} ({d.output_shape})"
            for d in run.scripted_turns()
            if d.end in _ANSWERED_ENDS and d.output_shape not in self.shapes
        ]
        return [f"answered in shapes outside {sorted(self.shapes)}: {bad}"] if bad else []


@dataclass(frozen=True, slots=True)
class ChosenOnly:
    """Every turn of ours in the script that put something out chose one of `slugs`."""

    slugs: frozenset[str]

    def failures(self, run: RunRecord) -> list[str]:
        bad = [
            d.chosen_slug for d in run.scripted_turns() if d.end in _ANSWERED_ENDS and d.chosen_slug not in self.slugs
        ]
        return [f"answered with {bad}, expected only {sorted(self.slugs)}"] if bad else []


@dataclass(frozen=True, slots=True)
class NoTeasing:
    """No turn of ours in the script that put something out was a spicy (teasing) disposition."""

    def failures(self, run: RunRecord) -> list[str]:
        bad = [d.chosen_slug for d in run.scripted_turns() if d.end in _ANSWERED_ENDS and d.risk == "spicy"]
        return [f"teased: {bad}"] if bad else []


@dataclass(frozen=True, slots=True)
class NoLoneReaction:
    """No turn of ours in the script answered with a reaction alone."""

    def failures(self, run: RunRecord) -> list[str]:
        bad = [d.chosen_slug for d in run.scripted_turns() if d.end == "reacted"]
        return [f"answered with a reaction alone: {bad}"] if bad else []


@dataclass(frozen=True, slots=True)
class ReactedTo:
    """Any reaction of ours in the script is on the labelled message (and there is at most one)."""

    label: str

    def failures(self, run: RunRecord) -> list[str]:
        target = run.labels[self.label]
        reactions = run.our_reactions()
        elsewhere = [r.emoji for r in reactions if r.message_id != target]
        problems = [f"reacted to another message than {self.label!r}: {elsewhere}"] if elsewhere else []
        if len(reactions) > 1:
            problems.append(f"{len(reactions)} reactions, expected at most one")
        return problems


@dataclass(frozen=True, slots=True)
class MomentHas:
    """The router saw these values for the labelled message's turn (or, without a label, the script's last turn)."""

    values: Mapping[str, object]
    label: str = ""

    def failures(self, run: RunRecord) -> list[str]:
        if self.label:
            decision = run.decision_for(self.label)
        else:
            turns = run.scripted_turns()
            decision = turns[-1] if turns else None
        if decision is None:
            return [f"{self.label or 'the script'!r} started no turn"]
        wrong = {
            name: decision.moment.get(name) for name, value in self.values.items() if decision.moment.get(name) != value
        }
        return [f"the router saw {wrong}, expected {dict(self.values)}"] if wrong else []


def bot_to_bot_replies(run: RunRecord) -> int:
    """Turns of ours that answered a message written by a bot with at least one message."""
    authors = {m.id: m for m in run.messages}
    sent = {b.decision_id for b in run.beats if b.kind == "message" and b.status == "sent"}
    count = 0
    for decision in run.decisions:
        inbound = authors.get(decision.inbound_message_id)
        if inbound is not None and inbound.is_bot and decision.id in sent:
            count += 1
    return count


# The situation.


@dataclass(frozen=True, slots=True)
class QuietHours:
    """The guild's quiet hours in `time_zone`, placed so the run falls inside them (or, `now_inside=False`, outside)."""

    time_zone: str
    now_inside: bool = True


@dataclass(frozen=True, slots=True)
class Situation:
    """One labelled group-chat situation.

    `settings` are the bot's settings (real keys, as admin or the environment would set them); `weights` override
    the shipped persona's disposition weights; `twin` runs a second bot of ours (Luna) beside Sol, `replica` a second
    process of Sol itself; `model_says` replaces what the model writes; `classifier_says`
    is the mute classifier's answer, `register_says` the register classifier's. `quiet_hours` gives the guild quiet
    hours placed around the run's own time; `budget_left` gives the guild a budget with that share left. `setup` runs
    first and settles; `expect` and `checks` judge `script` (`expect` only in `judged_channel`, when given).
    `held_back` is set by the catalog on the part kept aside (see `catalog/held_back`), never by a situation.
    """

    id: str
    category: Category
    description: str
    expect: Expect
    script: tuple[Step, ...]
    setup: tuple[Step, ...] = ()
    checks: tuple[Check, ...] = ()
    judged_channel: str = ""
    settings: Mapping[str, str] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    members: tuple[str, ...] = ("alice", "bob", "carol")
    display_names: Mapping[str, str] = field(default_factory=dict)
    foreign_bots: tuple[str, ...] = ()
    twin: bool = False
    replica: bool = False
    model_says: tuple[str, ...] = ()
    classifier_says: str = "no"
    register_says: str = "neutral"
    quiet_hours: QuietHours | None = None
    budget_left: float | None = None
    seeds: int = 2
    roles: tuple[str, ...] = ("moderator",)
    held_back: bool = False

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", self.id):
            raise ValueError(f"situation id {self.id!r} must be lower-case words joined by dashes")
        if self.seeds < 1:
            raise ValueError(f"situation {self.id} needs at least one seed")


def step_labels(steps: Sequence[Step]) -> set[str]:
    """The labels the steps give messages (nested steps included)."""
    labels: set[str] = set()
    for step in steps:
        if isinstance(step, Say | Earlier) and step.label:
            labels.add(step.label)
        elif isinstance(step, WhileGenerating):
            labels |= step_labels((step.trigger, *step.meanwhile))
        elif isinstance(step, WhileAway | Restart):
            labels |= step_labels(step.steps if isinstance(step, WhileAway) else step.while_down)
    return labels


def check_labels(check: Check) -> set[str]:
    """The labels a check refers to."""
    named = {getattr(check, name, "") for name in ("label", "nudge", "question", "first", "second")}
    named |= set(getattr(check, "labels", ()))
    return {label for label in named if isinstance(label, str) and label}


def validate_catalog(situations: Sequence[Situation]) -> dict[Category, int]:
    """Catalog-wide rules (unique ids, every label a check names is given by a step); the count per category."""
    seen: set[str] = set()
    counts: dict[Category, int] = {}
    for situation in situations:
        if situation.id in seen:
            raise ValueError(f"two situations are called {situation.id}")
        seen.add(situation.id)
        labels = step_labels((*situation.setup, *situation.script))
        for check in situation.checks:
            missing = check_labels(check) - labels
            if missing:
                raise ValueError(f"situation {situation.id}: {type(check).__name__} names unknown labels {missing}")
        counts[situation.category] = counts.get(situation.category, 0) + 1
    return counts
