"""The host's one door to the database: how many statements a turn costs, and what the port caches."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db.backends.utils import CursorWrapper

from bots.host.models import ChannelMute
from bots.host.services import mute_create
from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from dispositions.choices import OutputShape
from dispositions.models import DispositionDecision, PersonaDispositionWeight
from gateway.client import GATEWAY

IN_MODEL_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar("in_model_call", default=False)


class MarkedModel:
    """The gateway, with its calls marked: what the model call itself writes (usage, budget) is not the host's."""

    async def complete(self, **kwargs: Any) -> Any:
        token = IN_MODEL_CALL.set(True)
        try:
            return await GATEWAY.complete(**kwargs)
        finally:
            IN_MODEL_CALL.reset(token)


class Statements:
    """Every SQL statement any thread sends while recording, with its parameters."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.recording = False
        self._lock = threading.Lock()

    def add(self, sql: str, params: Any) -> None:
        if self.recording and not IN_MODEL_CALL.get():
            with self._lock:
                self.seen.append((sql, params))

    def without(self, message_ids: set[str]) -> list[str]:
        """The statements whose parameters mention none of these message ids (the bot's own echoed message)."""
        return [
            sql
            for sql, params in self.seen
            if not any(mid in str(param) for mid in message_ids for param in (params or ()))
        ]


@pytest.fixture
def statements(monkeypatch) -> Statements:
    recorder = Statements()
    execute, executemany = CursorWrapper.execute, CursorWrapper.executemany

    def recording_execute(self, sql, params=None):
        recorder.add(sql, params)
        return execute(self, sql, params)

    def recording_executemany(self, sql, param_list):
        recorder.add(sql, ())
        return executemany(self, sql, param_list)

    monkeypatch.setattr(CursorWrapper, "execute", recording_execute)
    monkeypatch.setattr(CursorWrapper, "executemany", recording_executemany)
    return recorder


async def speaking_persona():
    def build():
        persona = make_persona()
        make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
        return persona

    return await sync_to_async(build)()


async def test_a_one_line_reactive_turn_makes_six_database_round_trips_or_fewer(
    make_rig, gateway_on_openai_server, statements
):
    rig = await make_rig(persona=await speaking_persona(), host_options={"model": MarkedModel()})
    gateway_on_openai_server.queue_reply(reply_json("first"))
    gateway_on_openai_server.queue_reply(reply_json("second"))
    # The first turn of a process also loads what the port caches (the persona, the mutes, the budget).
    await rig.say("general", "alice", "@dit warming up?")

    statements.recording = True
    await rig.say("general", "alice", "@dit how are you?")
    statements.recording = False

    own = {m.message.id for m in rig.adapter.bot_messages(rig.adapter.channel("general"))}
    turn = statements.without(own)
    assert [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))] == ["first", "second"]
    assert len(turn) <= 6, "\n".join(sql[:120] for sql in turn)
    # The statements that make up the turn: ingest (transcript, event), the claim, one read, the decision
    # with its beat, the outcome with the sent beat.
    assert any("memory_transcript" in sql and sql.lstrip().startswith("INSERT") for sql in turn)
    assert any("host_inboundclaim" in sql for sql in turn)
    assert any("dispositions_dispositiondecision" in sql and "host_outboundbeat" in sql for sql in turn)


async def test_a_weight_changed_in_admin_reaches_the_running_host_on_its_next_turn(make_rig, gateway_on_openai_server):
    def build():
        persona = make_persona()
        make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE, weight=1.0)
        make_disposition(persona, "vibing", shape=OutputShape.REACT_ONLY, weight=0.0)
        return persona

    rig = await make_rig(persona=await sync_to_async(build)())
    gateway_on_openai_server.queue_reply(reply_json("a line"))
    await rig.say("general", "alice", "@dit first?")

    def retune():
        PersonaDispositionWeight.objects.filter(disposition__slug="quick-react").update(weight=0.0)
        # An update() sends no signal; admin saves the row, which does.
        weight = PersonaDispositionWeight.objects.get(disposition__slug="vibing")
        weight.weight = 1.0
        weight.save()

    await sync_to_async(retune)()
    gateway_on_openai_server.queue_reply('{"emoji": "👍"}')
    await rig.say("general", "alice", "@dit second?")

    slugs = [d.chosen_slug async for d in DispositionDecision.objects.order_by("id")]
    assert slugs == ["quick-react", "vibing"]


async def test_a_mute_set_by_a_moderator_reaches_the_running_host(make_rig, gateway_on_openai_server):
    rig = await make_rig(persona=await speaking_persona())
    gateway_on_openai_server.queue_reply(reply_json("a line"))
    await rig.say("general", "alice", "@dit first?")
    channel = rig.adapter.channel("general")

    await sync_to_async(mute_create)(
        bot_id=rig.bot.pk, channel_id=channel.id, source="admin", muted_by="staff:owner", minutes=10
    )
    decision = await rig.host.unprompted_turn(channel)

    assert await ChannelMute.objects.acount() == 1
    assert decision is not None
    assert "unprompted turns muted in this channel" in decision.gates
