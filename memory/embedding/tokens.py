"""Token counting for context budgets, with the MiniLM WordPiece tokenizer: offline, bundled, deterministic.

It is not the synthesizer model's own tokenizer (none is bundled), so budgets are approximate by design: a
WordPiece count runs close to, and usually a little above, a BPE count for English chat.
"""

from __future__ import annotations

from functools import cache

from tokenizers import Tokenizer

from memory.embedding.minilm import load_tokenizer


def count_tokens(text: str) -> int:
    """Word pieces in `text`, special tokens excluded, with no truncation."""
    if not text:
        return 0
    return len(_counting_tokenizer().encode(text, add_special_tokens=False).ids)


def count_tokens_batch(texts: list[str]) -> list[int]:
    """Word pieces of each text, in order."""
    if not texts:
        return []
    return [len(e.ids) for e in _counting_tokenizer().encode_batch(texts, add_special_tokens=False)]


@cache
def _counting_tokenizer() -> Tokenizer:
    # A copy without truncation or padding: counting must see every piece of a long text.
    tokenizer = Tokenizer.from_str(load_tokenizer().to_str())
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
