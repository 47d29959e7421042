"""Opens the encoder bot.toml's `model.runtime` names, making the ONNX export first if it is missing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from careerbot.config import ModelConfig
from careerbot.knowledge import load_knowledge
from careerbot.retrieval import onnx_encoder
from careerbot.retrieval.encoder import Encoder, Vectors, model_source

# The ONNX export lives in this folder under index.dir: made from the installed model, never committed.
EXPORT_FOLDER = "encoder"

log = logging.getLogger(__name__)


def open_encoder(model: ModelConfig, index_dir: Path) -> Encoder:
    """The encoder bot.toml asks for. With an ONNX runtime, a missing or stale export (of another model,
    or of an older version of it) is made first: that imports torch once, in this process only."""
    if model.runtime == "torch":
        from careerbot.retrieval.torch_encoder import SentenceTransformerEncoder

        return SentenceTransformerEncoder(model)
    folder = index_dir / EXPORT_FOLDER
    source_id = model_source(model)[1]
    stale = onnx_encoder.stale_reason(folder, source_id)
    if stale is not None:
        from careerbot.retrieval.onnx_export import export_onnx

        log.warning("careerbot: %s; exporting the model to ONNX (imports torch, about 10 s, once)", stale)
        export_onnx(model, folder)
    return onnx_encoder.OnnxEncoder(
        folder,
        source_id,
        quantised=model.runtime == "onnx-int8",
        threads=model.threads,
        batch_size=model.batch_size,
    )


def check_export(
    encoder: Encoder, model: ModelConfig, knowledge_dir: Path, keep: dict[str, Vectors] | None = None
) -> int:
    """For an ONNX encoder: checks its export against sentence-transformers on every text of the knowledge
    in `knowledge_dir` not checked before (imports torch if there is any), raising
    onnx_export.ExportMismatch if one differs. Returns how many texts were checked; their fp32 export
    vectors go into `keep` when given. Any other encoder needs no check, so the folder is not even read."""
    if not isinstance(encoder, onnx_encoder.OnnxEncoder):
        return 0
    from careerbot.retrieval.onnx_export import verify_knowledge

    return verify_knowledge(model, encoder.folder, load_knowledge(knowledge_dir), keep)


class ReusingEncoder:
    """`encoder`, except that documents whose vectors are already `known` are not computed again: a first
    index build would otherwise run the model over every text twice (once to check the export, once to
    index), about half of its time. Only for a runtime whose vectors `known` are (fp32 ONNX)."""

    def __init__(self, encoder: Encoder, known: dict[str, Vectors]) -> None:
        self._encoder = encoder
        self._known = known

    @property
    def model_id(self) -> str:
        return self._encoder.model_id

    @property
    def dimension(self) -> int:
        return self._encoder.dimension

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encoder.encode_queries(texts)

    def encode_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vectors:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        missing = []
        for row, text in enumerate(texts):
            known = self._known.get(text)
            if known is None:
                missing.append(row)
            else:
                vectors[row] = known
        if missing:
            vectors[missing] = self._encoder.encode_documents([texts[row] for row in missing], show_progress)
        return vectors
