"""The local model server as the situations need it: it answers each prompt the way a model would.

The scripted OpenAI-compatible server answers from a queue; a situation needs answers that depend on the prompt
(who to answer, which output shape, whether the mute classifier is asking), so this subclass answers any request
its queue has nothing for by reading the prompt:

- the mute classifier gets `classifier_says` ("no" unless the situation says otherwise), the register classifier
  `register_says` ("neutral" unless the situation says otherwise);
- a react-only turn gets a reaction; a burst two short messages; any other shape one message that names the
  person it answers and echoes the start of what they said (so a check can tell who was answered);
- `model_says`, when set, is what the model writes instead (e.g. "(staying silent)").

`hold_next()` makes the next synthesizer call wait until `release()`: what people say while the bot is still
writing its answer happens in that gap.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
import threading
import time
from dataclasses import dataclass

from aiohttp import web

from dispositions.synthesis import REACTION_CHOICES
from tests.servers.openai_server import Endpoint, OpenAIServer, RecordedRequest, Reply, Step

HOLD_TIMEOUT = 15.0
CLASSIFIER_MARK = "Answer with one word: yes or no."
REGISTER_MARK = "Answer with one word: distress, gratitude, tease, hostile or neutral."
DM_MARK = "This is a direct message"
_ANSWER = re.compile(r"^Answer (?P<name>.+?) \((?:u|bot):(?P<id>[^)]+)\)\.$", re.MULTILINE)
_LINE = re.compile(r"^(?:\[#[^\]]*\] )?.+? \((?:u|bot):[^)]+\): (?P<text>.*)$")

_current: contextvars.ContextVar[RecordedRequest | None] = contextvars.ContextVar("current_request", default=None)


@dataclass(frozen=True, slots=True)
class ReadPrompt:
    """A chat request as the kind of call it is."""

    kind: str
    system: str
    user: str
    is_dm: bool
    answering_id: str
    answering_name: str
    answered_text: str
    shape: str


def read_prompt(body: object) -> ReadPrompt:
    """What a chat completion request asks: a synthesizer turn, the mute classifier, or something else."""
    messages = body.get("messages", []) if isinstance(body, dict) else []
    system = next((str(m.get("content") or "") for m in messages if m.get("role") == "system"), "")
    users = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
    user = users[0] if users else ""
    if CLASSIFIER_MARK in system:
        return ReadPrompt("classifier", system, user, False, "", "", user, "")
    if REGISTER_MARK in system:
        return ReadPrompt("register", system, user, False, "", "", user, "")
    if "Output shape:" not in system:
        return ReadPrompt("other", system, user, False, "", "", "", "")
    shape = re.search(r"Output shape: ([\w-]+)\.", system)
    answer = _ANSWER.search(user)
    lines = [m.group("text") for line in user.splitlines() if (m := _LINE.match(line))]
    return ReadPrompt(
        kind="synth",
        system=system,
        user=user,
        is_dm=DM_MARK in system,
        answering_id=answer.group("id") if answer else "",
        answering_name=answer.group("name") if answer else "",
        answered_text=lines[-1] if lines else "",
        shape=shape.group(1) if shape else "",
    )


def answer_for(
    prompt: ReadPrompt, *, model_says: tuple[str, ...], classifier_says: str, register_says: str = "neutral"
) -> str:
    """What a cooperative model would write back for this prompt."""
    if prompt.kind == "classifier":
        return classifier_says
    if prompt.kind == "register":
        return register_says
    if prompt.kind != "synth":
        return "ok"
    if prompt.shape == "react-only":
        return json.dumps({"emoji": REACTION_CHOICES[0]})
    if model_says:
        texts = list(model_says)
    elif prompt.answering_name:
        words = " ".join(prompt.answered_text.split()[:6])
        texts = [f"{prompt.answering_name}, about \u201c{words}\u201d: here's my take."]
    else:
        texts = ["quiet in here. anyone still around?"]
    if prompt.shape == "burst" and not model_says:
        texts.append("that's all from me.")
    if prompt.shape in ("single-line", "multi-line"):
        texts = [" ".join(texts)]
    return json.dumps({"messages": [{"text": text, "isCorrection": False} for text in texts]})


class SituationModelServer(OpenAIServer):
    """The local OpenAI-compatible server, answering every unqueued chat request from its prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.model_says: tuple[str, ...] = ()
        self.classifier_says = "no"
        self.register_says = "neutral"
        self._hold_armed = False
        self._held = threading.Event()
        self._release = threading.Event()

    def configure(self, *, model_says: tuple[str, ...], classifier_says: str, register_says: str = "neutral") -> None:
        """Set how the model answers for the next run, and forget the previous run's requests."""
        self.reset()
        self.model_says = model_says
        self.classifier_says = classifier_says
        self.register_says = register_says
        self._hold_armed = False
        self._held.clear()
        self._release.clear()

    def hold_next(self) -> None:
        """Make the next synthesizer call wait until `release()`."""
        self._held.clear()
        self._release.clear()
        self._hold_armed = True

    def held(self) -> bool:
        """Whether a synthesizer call is waiting now."""
        return self._held.is_set()

    def release(self) -> None:
        """Let the held call answer."""
        self._hold_armed = False
        self._release.set()

    async def _record(self, request: web.Request) -> RecordedRequest:
        recorded = await super()._record(request)
        # The handler awaits this coroutine directly, so the variable is visible to its `_next` call.
        _current.set(recorded)
        if self._hold_armed and read_prompt(recorded.body).kind == "synth":
            self._hold_armed = False
            self._held.set()
            deadline = time.monotonic() + HOLD_TIMEOUT
            while not self._release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
        return recorded

    def _next(self, endpoint: Endpoint) -> Step | None:
        step = super()._next(endpoint)
        recorded = _current.get()
        if step is not None or endpoint != "chat" or recorded is None:
            return step
        prompt = read_prompt(recorded.body)
        return Reply(
            text=answer_for(
                prompt,
                model_says=self.model_says,
                classifier_says=self.classifier_says,
                register_says=self.register_says,
            )
        )
