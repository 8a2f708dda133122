"""The trigger language: conditions as data, declared in each app's `triggers.py`.

    @trigger("memory.epoch_close", after(silence=timedelta(hours=3), on=EventKind.MESSAGE_INGESTED, key=per_channel))
    def close_epoch(run: TriggerRun) -> Outcome: ...

Conditions:
- `on(kind, ...)`: due when a matching event arrives (optionally `delay` later).
- `after(delay, on=kind)`: due `delay` after the first matching event; `after(silence=d, on=kind)` is
  debounced: every matching event pushes the due time to `d` after itself.
- `when(predicate, on=kind)`: the events it depends on make it due; the predicate is checked against
  current state when it runs.
- `all_of(...)` / `any_of(...)`: one row per key that events update in SQL (a bit per event part, the
  quiet timer of an `after` part); `when` parts are checked when the row runs.
- No condition: the app schedules rows itself with `reactor.services.schedule`.

`match` and `key` run inside the emitting transaction on every matching event: they read the event
only, never the database. The reactor core names no app; apps import this module, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import DatabaseError, InterfaceError, OperationalError

from reactor.choices import Combine, EventKind, TriggerMode
from reactor.errors import InvalidDeclaration, TransientEffectError
from reactor.models import ReactorEvent

Match = Callable[[ReactorEvent], bool]
KeyOf = Callable[[ReactorEvent], str | None]
Delay = timedelta | Callable[[ReactorEvent], timedelta | None]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    TransientEffectError,
    ConnectionError,
    TimeoutError,
)


@dataclass(frozen=True, slots=True)
class TriggerRun:
    """What an effect or predicate is given: the trigger as it was claimed."""

    id: UUID
    kind: str
    payload: Mapping[str, Any]
    predicate: Mapping[str, Any]
    guild_id: str
    channel_id: str
    attempt: int
    due_at: datetime | None
    created_at: datetime
    parent_event_id: int | None
    parent_trigger_id: UUID | None
    dedupe_key: str | None


@dataclass(frozen=True, slots=True)
class Check:
    """A predicate's answer with what it looked at, kept in the trigger's result."""

    holds: bool
    detail: Mapping[str, Any] = field(default_factory=dict)


Predicate = Callable[[TriggerRun], bool | Check]


@dataclass(frozen=True, slots=True)
class Next:
    """Run this trigger's kind again: a child row at `due_at` (None: when its events next arrive)."""

    due_at: datetime | None
    payload: Mapping[str, Any] | None = None
    wake_keys: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an effect did (kept on the row) and, optionally, when to run again."""

    result: Mapping[str, Any] = field(default_factory=dict)
    then: Next | None = None


Effect = Callable[[TriggerRun], Outcome | None]


def per_channel(event: ReactorEvent) -> str | None:
    """Key by the event's channel (None for events outside a channel)."""
    return event.channel_id or None


def per_guild(event: ReactorEvent) -> str | None:
    """Key by the event's guild (None for direct messages)."""
    return event.guild_id or None


def everywhere(event: ReactorEvent) -> str | None:
    """One key for every event: a single standing trigger of its kind."""
    return "*"


@dataclass(frozen=True, slots=True)
class On:
    """Due when a matching event arrives (after `delay`, if given)."""

    kinds: tuple[str, ...]
    match: Match | None = None
    key: KeyOf | None = None
    delay: Delay | None = None


@dataclass(frozen=True, slots=True)
class After:
    """Due a delay after an event; with `debounce`, after a silence that every new event restarts."""

    kinds: tuple[str, ...]
    delay: Delay
    debounce: bool
    match: Match | None = None
    key: KeyOf | None = None
    cancel_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class When:
    """A state predicate, checked when the trigger runs; the events in `kinds` make it due."""

    predicate: Predicate
    kinds: tuple[str, ...] = ()
    match: Match | None = None
    key: KeyOf | None = None
    debounce: timedelta | None = None

    @property
    def name(self) -> str:
        """The predicate's name as logged."""
        return getattr(self.predicate, "__name__", repr(self.predicate))


Part = On | After | When


@dataclass(frozen=True, slots=True)
class Composite:
    """All of, or any of, its parts; one row per key, its event parts counted as bits in SQL."""

    combine: Combine
    parts: tuple[Part, ...]
    key: KeyOf | None = None
    within: timedelta | None = None

    @property
    def event_parts(self) -> tuple[On, ...]:
        """The parts events satisfy (a bit each, in declaration order)."""
        return tuple(part for part in self.parts if isinstance(part, On))

    @property
    def timer(self) -> After | None:
        """The quiet timer part, if any (at most one)."""
        timers = [part for part in self.parts if isinstance(part, After)]
        return timers[0] if timers else None

    @property
    def checks(self) -> tuple[When, ...]:
        """The state predicates checked when the row runs."""
        return tuple(part for part in self.parts if isinstance(part, When))

    @property
    def all_bits(self) -> int:
        """The bitmask with every event part set."""
        return (1 << len(self.event_parts)) - 1


Condition = On | After | When | Composite


