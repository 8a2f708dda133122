"""The local embedder matches sentence-transformers' own vectors, needs no torch, and works with no network."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dit_project.errors import ConfigurationError
from memory.embedding.minilm import MAX_SEQ_LENGTH, default_encoder, load_tokenizer
from memory.embedding.providers import GatewayEmbedder, LocalEmbedder, default_embedder
from memory.embedding.tokens import count_tokens, count_tokens_batch

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "data" / "minilm-golden.json"


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text())


def test_every_golden_vector_is_matched_at_cosine_0_9999_or_more(golden):
    texts = [item["text"] for item in golden["items"]]
    reference = np.array([item["vector"] for item in golden["items"]], dtype=np.float64)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    ours = default_encoder().encode(texts, batch_size=16).astype(np.float64)
    cosines = (ours * reference).sum(axis=1)
    worst = int(np.argmin(cosines))
    assert len(texts) == 124
    assert cosines.min() >= 0.9999, f"text {texts[worst]!r} only reaches {cosines[worst]:.6f}"


def test_vectors_are_unit_length_and_batching_does_not_change_them(golden):
    texts = [item["text"] for item in golden["items"][:20]]
    one_by_one = np.stack([default_encoder().encode([text])[0] for text in texts])
    batched = default_encoder().encode(texts, batch_size=7)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert np.allclose(one_by_one, batched, atol=1e-5)


def test_long_text_is_truncated_at_256_pieces():
    encoding = load_tokenizer().encode("word " * 1000)
    assert len(encoding.ids) == MAX_SEQ_LENGTH
    longer = default_encoder().encode(["word " * 1000, "word " * 400])
    assert np.allclose(longer[0], longer[1], atol=1e-6)


def test_empty_input_gives_an_empty_matrix():
    assert default_encoder().encode([]).shape == (0, 384)
    with pytest.raises(TypeError):
        default_encoder().encode("a string, not a list")


def test_torch_and_sentence_transformers_are_not_installed():
    assert importlib.util.find_spec("torch") is None
    assert importlib.util.find_spec("sentence_transformers") is None
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-model.txt"):
        lines = [line for line in (ROOT / name).read_text().splitlines() if not line.lstrip().startswith("#")]
        assert not any(re.match(r"\s*(torch|sentence-transformers)\b", line) for line in lines), name


def test_no_project_module_imports_torch():
    pattern = re.compile(r"^\s*(import|from)\s+(torch|sentence_transformers)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if not {".venv", ".dit", "node_modules"} & set(path.parts) and pattern.search(path.read_text())
    ]
    assert offenders == []


def test_encoder_and_token_counter_run_with_the_network_cut_off():
    # A fresh interpreter whose sockets all fail: loading the model and counting tokens must not need them.
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "import sys\n"
        "from memory.embedding.minilm import MiniLMEncoder\n"
        "from memory.embedding.tokens import count_tokens\n"
        "vector = MiniLMEncoder().encode(['offline please'])[0]\n"
        "assert abs(float((vector * vector).sum()) - 1.0) < 1e-4\n"
        "assert count_tokens('hello world') == 2\n"
        "assert 'torch' not in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "0", "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_token_counts_see_every_piece_of_a_long_text():
    assert count_tokens("") == 0
    assert count_tokens("hello world " * 500) == 1000
    assert count_tokens_batch(["hello", "hello world"]) == [1, 2]


def test_default_provider_is_local_and_a_bad_setting_is_named(settings):
    assert isinstance(default_embedder(), LocalEmbedder)
    settings.DIT_EMBEDDING_PROVIDER = "gateway"
    assert isinstance(default_embedder(), GatewayEmbedder)
    settings.DIT_EMBEDDING_PROVIDER = "nope"
    with pytest.raises(ConfigurationError, match="DIT_EMBEDDING_PROVIDER"):
        default_embedder()
    settings.DIT_EMBEDDING_PROVIDER = "local"
    settings.DIT_EMBEDDING_DIMENSIONS = 768
    with pytest.raises(ConfigurationError, match="DIT_EMBEDDING_DIMENSIONS"):
        default_embedder()


def test_one_text_embedded_by_several_threads_at_once_is_encoded_once(monkeypatch):
    import threading
    import time

    from memory.embedding import providers

    class Counting:
        def __init__(self) -> None:
            self.calls: list[list[str]] = []

        def embed(self, texts, *, guild_id=None):
            self.calls.append(list(texts))
            time.sleep(0.05)  # long enough that every thread asks while the first is still encoding
            return default_embedder().embed(texts)

    counting = Counting()
    monkeypatch.setattr(providers, "default_embedder", lambda: counting)
    providers._embed_one_cached.cache_clear()
    vectors: list[np.ndarray] = []
    start = threading.Barrier(4)

    def ask(text: str) -> None:
        start.wait()
        vectors.append(providers.embed_one(text))

    threads = [
        threading.Thread(target=ask, args=(t,)) for t in ["ferry strike", "ferry strike", "ferry strike", "ribs"]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    providers._embed_one_cached.cache_clear()

    assert sorted(map(tuple, counting.calls)) == [("ferry strike",), ("ribs",)]
    assert len(vectors) == 4
    assert not providers._IN_FLIGHT
