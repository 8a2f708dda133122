"""Embedding providers behind one interface: the local MiniLM model (default) and the gateway's embed purpose.

Both return unit vectors of the deployment's dimension (DIT_EMBEDDING_DIMENSIONS), as float32 rows in
input order. Embedding is batch work: the archive job and the memory writers call it, never a reply.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, cast

import numpy as np
from asgiref.sync import async_to_sync
from django.conf import settings

from dit_project.errors import ConfigurationError
from memory.choices import EmbeddingProvider
from memory.embedding.minilm import Vectors, default_encoder


class Embedder(Protocol):
    """Turns texts into unit vectors of `dimensions`, in input order."""

    @property
    def name(self) -> str:
        """The model name recorded beside each vector."""
        ...

    @property
    def dimensions(self) -> int:
        """The length of every vector."""
        ...

    def embed(self, texts: Sequence[str], *, guild_id: str | None = None) -> Vectors:
        """One unit vector per text."""
        ...


@dataclass(frozen=True)
class LocalEmbedder:
    """all-MiniLM-L6-v2, offline, with numpy (memory.embedding.minilm)."""

    batch_size: int = 32
    threads: int = 1

    @property
    def name(self) -> str:
        """The model's name."""
        return default_encoder().name

    @property
    def dimensions(self) -> int:
        """384."""
        return default_encoder().dimensions

    def embed(self, texts: Sequence[str], *, guild_id: str | None = None) -> Vectors:
        """Unit vectors from the local model; `guild_id` is accepted for the common interface and unused."""
        return default_encoder().encode(texts, batch_size=self.batch_size, threads=self.threads)


@dataclass(frozen=True)
class GatewayEmbedder:
    """Any OpenAI-compatible embeddings endpoint, through the gateway (purpose `embed`, its policy and budget)."""

    dimensions: int
    batch_size: int = 64
    model: str | None = None
    name: str = "gateway:embed"

    def embed(self, texts: Sequence[str], *, guild_id: str | None = None) -> Vectors:
        """Unit vectors from the gateway, batched; a wrong dimension is a configuration error."""
        from gateway.client import embed

        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            # Embedding endpoints refuse empty strings; a lone space embeds as "nothing said".
            chunk = [text if text.strip() else " " for text in texts[start : start + self.batch_size]]
            result = async_to_sync(embed)(inputs=chunk, guild_id=guild_id, model=self.model, dimensions=self.dimensions)
            vectors = np.asarray(result.vectors, dtype=np.float32)
            if vectors.shape != (len(chunk), self.dimensions):
                raise ConfigurationError(
                    f"the embed purpose's model ({result.model}) returned vectors of shape {vectors.shape}; "
                    f"DIT_EMBEDDING_DIMENSIONS is {self.dimensions}: pick a model of that dimension"
                )
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            out[start : start + len(chunk)] = vectors / np.clip(norms, 1e-12, None)
        return out


def default_embedder() -> Embedder:
    """The embedder DIT_EMBEDDING_PROVIDER names; the local model unless set to `gateway`."""
    provider = settings.DIT_EMBEDDING_PROVIDER
    dimensions = int(settings.DIT_EMBEDDING_DIMENSIONS)
    if provider == EmbeddingProvider.LOCAL:
        local = LocalEmbedder(batch_size=settings.DIT_EMBEDDING_BATCH_SIZE, threads=settings.DIT_EMBEDDING_THREADS)
        if dimensions != local.dimensions:
            raise ConfigurationError(
                f"DIT_EMBEDDING_DIMENSIONS is {dimensions} but the local model gives {local.dimensions}: "
                "set it to 384 or use DIT_EMBEDDING_PROVIDER=gateway"
            )
        return local
    if provider == EmbeddingProvider.GATEWAY:
        return GatewayEmbedder(dimensions=dimensions, batch_size=settings.DIT_EMBEDDING_BATCH_SIZE)
    raise ConfigurationError(
        f"DIT_EMBEDDING_PROVIDER is {provider!r}; use one of: {', '.join(EmbeddingProvider.values)}"
    )


def embed_one(text: str, *, guild_id: str | None = None) -> Vectors:
    """The unit vector of one text (a search query), with the default embedder.

    Cached: one turn embeds its topic for the router's callback check, then again in each strategy that
    searches; the same words give the same vector, so only the first call pays. Calls for the same text at
    the same moment (research personas searching one topic on the host's database threads) wait for the
    first one's vector instead of each encoding it.
    """
    key = (text, guild_id, settings.DIT_EMBEDDING_PROVIDER, int(settings.DIT_EMBEDDING_DIMENSIONS))
    with _IN_FLIGHT_GUARD:
        lock = _IN_FLIGHT.setdefault(key, threading.Lock())
    try:
        with lock:
            vector = _embed_one_cached(*key)
    finally:
        with _IN_FLIGHT_GUARD:
            if _IN_FLIGHT.get(key) is lock:
                del _IN_FLIGHT[key]
    return vector.copy()


# One lock per text being embedded right now; a caller that waits on it then finds the vector cached.
_IN_FLIGHT: dict[tuple[str, str | None, str, int], threading.Lock] = {}
_IN_FLIGHT_GUARD = threading.Lock()


@lru_cache(maxsize=512)
def _embed_one_cached(text: str, guild_id: str | None, provider: str, dimensions: int) -> Vectors:
    vectors = default_embedder().embed([text], guild_id=guild_id)
    return cast(Vectors, vectors[0])
