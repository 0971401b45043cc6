"""The embedding model of one process and the tenants' vectors it compares with (docs §17).

Loaded once per process before its routes and workers start (``on_start``): the model's
weights come with its package, loading reads them from disk in a thread.
"""

from __future__ import annotations

import asyncio

import numpy as np
import structlog

from canopy_analytics.adapters.embedder import Embedder, load_embedder
from canopy_analytics.adapters.vector_index import VectorIndex
from canopy_analytics.domain.similarity import Vector

log = structlog.get_logger(__name__)


class Semantics:
    """The model (``embedder``) and the vectors made with it (``index``), once loaded."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        self._embedder: Embedder | None = None
        self._index: VectorIndex | None = None
        self._loading = asyncio.Lock()

    async def load(self) -> None:
        """Load the model (once; later calls return at once)."""
        async with self._loading:
            if self._embedder is not None:
                return
            embedder = await asyncio.to_thread(load_embedder, self.model_name)
            self._index = VectorIndex(embedder.model, embedder.dim)
            self._embedder = embedder
            log.info("embedding model loaded", model=embedder.model, dim=embedder.dim)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            raise RuntimeError("the embedding model is not loaded yet")
        return self._embedder

    @property
    def index(self) -> VectorIndex:
        if self._index is None:
            raise RuntimeError("the embedding model is not loaded yet")
        return self._index

    async def query(self, text: str) -> Vector:
        """The vector of a search text (in a thread: the model is CPU work)."""
        vector = await asyncio.to_thread(self.embedder.query, text)
        return np.asarray(vector, dtype=np.float32)
