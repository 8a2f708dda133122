"""The local OpenAI server itself: what other apps' tests rely on."""

import base64
import struct
import threading

import httpx
import openai
import pytest

from tests.servers.openai_server import Fault, OpenAIServer, Reply


@pytest.fixture
def sdk(openai_server):
    with openai.OpenAI(base_url=openai_server.base_url, api_key="sk-x", max_retries=0, timeout=3) as client:
        yield client


def ask(sdk, **kwargs):
    return sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi there"}], **kwargs)


def test_queued_replies_are_answered_in_order_then_the_default(openai_server, sdk):
    openai_server.queue(Reply(text="first"), Reply(text="second"))
    openai_server.default_reply = Reply(text="default")

    assert [ask(sdk).choices[0].message.content for _ in range(3)] == ["first", "second", "default"]


def test_every_request_is_recorded_with_headers_and_body(openai_server, sdk):
    ask(sdk, extra_headers={"x-dit-purpose": "extract"}, temperature=0.5)

    (request,) = openai_server.chat_requests
    assert request.method == "POST"
    assert request.headers["x-dit-purpose"] == "extract"
    assert request.headers["authorization"] == "Bearer sk-x"
    assert request.body["temperature"] == 0.5


def test_usage_counts_words_unless_scripted(openai_server, sdk):
    openai_server.queue_reply("three word reply")
    openai_server.queue_reply("x", usage=(40, 2))

    counted, scripted = ask(sdk).usage, ask(sdk).usage

    assert (counted.prompt_tokens, counted.completion_tokens) == (2, 3)
    assert (scripted.prompt_tokens, scripted.completion_tokens) == (40, 2)


def test_a_streamed_reply_can_drop_mid_way(openai_server, sdk):
    openai_server.queue_reply("a b c", drop_after_chunks=1)

    received: list[str | None] = []
    stream = ask(sdk, stream=True)
    with pytest.raises(httpx.RemoteProtocolError):
        received.extend(chunk.choices[0].delta.content for chunk in stream)

    assert received == ["", "a"]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(status=429, retry_after=7), openai.RateLimitError),
        (Fault(status=503), openai.InternalServerError),
        (Fault(status=400, message="bad"), openai.BadRequestError),
        (Fault(drop=True), openai.APIConnectionError),
    ],
)
def test_faults_reach_the_client_as_the_real_api_would_send_them(openai_server, sdk, fault, error):
    openai_server.queue(fault)

    with pytest.raises(error) as caught:
        ask(sdk)

    if fault.retry_after is not None:
        assert caught.value.response.headers["retry-after"] == "7"


def test_a_slow_reply_times_the_client_out(openai_server):
    openai_server.queue_slow(3)

    with (
        openai.OpenAI(base_url=openai_server.base_url, api_key="k", max_retries=0, timeout=0.3) as client,
        pytest.raises(openai.APITimeoutError),
    ):
        ask(client)


def test_embeddings_are_deterministic_in_float_and_base64(openai_server, sdk):
    floats = sdk.embeddings.create(model="e", input=["word"], encoding_format="float").data[0].embedding
    raw = httpx.post(f"{openai_server.base_url}/embeddings", json={"input": "word", "encoding_format": "base64"})
    packed = base64.b64decode(raw.json()["data"][0]["embedding"])

    assert floats == openai_server.embedding_for("word")
    assert list(struct.unpack(f"<{len(packed) // 4}f", packed)) == floats
    assert openai_server.embedding_for("word") != openai_server.embedding_for("other")


def test_the_server_serves_other_threads_while_the_test_thread_scripts_it(openai_server):
    openai_server.default_reply = Reply(text="threaded")
    answers = []

    def call():
        with openai.OpenAI(base_url=openai_server.base_url, api_key="k", max_retries=0) as client:
            answers.append(ask(client).choices[0].message.content)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert answers == ["threaded"] * 4
    assert len(openai_server.requests) == 4


def test_reset_forgets_requests_and_queued_steps(openai_server, sdk):
    openai_server.queue_reply("queued")
    ask(sdk)
    openai_server.queue_reply("left over")

    openai_server.reset()

    assert openai_server.requests == []
    assert ask(sdk).choices[0].message.content == "ok"


def test_a_server_runs_outside_pytest_as_a_context_manager():
    with OpenAIServer() as server:
        assert httpx.get(f"{server.base_url}/models").json()["data"][0]["id"] == "stub-model"
