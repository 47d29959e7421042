"""Nearest-neighbour search over unit vectors. The only module that imports faiss.

Small indexes are exact (a flat inner-product scan: on unit vectors, the scores are cosines). Above
`approximate_above` texts the scan's time, which grows with the size, is replaced by an HNSW graph, whose
search time barely does; its recall against exact search is measured in benchmarks/ann_choice.py.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from careerbot.config import IndexConfig
from careerbot.retrieval.encoder import Vectors

ADD_CHUNK = 50_000


class VectorIndex:
    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        # Read once: each answer asks (an exact index never returns -1 rows), and right after the model
        # call even an isinstance check on a faiss class is a few cache misses.
        self.approximate = not isinstance(index, faiss.IndexFlat)

    @classmethod
    def build(
        cls, vectors: Vectors, settings: IndexConfig | None = None, show_progress: bool = False
    ) -> VectorIndex:
        if vectors.ndim != 2:
            raise ValueError("vectors must be a 2-D array")
        dimension = int(vectors.shape[1])
        index: faiss.Index
        if settings is not None and len(vectors) > settings.approximate_above:
            index = faiss.IndexHNSWFlat(dimension, settings.hnsw_neighbours, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = settings.hnsw_search_depth
        else:
            index = faiss.IndexFlatIP(dimension)
        # In chunks, for the progress bar: an HNSW graph over 700k texts takes minutes to build.
        chunks = range(0, len(vectors), ADD_CHUNK)
        for start in tqdm(chunks, desc="indexing", unit=" chunks", disable=not show_progress):
            index.add(np.ascontiguousarray(vectors[start : start + ADD_CHUNK], dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, path: Path, settings: IndexConfig | None = None) -> VectorIndex:
        # Memory-mapped, not read: start-up costs the same at 1 GB of vectors as at 1 MB. The files
        # are never modified once written, so mapping them is safe.
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        if settings is not None and isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = settings.hnsw_search_depth
        return cls(index)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, queries: Vectors, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and row numbers, best first, one row per query; -1 marks a missing hit."""
        k = max(1, min(k, len(self)))
        scores, rows = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, rows

    def vectors(self) -> Vectors:
        """Every stored vector, in row order (to reuse them when the index is rebuilt)."""
        stored: Vectors = self._index.reconstruct_n(0, len(self))
        return stored
