"""Nearest-neighbour search over unit vectors. The only module that imports faiss."""

from __future__ import annotations

import faiss
import numpy as np

from careerbot.retrieval.encoder import Vectors


class VectorIndex:
    """Exact inner-product search: on unit vectors, the scores are cosine similarities."""

    def __init__(self, vectors: Vectors) -> None:
        if vectors.ndim != 2:
            raise ValueError("vectors must be a 2-D array")
        self.dimension = int(vectors.shape[1])
        self._index = faiss.IndexFlatIP(self.dimension)
        if len(vectors):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, queries: Vectors, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and row numbers, best first, one row per query; -1 marks a missing hit."""
        k = max(1, min(k, len(self)))
        scores, rows = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, rows
