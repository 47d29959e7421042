"""Keyword scores (BM25, from the bm25s library) for the short keyword questions embeddings miss."""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np
from numpy.typing import NDArray


class LexicalIndex:
    def __init__(self, texts: Sequence[str]) -> None:
        self._tokenizer = bm25s.tokenization.Tokenizer(stopwords="en")
        ids = self._tokenizer.tokenize(list(texts), update_vocab=True, return_as="ids", show_progress=False)
        self._bm25 = bm25s.BM25()
        self._bm25.index(ids, show_progress=False)
        self._size = len(texts)

    def scores(self, query: str) -> NDArray[np.float32]:
        """One BM25 score per indexed text, scaled so the best is 1 (all zero when no word matches)."""
        ids = self._tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)
        raw = np.asarray(self._bm25.get_scores(ids[0]), dtype=np.float32) if ids and ids[0] else None
        if raw is None or raw.size != self._size or float(raw.max()) <= 0.0:
            return np.zeros(self._size, dtype=np.float32)
        scaled: NDArray[np.float32] = raw / raw.max()
        return scaled
