"""The ONNX export of the configured model, and the check that it gives sentence-transformers' vectors.

Imports torch and sentence-transformers (inside the functions): only `careerbot index`, or a process
that finds the export missing or stale, comes here.

With transformers 5, exporting the bare model fails (its positional arguments clash with `use_cache`),
so a small wrapper calls it with keyword arguments and does the mean pooling over the attention mask and
the L2 normalisation; the legacy exporter (dynamo=False, opset 17, dynamic batch and token axes) takes
it in under a second.
"""

from __future__ import annotations

import secrets
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from careerbot.config import ModelConfig
from careerbot.knowledge import KnowledgeBase
from careerbot.retrieval import onnx_encoder
from careerbot.retrieval.documents import documents_of
from careerbot.retrieval.encoder import Vectors, go_offline, model_source

# A vector of the export further than this from sentence-transformers' (cosine) stops the index build.
MIN_COSINE = 0.9999
# Checked at every export, so an export that is wrong for this model is never served, even unindexed.
PROBES = ("What does a machine learning engineer do?", "How do I deploy a model to production? " * 40)
# The texts of knowledge already checked against this export (sha256 keys, 32 bytes each).
VERIFIED_FILE = "verified.keys"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class ExportMismatch(Exception):
    """The ONNX export's vector for a text is further than MIN_COSINE from sentence-transformers'."""


def export_onnx(model: ModelConfig, folder: Path) -> None:
    """Writes the export of `model` into `folder` (replacing what is there), then checks it on PROBES."""
    go_offline()
    import torch
    from sentence_transformers import SentenceTransformer

    location, source_id = model_source(model)
    reference: Any = SentenceTransformer(location, device="cpu")
    transformer = reference[0]
    tokenizer = transformer.tokenizer
    inputs = [name for name in INPUTS if name in tokenizer.model_input_names]
    work = folder.parent / f".{folder.name}-{secrets.token_hex(6)}"
    work.mkdir(parents=True)
    try:
        sample = tokenizer(
            ["a question", "a longer question about the work"], padding=True, return_tensors="pt"
        )
        # The tracer warns about shape-dependent Python branches in transformers' masking code; the
        # probes below (a short text and one past the truncation length) check the result instead.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _mean_pooled(transformer.auto_model, inputs),
                tuple(sample[name] for name in inputs),
                str(work / onnx_encoder.MODEL_FILE),
                input_names=inputs,
                output_names=["embedding"],
                dynamic_axes={
                    **{name: {0: "batch", 1: "tokens"} for name in inputs},
                    "embedding": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        tokenizer.backend_tokenizer.save(str(work / onnx_encoder.TOKENIZER_FILE))
        prompts = getattr(reference, "prompts", None) or {}
        meta = {
            "source": source_id,
            "dimension": int(transformer.auto_model.config.hidden_size),
            "max_length": int(reference.max_seq_length),
            "inputs": inputs,
            "pad_id": int(tokenizer.pad_token_id or 0),
            "query_prompt": prompts.get("query", ""),
            "document_prompt": prompts.get("document", ""),
            "mismatch": None,
        }
        (folder / onnx_encoder.META_FILE).unlink(missing_ok=True)  # a half-replaced folder reads as stale
        folder.mkdir(parents=True, exist_ok=True)
        for name in (VERIFIED_FILE, onnx_encoder.INT8_FILE):
            (folder / name).unlink(missing_ok=True)
        for path in work.iterdir():
            path.replace(folder / path.name)
        onnx_encoder.write_meta(folder, meta)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    exported = onnx_encoder.OnnxEncoder(folder, source_id, False, threads=2, batch_size=model.batch_size)
    try:
        _compare(exported, reference, PROBES)
    except ExportMismatch as exc:
        onnx_encoder.write_meta(folder, {**meta, "mismatch": str(exc)})
        raise


def verify_export(
    model: ModelConfig,
    folder: Path,
    texts: Sequence[tuple[bytes, str]],
    keep: dict[str, Vectors] | None = None,
) -> int:
    """Checks the export's fp32 vectors against sentence-transformers' for the (key, text) pairs not yet
    checked against this export; returns how many were checked. A mismatch marks the export unusable and
    raises ExportMismatch naming the text and the cosine. The export's vectors of the checked texts go
    into `keep` (text -> row) when given, so that the index build need not compute them again."""
    verified = _verified(folder)
    unchecked = {key: text for key, text in texts if key not in verified}
    if not unchecked:
        return 0
    go_offline()
    from careerbot.retrieval.torch_encoder import SentenceTransformerEncoder

    source_id = model_source(model)[1]
    exported = onnx_encoder.OnnxEncoder(folder, source_id, False, threads=2, batch_size=model.batch_size)
    reference = SentenceTransformerEncoder(model)
    try:
        ours = _compare(exported, reference._model, list(unchecked.values()))
    except ExportMismatch as exc:
        meta = onnx_encoder.read_meta(folder) or {}
        onnx_encoder.write_meta(folder, {**meta, "mismatch": str(exc)})
        raise
    with (folder / VERIFIED_FILE).open("ab") as stream:
        stream.write(b"".join(unchecked))
    if keep is not None:
        keep.update(zip(unchecked.values(), ours, strict=True))
    return len(unchecked)


def verify_knowledge(
    model: ModelConfig, folder: Path, knowledge: KnowledgeBase, keep: dict[str, Vectors] | None = None
) -> int:
    """verify_export on every text of `knowledge` that an index embeds."""
    texts = [(doc.key, doc.text) for item in knowledge.items for doc in documents_of(item)]
    return verify_export(model, folder, texts, keep)


def _compare(exported: onnx_encoder.OnnxEncoder, reference: Any, texts: Sequence[str]) -> Vectors:
    """The export's vectors of `texts`, once each is within MIN_COSINE of sentence-transformers'."""
    ours = exported.encode_documents(texts)
    theirs = reference.encode_document(
        list(texts), normalize_embeddings=True, convert_to_numpy=True, batch_size=64
    ).astype(np.float32)
    cosines = np.einsum("ij,ij->i", ours, theirs)
    worst = int(np.argmin(cosines))
    if cosines[worst] < MIN_COSINE:
        text = texts[worst] if len(texts[worst]) <= 80 else texts[worst][:77] + "..."
        raise ExportMismatch(
            f"cosine {cosines[worst]:.6f} < {MIN_COSINE} between the ONNX and sentence-transformers "
            f"vectors of {text!r}"
        )
    return ours


def _verified(folder: Path) -> set[bytes]:
    try:
        data = (folder / VERIFIED_FILE).read_bytes()
    except FileNotFoundError:
        return set()
    return {data[i : i + 32] for i in range(0, len(data) - len(data) % 32, 32)}


def _mean_pooled(model: Any, inputs: Sequence[str]) -> Any:
    """The transformer with sentence-transformers' mean pooling and normalisation, as one torch module
    (defined here since torch is imported only when exporting)."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            named = dict(zip(inputs, tensors, strict=True))
            tokens = self.model(**named).last_hidden_state
            mask = named["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return MeanPooled().eval()
