"""Structured logs: JSON lines or text by DIT_LOG_FORMAT, the turn's context on every line, secrets masked."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from asgiref.sync import sync_to_async
from cryptography.fernet import Fernet

from bots.host.stages import deliver
from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from dispositions.choices import OutputShape
from dispositions.models import DispositionDecision
from dit_project import logcontext, logformat
from dit_project.vault import SecretValue
from observability import capture


def _line(formatter: logging.Formatter, message: str, *args, exc_info=None, **extra) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(logcontext.ContextFilter())
    logger = logging.getLogger(f"observability.tests.lines.{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.error(message, *args, exc_info=exc_info, extra=extra or None)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_json_line_carries_the_bound_turn_context():
    with logcontext.bind(guild_id="g-1", channel_id="c-2", trigger_id="t-3"):
        logcontext.annotate(decision_id=44)
        line = _line(logformat.build_formatter("json"), "turn in channel %s failed", "c-2")
    outside = json.loads(_line(logformat.build_formatter("json"), "between turns"))

    record = json.loads(line)
    assert record["message"] == "turn in channel c-2 failed"
    assert record["level"] == "ERROR"
    assert (record["guild_id"], record["channel_id"], record["trigger_id"], record["decision_id"]) == (
        "g-1",
        "c-2",
        "t-3",
        "44",
    )
    assert "decision_id" not in outside
    assert line.count("\n") == 1  # one line, the traceback (if any) inside it


def test_a_text_line_ends_with_the_context_in_brackets():
    with logcontext.bind(channel_id="c-2", decision_id=44):
        line = _line(logformat.build_formatter("text"), "sent")

    assert line.rstrip().endswith(": sent [decision_id=44 channel_id=c-2]")


@pytest.mark.parametrize("kind", ["json", "text"])
def test_secrets_never_reach_a_log_line(kind, settings):
    settings.OPENAI_API_KEY = "sk-live-provider-key-0001"
    settings.DIT_SECRETS_KEYS = [Fernet.generate_key().decode()]
    bot_token = SecretValue("discord-bot-token-abcdef.123")
    try:
        raise RuntimeError(f"refused {settings.DIT_SECRETS_KEYS[0]}")
    except RuntimeError as exc:
        error = exc

    line = _line(
        logformat.build_formatter(kind),
        "calling %s with key %s and token %s; headers %s; secret %s; %s",
        "postgresql://dit:hunter2-password@db:5432/dit",
        settings.OPENAI_API_KEY,
        bot_token.reveal(),
        {"Authorization": "Bearer eyJhbGciOi.payload.sig", "HTTP_AUTHORIZATION": "Token abcdefgh1234"},
        settings.SECRET_KEY,
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        exc_info=error,
        sent_with=f"Bot {bot_token.reveal()}",  # an extra field: a JSON line writes it, scrubbed
    )

    for secret in (
        settings.OPENAI_API_KEY,
        settings.DIT_SECRETS_KEYS[0],
        settings.SECRET_KEY,
        "discord-bot-token-abcdef.123",
        "hunter2-password",
        "eyJhbGciOi.payload.sig",
        "abcdefgh1234",
        "dXNlcjpwYXNzd29yZA==",
    ):
        assert secret not in line
    assert "postgresql://dit:••••@db:5432/dit" in line
    assert "Bearer ••••" in line
    assert "Basic ••••" in line
    assert "RuntimeError: refused ••••" in line


def test_auto_writes_json_unless_stderr_is_a_terminal(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert logformat.resolve_format("auto") == "json"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert logformat.resolve_format("auto") == "text"
    assert logformat.resolve_format("json") == "json"
    with pytest.raises(ValueError, match="DIT_LOG_FORMAT must be one of auto, json, text"):
        logformat.resolve_format("yaml")


def test_the_configured_console_handler_formats_and_adds_the_context():
    handlers = logging.getLogger().handlers
    console = [
        h
        for h in handlers
        if isinstance(h.formatter, logformat.ScrubbingJsonFormatter | logformat.ScrubbingTextFormatter)
    ]

    assert console
    assert any(isinstance(f, logcontext.ContextFilter) for f in console[0].filters)


class ContextRecorder(logging.Handler):
    """Keeps each record's context fields as the configured filter sets them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(logcontext.ContextFilter())
        self.seen: list[tuple[str, dict[str, str]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = {name: getattr(record, name) for name in logcontext.FIELDS if hasattr(record, name)}
        self.seen.append((record.getMessage(), fields))


async def test_a_line_logged_during_a_turn_names_its_decision_guild_and_channel(
    make_rig, gateway_on_openai_server, monkeypatch
):
    async def platform_fell_over(*args, **kwargs):
        raise ConnectionResetError("the platform hung up mid-send")

    def build():
        persona = make_persona()
        make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
        return persona

    monkeypatch.setattr(deliver, "deliver", platform_fell_over)
    recorder = ContextRecorder()
    logging.getLogger("bots.host").addHandler(recorder)
    try:
        rig = await make_rig(persona=await sync_to_async(build)())
        gateway_on_openai_server.queue_reply(reply_json("never sent"))
        await rig.say("general", "alice", "@dit hello?")
    finally:
        logging.getLogger("bots.host").removeHandler(recorder)
    assert await sync_to_async(capture.flush)()

    decision = await DispositionDecision.objects.aget()
    channel = rig.adapter.channel("general")
    failed = [fields for message, fields in recorder.seen if message == f"turn in channel {channel.id} failed"]
    assert failed == [{"decision_id": str(decision.pk), "guild_id": "local-guild", "channel_id": channel.id}]
