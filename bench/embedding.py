"""Embedding bench: throughput of the local all-MiniLM-L6-v2 (numpy) batched and one text at a time,
beside the tokenizer alone (the floor any encoder pays), in one run.

    .venv/bin/python bench/embedding.py [--texts 512] [--no-write]

Texts are chat lines of 3 to 30 words (the archive's usual shape) plus a few long ones that hit the
256-piece truncation. The results replace the `## Embedding` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from bench.report import machine, publish  # noqa: E402
from memory.embedding.minilm import default_encoder, load_tokenizer  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
_WORD_TEXT = (
    "the bakery game night rust tabs spaces pizza deploy server cat dog trip lake cabin band gig chess "
    "roof garden tomato podcast episode job offer promotion marathon keyboard switches french streak "
    "truck menu lol honestly tomorrow friday weekend coffee train late rain summer winter book film music"
)
WORDS = _WORD_TEXT.split()


def texts(count: int) -> list[str]:
    """Chat-shaped lines, one in fifty long enough to be truncated."""
    rng = random.Random(7)
    out = []
    for n in range(count):
        length = 400 if n % 50 == 49 else rng.randint(3, 30)
        out.append(" ".join(rng.choice(WORDS) for _ in range(length)))
    return out


def timed(work, items: Sequence[str]) -> float:
    """Texts per second of `work` over `items`."""
    started = time.perf_counter()
    work(items)
    return len(items) / (time.perf_counter() - started)


def main(argv: Sequence[str]) -> int:
    """Warm up, measure each path, print and record."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--docs", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    encoder = default_encoder()
    tokenizer = load_tokenizer()
    lines = texts(args.texts)
    encoder.encode(lines[:8])
    tokens = timed(tokenizer.encode_batch, lines)
    rates = {
        size: timed(lambda items, size=size: encoder.encode(items, batch_size=size), lines) for size in (8, 32, 64)
    }
    single = timed(lambda items: [encoder.encode([item]) for item in items], lines[: max(16, args.texts // 8)])
    section = "\n".join(
        [
            "## Embedding",
            "",
            "`.venv/bin/python bench/embedding.py`: the local all-MiniLM-L6-v2 run with numpy (no torch), "
            f"{args.texts} chat lines of 3 to 30 words (one in fifty truncated at 256 pieces), batched and one at a "
            "time, beside the tokenizer alone in the same run.",
            "",
            f"- Machine: {machine()}",
            f"- Run: {timezone.now():%Y-%m-%d %H:%M} UTC.",
            "",
            "| path | texts/s | vs tokenizer alone |",
            "|---|---:|---:|",
            f"| tokenizer alone (baseline) | {tokens:,.0f} | 1.0x |",
            *[f"| encode, batch {size} | {rate:,.0f} | {tokens / rate:,.0f}x slower |" for size, rate in rates.items()],
            f"| encode, one text at a time | {single:,.0f} | {tokens / single:,.0f}x slower |",
            "",
            f"- Batched at 8 (the default DIT_EMBEDDING_BATCH_SIZE): {rates[8]:,.0f} texts/s; one at a time "
            f"(a search query): {1000 / single:.1f} ms per text.",
        ]
    )
    publish(section + "\n", docs=None if args.no_write else args.docs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
