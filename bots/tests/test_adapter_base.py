"""The platform-neutral adapter values and split_message."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from bots.adapters.base import (
    ChannelKind,
    ChannelRef,
    InboundMessage,
    MemberRef,
    MessageRef,
    OutputBeat,
    inbound_from_json,
    inbound_to_json,
    split_message,
)

WORDS = ["we", "could", "try", "the", "thing", "tonight", "maybe", "ok", "sure", "hmm", "Jen", "said", "so"]
ENDINGS = [".", "!", "?", "...", ".)", '."', ",", ";", ""]


def _random_text(rng: random.Random) -> str:
    """Prose with sentences, paragraphs, line breaks, odd spacing and the occasional word longer than any limit."""
    parts: list[str] = []
    for _ in range(rng.randint(0, 120)):
        roll = rng.random()
        if roll < 0.03:
            parts.append("x" * rng.randint(30, 400))
        elif roll < 0.08:
            parts.append(rng.choice(["\n", "\n\n", "\n \n", "\t"]))
        else:
            parts.append(rng.choice(WORDS) + rng.choice(ENDINGS))
        parts.append(rng.choice([" ", " ", " ", "  ", "\n"]))
    return "".join(parts)


def _non_space(text: str) -> str:
    return "".join(text.split())


def _without_fences(texts: list[str]) -> str:
    """The non-space characters of `texts`, leaving out fence lines (which splitting may add)."""
    lines = [line for text in texts for line in text.split("\n") if not line.strip().startswith("```")]
    return _non_space("".join(lines))


def test_split_message_keeps_every_chunk_within_the_limit_and_loses_no_characters():
    rng = random.Random(20240601)
    for _ in range(600):
        text = _random_text(rng)
        limit = rng.choice([16, 17, 23, 40, 64, 100, 257, 2000])
        chunks = split_message(text, limit)
        assert all(0 < len(chunk) <= limit for chunk in chunks), (text, limit, chunks)
        assert all(chunk == chunk.strip() for chunk in chunks)
        assert _non_space("".join(chunks)) == _non_space(text)


def test_split_message_preserves_the_words_when_no_word_exceeds_the_limit():
    rng = random.Random(7)
    for _ in range(600):
        text = " ".join(
            rng.choice(WORDS) + rng.choice(ENDINGS) + rng.choice(["", "", "\n", "\n\n"])
            for _ in range(rng.randint(0, 200))
        )
        limit = rng.choice([16, 30, 64, 150, 2000])
        chunks = split_message(text, limit)
        assert [word for chunk in chunks for word in chunk.split()] == text.split()
        assert all(len(chunk) <= limit for chunk in chunks)


def test_split_message_returns_short_text_unchanged_as_one_chunk():
    assert split_message("hello there.") == ["hello there."]


def test_split_message_gives_no_chunks_for_blank_text():
    assert split_message("") == []
    assert split_message("  \n\t ") == []


def test_split_message_cuts_a_long_text_at_sentence_boundaries():
    sentences = [f"Sentence {i} goes on for a little while before it stops." for i in range(80)]
    text = " ".join(sentences)
    chunks = split_message(text)

    assert len(text) > 4000
    assert len(chunks) == 3
    assert all(len(chunk) <= 2000 for chunk in chunks)
    assert all(chunk.endswith("stops.") for chunk in chunks)
    assert " ".join(chunks) == text


def test_split_message_prefers_a_paragraph_break_in_the_fuller_half():
    first = "First paragraph. " * 40
    text = first.strip() + "\n\n" + "Second paragraph runs on. " * 30
    chunks = split_message(text, 1000)

    assert chunks[0] == first.strip()
    assert chunks[1].startswith("Second paragraph")


def test_split_message_falls_back_to_words_then_to_a_hard_cut():
    no_sentences = " ".join(["word"] * 30)
    assert split_message(no_sentences, 20) == ["word word word word"] * 7 + ["word word"]
    assert split_message("a" * 45, 20) == ["a" * 20, "a" * 20, "a" * 5]


def test_split_message_closes_and_reopens_a_code_fence_cut_in_two():
    code = "\n".join(f"value_{i} = compute({i})" for i in range(60))
    text = f"Here is the script.\n```python\n{code}\n```\nThat is all."
    chunks = split_message(text, 400)

    assert len(chunks) > 2
    assert all(len(chunk) <= 400 for chunk in chunks)
    for chunk in chunks:
        assert chunk.count("```") % 2 == 0, chunk
    for chunk in chunks[1:-1]:
        assert chunk.startswith("```python\n")
    rebuilt = "\n".join(chunks)
    for i in range(60):
        assert f"value_{i} = compute({i})" in rebuilt


def test_split_message_keeps_fence_chunks_within_the_limit_for_many_inputs():
    rng = random.Random(99)
    for _ in range(300):
        lines = []
        for _ in range(rng.randint(1, 60)):
            if rng.random() < 0.1:
                lines.append("```" + rng.choice(["", "py", "js", "text"]))
            else:
                lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12))))
        limit = rng.choice([32, 64, 200])
        chunks = split_message("\n".join(lines), limit)
        assert all(0 < len(chunk) <= limit for chunk in chunks)
        assert _without_fences(chunks) == _without_fences(lines)


def test_split_message_rejects_a_limit_too_small_to_be_useful():
    with pytest.raises(ValueError, match="at least 16"):
        split_message("hello", 10)


def test_output_beat_requires_an_idempotency_key():
    with pytest.raises(ValueError, match="idempotency_key"):
        OutputBeat(text="hi", idempotency_key="")


def test_output_beat_refuses_blank_text():
    with pytest.raises(ValueError, match="blank"):
        OutputBeat(text=" \n ", idempotency_key="k")


def test_inbound_message_rejects_a_naive_timestamp():
    channel = ChannelRef(id="1")
    with pytest.raises(ValueError, match="timezone-aware"):
        InboundMessage(
            platform="local",
            message=MessageRef(channel=channel, id="2"),
            guild=None,
            channel=channel,
            author=MemberRef(id="3", display_name="alice"),
            content="hi",
            created_at=datetime(2025, 1, 1),  # noqa: DTZ001 - the point of the test
        )


def test_inbound_message_reads_dm_and_thread_from_its_channel():
    thread = ChannelRef(id="5", kind=ChannelKind.THREAD, parent_id="4", owner_id="9")
    message = InboundMessage(
        platform="local",
        message=MessageRef(channel=thread, id="6"),
        guild=None,
        channel=thread,
        author=MemberRef(id="3", display_name="alice"),
        content="hi",
        created_at=datetime.now(UTC),
    )

    assert message.is_thread
    assert not message.is_dm
    assert message.thread_owner_id == "9"


@pytest.mark.parametrize("account_created", [datetime(2026, 11, 30, 8, 0, tzinfo=UTC), None])
def test_a_claimed_message_comes_back_from_json_with_its_authors_account_age(account_created):
    channel = ChannelRef(id="1")
    message = InboundMessage(
        platform="discord",
        message=MessageRef(channel=channel, id="2"),
        guild=None,
        channel=channel,
        author=MemberRef(id="3", display_name="alice", role_ids=("r",), created_at=account_created),
        content="hi",
        created_at=datetime.now(UTC),
    )

    stored = json.loads(json.dumps(inbound_to_json(message)))

    assert inbound_from_json(stored) == message