def _kinds(kinds: str | EventKind | Iterable[str | EventKind]) -> tuple[str, ...]:
    listed = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    known = frozenset(EventKind.values)
    for kind in listed:
        if str(kind) not in known:
            raise InvalidDeclaration(f"unknown event kind {kind!r}; declare it in reactor.choices.EventKind")
    return tuple(str(kind) for kind in listed)


def on(*kinds: str, match: Match | None = None, key: KeyOf | None = None, delay: Delay | None = None) -> On:
    """Due when an event of one of `kinds` arrives; with `key`, events sharing a key make one trigger."""
    if not kinds:
        raise InvalidDeclaration("on() needs at least one event kind")
    return On(kinds=_kinds(kinds), match=match, key=key, delay=delay)


def after(
    delay: Delay | None = None,
    *,
    silence: Delay | None = None,
    on: str | Sequence[str],
    match: Match | None = None,
    key: KeyOf | None = None,
    cancel_on: Sequence[str] = (),
) -> After:
    """Due `delay` after the first matching event, or after `silence` following the last one (debounced)."""
    if (delay is None) == (silence is None):
        raise InvalidDeclaration("after() takes exactly one of delay or silence")
    chosen = delay if delay is not None else silence
    assert chosen is not None  # noqa: S101 - one of the two is set, checked above
    return After(
        kinds=_kinds(on),
        delay=chosen,
        debounce=silence is not None,
        match=match,
        key=key,
        cancel_on=_kinds(cancel_on) if cancel_on else (),
    )


def when(
    predicate: Predicate,
    *,
    on: str | Sequence[str] = (),
    match: Match | None = None,
    key: KeyOf | None = None,
    debounce: timedelta | None = None,
) -> When:
    """A predicate over current state, checked when the trigger runs; events in `on` make it due."""
    return When(predicate=predicate, kinds=_kinds(on) if on else (), match=match, key=key, debounce=debounce)


def _composite(combine: Combine, parts: Sequence[Part], key: KeyOf | None, within: timedelta | None) -> Composite:
    if not parts:
        raise InvalidDeclaration(f"{combine.label.lower()} needs at least one part")
    for part in parts:
        if part.key is not None:
            raise InvalidDeclaration("a composite's parts take no key of their own; key the composite")
        if isinstance(part, On) and part.delay is not None:
            raise InvalidDeclaration("an event part of a composite has no delay; add an after() part")
    composite = Composite(combine=combine, parts=tuple(parts), key=key, within=within)
    if len([part for part in parts if isinstance(part, After)]) > 1:
        raise InvalidDeclaration("a composite has at most one after() part")
    if len(composite.event_parts) > 30:
        raise InvalidDeclaration("a composite has at most 30 event parts")
    return composite


def all_of(*parts: Part, key: KeyOf | None = None, within: timedelta | None = None) -> Composite:
    """Due once every event part has been seen (and the after() part's timer elapsed); every when() must hold."""
    return _composite(Combine.ALL, parts, key, within)


def any_of(*parts: Part, key: KeyOf | None = None, within: timedelta | None = None) -> Composite:
    """Due as soon as one event part is seen or the timer elapses; at least one when() must hold, if any."""
    return _composite(Combine.ANY, parts, key, within)


def mode_of(condition: Condition | None) -> TriggerMode:
    """How a trigger with this condition becomes due."""
    if isinstance(condition, Composite):
        return TriggerMode.COMPOSITE
    if isinstance(condition, When):
        return TriggerMode.PREDICATE
    if isinstance(condition, On):
        return TriggerMode.EVENT
    return TriggerMode.TIMER


def describe(condition: Condition | None) -> dict[str, Any]:
    """The condition as data, stored on each row it creates (`Trigger.predicate`)."""
    if condition is None:
        return {"scheduled": True}
    if isinstance(condition, Composite):
        return {
            condition.combine.value + "_of": [describe(part) for part in condition.parts],
            "within_seconds": condition.within.total_seconds() if condition.within else None,
        }
    if isinstance(condition, When):
        return {"when": condition.name, "on": list(condition.kinds)}
    if isinstance(condition, After):
        delay = condition.delay.total_seconds() if isinstance(condition.delay, timedelta) else "computed"
        return {"silence" if condition.debounce else "after": delay, "on": list(condition.kinds)}
    described: dict[str, Any] = {"on": list(condition.kinds)}
    if condition.delay is not None:
        described["delay"] = condition.delay.total_seconds() if isinstance(condition.delay, timedelta) else "computed"
    return described


@dataclass(frozen=True, slots=True)
class Declaration:
    """A kind of trigger: its condition, its effect, and how hard to try."""

    kind: str
    effect: Effect
    condition: Condition | None = None
    max_attempts: int = 5
    lease: timedelta = timedelta(minutes=5)
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS
    rearm: bool = False
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 300.0

    @property
    def checks(self) -> tuple[When, ...]:
        """The predicates the worker checks before the effect."""
        if isinstance(self.condition, Composite):
            return self.condition.checks
        if isinstance(self.condition, When):
            return (self.condition,)
        return ()

    def backoff(self, attempt: int) -> timedelta:
        """How long to wait before attempt `attempt + 1` after a transient failure."""
        return timedelta(seconds=min(self.backoff_max_seconds, self.backoff_seconds * 2 ** max(0, attempt - 1)))

    def is_transient(self, error: BaseException) -> bool:
        """A failure worth another attempt: database hiccups, timeouts, a TransientEffectError."""
        if isinstance(error, DatabaseError) and not isinstance(error, OperationalError | InterfaceError):
            return False
        return isinstance(error, self.transient)


