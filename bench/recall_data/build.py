"""Write conversations.json and questions.json from source.py (deterministic: the same files every run).

    python bench/recall_data/build.py

Every session is an evening of chatter across channels with the session's events placed in it; each
event's replies follow it within a few messages. A quarter of the questions (every fourth) is held back:
nothing in memory_search may be tuned on them, and bench/recall.py reports both parts.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from bench.recall_data.source import (  # noqa: E402
    CHANNELS,
    CHATTER,
    EVENTS,
    EXTRA_QUESTIONS,
    FIRST_SESSION,
    PEOPLE,
    SESSION_COUNT,
    SESSION_SPACING_DAYS,
)

MESSAGES_PER_SESSION = 46
HELD_BACK_EVERY = 4


def build() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The messages and the questions."""
    rng = random.Random(2026)
    people = list(PEOPLE)
    first = datetime.fromisoformat(FIRST_SESSION)
    messages: list[dict[str, object]] = []
    where: dict[tuple[str, str], str] = {}
    for session in range(SESSION_COUNT):
        events = [event for event in EVENTS if event["session"] == session]
        lines: list[tuple[str, str, str, tuple[str, str] | None]] = []
        for _ in range(MESSAGES_PER_SESSION - sum(1 + len(e["replies"]) for e in events)):
            channel = rng.choice(["c-general", "c-general", "c-random", *[e["channel"] for e in events]])
            lines.append((channel, rng.choice(people), rng.choice(CHATTER), None))
        for event in events:
            at = rng.randrange(0, len(lines) + 1)
            block = [(event["channel"], event["author"], event["text"], (event["key"], "m"))]
            for index, (author, text) in enumerate(event["replies"]):
                block.append((event["channel"], author, text, (event["key"], f"r{index}")))
            # Replies come within a few messages of what they answer, not always right after.
            for offset, line in enumerate(block):
                lines.insert(min(len(lines), at + offset * rng.randint(1, 2)), line)
        clock = first + timedelta(days=SESSION_SPACING_DAYS * session)
        for n, (channel, author, text, role) in enumerate(lines):
            clock += timedelta(seconds=rng.randint(40, 240))
            message_id = f"s{session:02d}-{n:03d}"
            messages.append(
                {
                    "id": message_id,
                    "session": session,
                    "channel_id": channel,
                    "channel_name": CHANNELS[channel],
                    "author_id": author,
                    "author_name": PEOPLE[author],
                    "text": text,
                    "at": clock.isoformat(),
                }
            )
            if role is not None:
                where[role] = message_id
    questions: list[dict[str, object]] = []
    extra: dict[str, list[tuple[str, str, list[str]]]] = {str(e["key"]): [] for e in EVENTS}
    for key, kind, question, evidence in EXTRA_QUESTIONS:
        extra[key].append((kind, question, evidence))
    for event in EVENTS:
        for kind, question, evidence in [*event["questions"], *extra[event["key"]]]:
            ids = []
            for ref in evidence:
                if ref.startswith("other:"):
                    _, key, part = ref.split(":")
                    ids.append(where[(key, part)])
                else:
                    ids.append(where[(event["key"], ref)])
            number = len(questions)
            questions.append(
                {
                    "id": f"q{number:03d}",
                    "kind": kind,
                    "question": question,
                    "evidence": ids,
                    "held_back": number % HELD_BACK_EVERY == HELD_BACK_EVERY - 1,
                }
            )
    return messages, questions


def main() -> None:
    """Write both files and say how much they hold."""
    messages, questions = build()
    (HERE / "conversations.json").write_text(json.dumps({"people": PEOPLE, "messages": messages}, indent=1) + "\n")
    (HERE / "questions.json").write_text(json.dumps(questions, indent=1, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for question in questions:
        kinds[str(question["kind"])] = kinds.get(str(question["kind"]), 0) + 1
    sessions = len({m["session"] for m in messages})
    held = sum(1 for q in questions if q["held_back"])
    print(f"{len(messages)} messages over {sessions} sessions; {len(questions)} questions {kinds}, {held} held back")


if __name__ == "__main__":
    main()
