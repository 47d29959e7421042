"""The encoder on sentence-transformers and torch (bot.toml `model.runtime = "torch"`): about 5 s and
500 MB to import, so it is imported only where it is used. Also the reference `careerbot index` checks
the ONNX export against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from careerbot.config import ModelConfig
from careerbot.retrieval.encoder import Vectors, go_offline, model_source


class SentenceTransformerEncoder:
    def __init__(self, config: ModelConfig) -> None:
        go_offline()
        from sentence_transformers import SentenceTransformer

        location, self._model_id = model_source(config)
        self._model: Any = SentenceTransformer(location, device="cpu")
        self._batch_size = config.batch_size
        # Renamed in sentence-transformers 6; the old name warns there.
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dimension = get_dimension()
        if not dimension:
            raise ValueError(f"model {config.name!r} does not report an embedding dimension")
        self._dimension = int(dimension)

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(self._model.encode_query, texts, show_progress=False)

    def encode_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vectors:
        return self._encode(self._model.encode_document, texts, show_progress)

    def _encode(self, method: Any, texts: Sequence[str], show_progress: bool) -> Vectors:
        vectors = method(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self._dimension)