class Registry:
    """Every declared trigger kind and the event kinds that wake triggers by key."""

    def __init__(self) -> None:
        self._declarations: dict[str, Declaration] = {}
        self._by_event: dict[str, list[Declaration]] = {}
        self._wakers: dict[str, list[Callable[[ReactorEvent], Iterable[str]]]] = {}
        self._arming: list[Callable[[], object]] = []

    def add(self, declaration: Declaration) -> Declaration:
        """Register a declaration; declaring one kind twice with another effect is an error."""
        known = self._declarations.get(declaration.kind)
        if known is not None:
            if known.effect is declaration.effect or _same_function(known.effect, declaration.effect):
                return known
            raise InvalidDeclaration(f"trigger kind {declaration.kind!r} is declared twice")
        self._declarations[declaration.kind] = declaration
        for event_kind in _event_kinds(declaration.condition):
            self._by_event.setdefault(event_kind, []).append(declaration)
        return declaration

    def get(self, kind: str) -> Declaration | None:
        """The declaration of a trigger kind, or None when no app declares it."""
        return self._declarations.get(kind)

    def for_event(self, kind: str) -> Sequence[Declaration]:
        """Declarations that an event of this kind may create, move, update or cancel."""
        return self._by_event.get(kind, ())

    def add_waker(self, kinds: Sequence[str], keys: Callable[[ReactorEvent], Iterable[str]]) -> None:
        """Events of `kinds` make waiting triggers whose wake_keys share a key with `keys(event)` due now."""
        for kind in _kinds(kinds):
            self._wakers.setdefault(kind, []).append(keys)

    def wake_keys_for(self, event: ReactorEvent) -> list[str]:
        """Every wake key an event carries."""
        found: list[str] = []
        for keys in self._wakers.get(event.kind, ()):
            found.extend(k for k in keys(event) if k)
        return found

    def add_arming(self, arm: Callable[[], object]) -> None:
        """A function the dispatcher calls once at start to create the standing timers that state implies."""
        if arm not in self._arming:
            self._arming.append(arm)

    @property
    def arming(self) -> Sequence[Callable[[], object]]:
        """The arming functions, in registration order."""
        return tuple(self._arming)

    @property
    def kinds(self) -> Sequence[str]:
        """Every declared trigger kind."""
        return tuple(sorted(self._declarations))


def _same_function(first: Effect, second: Effect) -> bool:
    # A module imported twice (as in some test runners) declares equal functions: the same kind again.
    return getattr(first, "__qualname__", None) == getattr(second, "__qualname__", None) and getattr(
        first, "__module__", None
    ) == getattr(second, "__module__", None)


def _event_kinds(condition: Condition | None) -> tuple[str, ...]:
    if condition is None:
        return ()
    if isinstance(condition, Composite):
        return tuple(dict.fromkeys(k for part in condition.parts for k in _event_kinds(part)))
    if isinstance(condition, After):
        return tuple(dict.fromkeys((*condition.kinds, *condition.cancel_on)))
    return condition.kinds


registry = Registry()


def trigger(
    kind: str,
    condition: Condition | None = None,
    *,
    max_attempts: int = 5,
    lease: timedelta = timedelta(minutes=5),
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
    rearm: bool = False,
    backoff_seconds: float = 2.0,
) -> Callable[[Effect], Effect]:
    """Declare a trigger kind whose effect is the decorated function; returns the function unchanged.

    `rearm`: when a when() predicate does not hold, wait for the next event instead of finishing.
    """
    if not kind or len(kind) > 100:
        raise InvalidDeclaration("a trigger kind is 1 to 100 characters, e.g. 'memory.epoch_close'")
    if max_attempts < 1:
        raise InvalidDeclaration("max_attempts must be at least 1")

    def register(effect: Effect) -> Effect:
        registry.add(
            Declaration(
                kind=kind,
                effect=effect,
                condition=condition,
                max_attempts=max_attempts,
                lease=lease,
                transient=transient,
                rearm=rearm,
                backoff_seconds=backoff_seconds,
            )
        )
        return effect

    return register


def wakes(*kinds: str, keys: Callable[[ReactorEvent], Iterable[str]]) -> None:
    """Events of `kinds` wake (make due now) waiting triggers listing one of `keys(event)` in wake_keys."""
    registry.add_waker(kinds, keys)


def arming(arm: Callable[[], object]) -> Callable[[], object]:
    """Decorator: the dispatcher calls `arm()` once at start, to (re)create timers implied by state."""
    registry.add_arming(arm)
    return arm
