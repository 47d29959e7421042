"""A deterministic stand-in for the sentence-transformers model: fast, offline, no torch.

Texts that share words (or word pieces) get similar vectors, which is enough to test everything
around the model; retrieval *quality* is judged on the real model in test_retrieval_quality.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from careerbot.retrieval.encoder import Vectors

DIMENSION = 256


class FakeEncoder:
    def __init__(self, model_id: str = "fake-hashing-v1") -> None:
        self._model_id = model_id
        self.encoded: list[str] = []  # every text it was asked to embed, for tests of re-embedding

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return DIMENSION

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return np.stack([_embed(text) for text in texts]) if texts else np.zeros((0, DIMENSION), np.float32)

    def encode_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vectors:
        self.encoded += list(texts)
        return self.encode_queries(texts)


def _embed(text: str) -> np.ndarray:
    vector = np.zeros(DIMENSION, dtype=np.float32)
    for word in re.findall(r"\w+", text.lower()):
        for feature in (word, *(word[i : i + 4] for i in range(max(1, len(word) - 3)))):
            digest = hashlib.blake2b(feature.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % DIMENSION] += 1.0
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:  # no words at all (emoji only): a fixed direction that matches nothing in particular
        vector[0], norm = 1.0, 1.0
    return vector / norm
