"""A local OpenAI-compatible model server for tests and benchmarks, scripted per test.

It is a real HTTP server (aiohttp) on 127.0.0.1 with a free port, running in a background thread with
its own event loop, so sync tests, async tests and other threads can all use it. The real openai
client (or the gateway) talks to it over HTTP.

Fixtures (registered as a pytest plugin by the root conftest.py):

    openai_server              a fresh server for one test, stopped afterwards
    openai_server_factory      call it to start more servers (e.g. a primary and a fallback provider)
    gateway_on_openai_server   `openai_server` as the gateway's default provider: sets OPENAI_BASE_URL and
                               OPENAI_API_KEY, and a Redis key prefix of the test's own (cleaned up after);
                               `with gateway_on(server.base_url, settings):` does the same for any other server

Endpoints: POST /v1/chat/completions (plain or `stream: true` SSE), POST /v1/embeddings (float or base64),
GET /v1/models.

Scripting. Each server keeps one queue of steps for chat completions and one for embeddings; each request
takes the next step of its queue, and an empty queue answers with `server.default_reply` (chat) or with
deterministic vectors (embeddings):

    server.queue_reply("Hello there")                    # a reply (streamed word by word if the client streams)
    server.queue_reply("", tool_calls=[ToolCallSpec("lookup", '{"q": "x"}')], finish_reason="tool_calls")
    server.queue_reply("hi", usage=(12, 3))              # report 12 prompt and 3 completion tokens
    server.queue_reply("a b c", chunks=["a", " b", " c"], drop_after_chunks=2)   # stream dies mid-way
    server.queue_reply("a b c", end_after_chunks=1)      # stream ends cleanly after 1 chunk: no finish, no [DONE]
    server.queue_fault(429, retry_after=1.5)             # rate limited, with a Retry-After header
    server.queue_fault(500) / server.queue_fault(503)    # server errors with an OpenAI-shaped body
    server.queue_fault(400, message="bad things")        # a request error
    server.queue_slow(5.0)                               # answer only after 5 s (client timeouts)
    server.queue_drop()                                  # close the connection without answering
    server.queue_invalid_json()                          # 200 with a body that is not JSON
    server.queue_reply(..., endpoint="embeddings")       # any step can go on the embeddings queue instead
    server.queue(Reply(...), Fault(...))                 # the same with the step values themselves
    server.queue_when("comedian", Reply(...), Fault(...)) # chat requests whose messages contain the marker take
                                                         # these steps first (calls made in parallel, each its own)

Usage: unless a reply says otherwise, prompt tokens are the words in the request's messages and
completion tokens the words of the reply. Embeddings: `server.embedding_for(text, dimensions)` is the
vector any request gets for `text` (unit length, seeded by the text; 8 dimensions unless the request asks).

Assertions. `server.requests` lists every request received (`RecordedRequest`: method, path, headers with
lower-case names, parsed JSON body); `server.chat_requests` and `server.embedding_requests` filter it.
`server.reset()` empties queues and records. Set `server.require_api_key = "sk-..."` to answer 401 to
any other bearer token.

Outside pytest (benchmarks): `with OpenAIServer() as server: ...` starts and stops it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

import pytest
from aiohttp import web

Endpoint = Literal["chat", "embeddings"]
DEFAULT_DIMENSIONS = 8
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class ToolCallSpec:
    """A tool call the scripted model makes."""

    name: str
    arguments: str
    id: str = ""


@dataclass(frozen=True)
class Reply:
    """A successful answer. For a streaming request, `chunks` (or the reply's words) are sent one per event."""

    text: str = "ok"
    tool_calls: tuple[ToolCallSpec, ...] = ()
    usage: tuple[int, int] | None = None
    finish_reason: str | None = None
    model: str | None = None
    chunks: tuple[str, ...] | None = None
    drop_after_chunks: int | None = None
    end_after_chunks: int | None = None
    delay: float = 0.0
    reasoning: str | None = None


@dataclass(frozen=True)
class Fault:
    """A failure: an HTTP error status, a slow answer, a dropped connection or an unreadable body."""

    status: int = 500
    message: str = "injected fault"
    retry_after: float | None = None
    delay: float = 0.0
    drop: bool = False
    invalid_json: bool = False


Step = Reply | Fault


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float = field(default_factory=time.time)


def _words(text: str) -> list[str]:
    parts: list[str] = []
    for index, word in enumerate(text.split(" ")):
        parts.append(word if index == 0 else " " + word)
    return [part for part in parts if part]


def _count_words(text: str) -> int:
    return len(text.split())


def _message_text(messages: Any) -> str:
    texts = []
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(part.get("text", "") for part in content if isinstance(part, dict))
    return " ".join(texts)


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _drop(request: web.Request) -> NoReturn:
    """Close the connection without an answer (or mid-answer)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    raise asyncio.CancelledError


class OpenAIServer:
    """The scripted server; see the module docstring for its API."""

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.default_reply: Reply = Reply()
        self.require_api_key: str | None = None
        self.models: list[str] = ["stub-model"]
        self._lock = threading.Lock()
        self._queues: dict[Endpoint, deque[Step]] = {"chat": deque(), "embeddings": deque()}
        self._marked: dict[str, deque[Step]] = {}
        self._requests: list[RecordedRequest] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # Life cycle -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The OpenAI base URL of this server (ends in /v1)."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> OpenAIServer:
        """Start serving in a background thread; returns once the port is bound."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread below
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"openai-server-{id(self)}", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT):
            raise RuntimeError("the local OpenAI server did not start in time")
        if failure:
            raise RuntimeError("the local OpenAI server failed to start") from failure[0]
        return self

    async def _serve(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        # handler_cancellation: a slow handler stops when its client gives up, so stop() is quick.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        """Stop serving and join the thread."""
        loop, runner = self._loop, self._runner
        if loop is None or self._thread is None:
            return
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=10)
        self._loop = None
        self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Scripting ------------------------------------------------------------------------------------

    def queue(self, *steps: Step, endpoint: Endpoint = "chat") -> None:
        """Append steps to an endpoint's queue; each request takes the next one."""
        with self._lock:
            self._queues[endpoint].extend(steps)

    def queue_when(self, marker: str, *steps: Step) -> None:
        """Append steps for chat requests whose messages contain `marker`; they are taken before the main queue."""
        with self._lock:
            self._marked.setdefault(marker, deque()).extend(steps)

    def _next_marked(self, recorded: RecordedRequest) -> Step | None:
        body = recorded.body if isinstance(recorded.body, dict) else {}
        text = _message_text(body.get("messages"))
        with self._lock:
            for marker, steps in self._marked.items():
                if steps and marker in text:
                    return steps.popleft()
        return None

    def queue_reply(
        self,
        text: str = "ok",
        *,
        tool_calls: Sequence[ToolCallSpec] = (),
        usage: tuple[int, int] | None = None,
        finish_reason: str | None = None,
        model: str | None = None,
        chunks: Sequence[str] | None = None,
        drop_after_chunks: int | None = None,
        end_after_chunks: int | None = None,
        delay: float = 0.0,
        reasoning: str | None = None,
        endpoint: Endpoint = "chat",
    ) -> None:
        """Queue a successful reply."""
        self.queue(
            Reply(
                text=text,
                tool_calls=tuple(tool_calls),
                usage=usage,
                finish_reason=finish_reason,
                model=model,
                chunks=tuple(chunks) if chunks is not None else None,
                drop_after_chunks=drop_after_chunks,
                end_after_chunks=end_after_chunks,
                delay=delay,
                reasoning=reasoning,
            ),
            endpoint=endpoint,
        )

    def queue_fault(
        self,
        status: int = 500,
        *,
        message: str = "injected fault",
        retry_after: float | None = None,
        delay: float = 0.0,
        endpoint: Endpoint = "chat",
    ) -> None:
        """Queue an HTTP error with an OpenAI-shaped body (and Retry-After when given)."""
        self.queue(Fault(status=status, message=message, retry_after=retry_after, delay=delay), endpoint=endpoint)

    def queue_slow(self, delay: float, *, text: str = "slow", endpoint: Endpoint = "chat") -> None:
        """Queue a reply that arrives only after `delay` seconds."""
        self.queue(Reply(text=text, delay=delay), endpoint=endpoint)

    def queue_drop(self, *, endpoint: Endpoint = "chat") -> None:
        """Queue a dropped connection: the server closes it without answering."""
        self.queue(Fault(drop=True), endpoint=endpoint)

    def queue_invalid_json(self, *, endpoint: Endpoint = "chat") -> None:
        """Queue a 200 answer whose JSON body is broken."""
        self.queue(Fault(status=200, invalid_json=True), endpoint=endpoint)

    def reset(self) -> None:
        """Forget queued steps and recorded requests."""
        with self._lock:
            for steps in self._queues.values():
                steps.clear()
            self._marked.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Requests to /v1/chat/completions."""
        return [request for request in self.requests if request.path.endswith("/chat/completions")]

    @property
    def embedding_requests(self) -> list[RecordedRequest]:
        """Requests to /v1/embeddings."""
        return [request for request in self.requests if request.path.endswith("/embeddings")]

    @staticmethod
    def embedding_for(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
        """The deterministic unit vector this server returns for `text`."""
        values: list[float] = []
        counter = 0
        while len(values) < dimensions:
            digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
            values.extend((byte - 127.5) / 127.5 for byte in digest)
            counter += 1
        vector = values[:dimensions]
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        # Rounded to float32 so float and base64 encodings carry the same numbers.
        return [struct.unpack("<f", struct.pack("<f", v / norm))[0] for v in vector]

    # Handlers -------------------------------------------------------------------------------------

    async def _record(self, request: web.Request) -> RecordedRequest:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode(errors="replace")
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
        )
        with self._lock:
            self._requests.append(recorded)
        return recorded

    def _next(self, endpoint: Endpoint) -> Step | None:
        with self._lock:
            queue = self._queues[endpoint]
            return queue.popleft() if queue else None

    def _unauthorized(self, recorded: RecordedRequest) -> web.Response | None:
        if self.require_api_key is None:
            return None
        if recorded.headers.get("authorization") == f"Bearer {self.require_api_key}":
            return None
        return web.json_response(
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            status=401,
        )

    async def _fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            _drop(request)
        if fault.invalid_json:
            return web.Response(status=200, text='{"id": "broken", "choices": [', content_type="application/json")
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        error_type = (
            "rate_limit_error"
            if fault.status == 429
            else "server_error"
            if fault.status >= 500
            else "invalid_request_error"
        )
        return web.json_response(
            {"error": {"message": fault.message, "type": error_type, "param": None, "code": None}},
            status=fault.status,
            headers=headers,
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        recorded = await self._record(request)
        refusal = self._unauthorized(recorded)
        if refusal is not None:
            return refusal
        step = self._next_marked(recorded) or self._next("chat") or self.default_reply
        if isinstance(step, Fault):
            return await self._fault(request, step)
        if step.delay:
            await asyncio.sleep(step.delay)
        body = recorded.body if isinstance(recorded.body, dict) else {}
        model = step.model or str(body.get("model") or "stub-model")
        prompt_tokens, completion_tokens = step.usage or (
            _count_words(_message_text(body.get("messages"))),
            _count_words(step.text) + sum(_count_words(call.arguments) for call in step.tool_calls),
        )
        finish_reason = step.finish_reason or ("tool_calls" if step.tool_calls else "stop")
        if body.get("stream"):
            options = body.get("stream_options") or {}
            return await self._stream(
                request,
                step,
                model=model,
                finish_reason=finish_reason,
                usage=(prompt_tokens, completion_tokens) if options.get("include_usage") else None,
            )
        message: dict[str, Any] = {
            "role": "assistant",
            "content": step.text if step.text or not step.tool_calls else None,
        }
        if step.tool_calls:
            message["tool_calls"] = [self._tool_call(index, call) for index, call in enumerate(step.tool_calls)]
        if step.reasoning is not None:
            message["reasoning"] = step.reasoning
        return web.json_response(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
                "usage": _usage(prompt_tokens, completion_tokens),
            }
        )

    @staticmethod
    def _tool_call(index: int, call: ToolCallSpec) -> dict[str, Any]:
        return {
            "id": call.id or f"call_{index}",
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }

    async def _stream(
        self,
        request: web.Request,
        step: Reply,
        *,
        model: str,
        finish_reason: str,
        usage: tuple[int, int] | None,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        chunk_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"

        def event(delta: dict[str, Any], finish: str | None = None, *, usage_body: Any = None) -> bytes:
            payload: dict[str, Any] = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [] if usage_body is not None else [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if usage_body is not None:
                payload["usage"] = usage_body
            return f"data: {json.dumps(payload)}\n\n".encode()

        await response.write(event({"role": "assistant", "content": ""}))
        pieces = list(step.chunks) if step.chunks is not None else _words(step.text)
        for sent, piece in enumerate(pieces):
            if step.drop_after_chunks is not None and sent >= step.drop_after_chunks:
                _drop(request)
            if step.end_after_chunks is not None and sent >= step.end_after_chunks:
                # A clean end of the HTTP body with no finish reason and no [DONE]: a stream cut short.
                await response.write_eof()
                return response
            await response.write(event({"content": piece}))
        for index, call in enumerate(step.tool_calls):
            tool_delta = {"index": index, **self._tool_call(index, call)}
            await response.write(event({"tool_calls": [tool_delta]}))
        await response.write(event({}, finish_reason))
        if usage is not None:
            await response.write(event({}, usage_body=_usage(*usage)))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        recorded = await self._record(request)
        refusal = self._unauthorized(recorded)
        if refusal is not None:
            return refusal
        step = self._next("embeddings")
        if isinstance(step, Fault):
            return await self._fault(request, step)
        if step is not None and step.delay:
            await asyncio.sleep(step.delay)
        body = recorded.body if isinstance(recorded.body, dict) else {}
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else [str(item) for item in inputs or []]
        dimensions = int(body.get("dimensions") or DEFAULT_DIMENSIONS)
        data = []
        for index, text in enumerate(texts):
            vector = self.embedding_for(text, dimensions)
            value: Any = vector
            if body.get("encoding_format") == "base64":
                value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": value})
        tokens = step.usage[0] if step is not None and step.usage else sum(_count_words(text) for text in texts)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": (step.model if step is not None else None) or str(body.get("model") or "stub-embed"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _models(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": m, "object": "model", "created": 0, "owned_by": "stub"} for m in self.models],
            }
        )


# Fixtures -----------------------------------------------------------------------------------------


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A fresh local OpenAI-compatible server for this test."""
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def openai_server_factory() -> Iterator[Any]:
    """Start as many extra servers as the test needs; all stop after it."""
    started: list[OpenAIServer] = []

    def start() -> OpenAIServer:
        server = OpenAIServer().start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@contextmanager
def gateway_on(base_url: str, settings: Any) -> Iterator[str]:
    """The server at `base_url` as the gateway's default provider, with Redis keys of its own; yields the prefix."""
    # `settings` is pytest-django's fixture, which puts every setting back after the test.
    from tests.redis_keys import redis_key_prefix

    with redis_key_prefix("test") as prefix:
        settings.OPENAI_BASE_URL = base_url
        settings.OPENAI_API_KEY = "sk-local-test"
        settings.DIT_GATEWAY_URL = ""
        settings.DIT_GATEWAY_REDIS_PREFIX = prefix
        yield prefix


@pytest.fixture
def gateway_on_openai_server(openai_server: OpenAIServer, settings: Any) -> Iterator[OpenAIServer]:
    """`openai_server` as the gateway's default provider, with Redis keys under a prefix of this test's own."""
    with gateway_on(openai_server.base_url, settings):
        yield openai_server
