"""The encoder on ONNX Runtime (bot.toml `model.runtime = "onnx"` or `"onnx-int8"`): no torch, so a
process gives its first vector about 0.2 s after it starts instead of 5 s.

It runs the export retrieval.onnx_export made beside the index: the transformer with sentence-transformers'
mean pooling and L2 normalisation inside the graph, tokenised by the `tokenizers` package from the model's
own tokenizer.json, so the vectors equal sentence-transformers' (1 - cosine below 1e-7). The int8 variant
is quantised from the fp32 file on first use (no torch needed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from careerbot.config import ConfigError
from careerbot.files import replace_atomically
from careerbot.retrieval.encoder import Vectors

MODEL_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
# Written last by an export: which model the files came from, and how to feed them.
META_FILE = "export.json"
# int8 vectors move (lowest cosine to fp32 about 0.96), so an index embedded with them is a different one.
INT8_SUFFIX = "+onnx-int8"


def read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def stale_reason(folder: Path, source_id: str) -> str | None:
    """Why the export in `folder` cannot serve the model `source_id`, or None if it can."""
    meta = read_meta(folder)
    if meta is None or not (folder / MODEL_FILE).is_file() or not (folder / TOKENIZER_FILE).is_file():
        return f"no ONNX export of the model in {folder}"
    if meta.get("source") != source_id:
        return f"the ONNX export in {folder} is of {meta.get('source')}, not {source_id}"
    return None


class OnnxEncoder:
    def __init__(self, folder: Path, source_id: str, quantised: bool, threads: int, batch_size: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        meta = read_meta(folder)
        if meta is None or meta.get("source") != source_id:
            raise ConfigError(
                f"model.runtime: no ONNX export of {source_id} in {folder} (run `careerbot index`)"
            )
        if meta.get("mismatch"):
            raise ConfigError(
                f"model.runtime: the ONNX export of {source_id} does not give sentence-transformers' vectors "
                f'({meta["mismatch"]}); set model.runtime = "torch" in bot.toml'
            )
        path = folder / MODEL_FILE
        if quantised:
            path = folder / INT8_FILE
            if not path.is_file():
                quantise(folder / MODEL_FILE, path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings about unused initialisers are noise
        # Its worker threads otherwise spin after each call, waiting for the next: on 2 shared cores they
        # then starve the rest of the answer (faiss, the ranking) and the other processes. Measured while
        # the machine was busy: 9.7 ms per short question without spinning, 73 ms with.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.no_padding()  # each batch is padded to its own longest text below
        self._tokenizer.enable_truncation(int(meta["max_length"]))
        self._inputs: list[str] = list(meta["inputs"])
        self._pad_id = int(meta["pad_id"])
        self._query_prompt, self._document_prompt = str(meta["query_prompt"]), str(meta["document_prompt"])
        self.dimension = int(meta["dimension"])
        self._batch_size = batch_size
        self.folder = folder
        # fp32 keeps the source model's id, since its vectors are the same: an index built on torch stays.
        self.model_id = source_id + INT8_SUFFIX if quantised else source_id

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        # One member's question: nothing to sort or gather (0.17 ms faster alone, within noise in an answer).
        if len(texts) == 1:
            return self._run([self._query_prompt + texts[0]])
        return self._encode([self._query_prompt + text for text in texts], show_progress=False)

    def encode_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vectors:
        return self._encode([self._document_prompt + text for text in texts], show_progress)

    def _encode(self, texts: list[str], show_progress: bool) -> Vectors:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Texts of like length share a batch, as in sentence-transformers: less padding to compute.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        starts: Iterable[int] = range(0, len(texts), self._batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            rows = order[start : start + self._batch_size]
            vectors[rows] = self._run([texts[i] for i in rows])
        return vectors

    def _run(self, texts: list[str]) -> Vectors:
        encodings = (
            self._tokenizer.encode_batch(texts) if len(texts) > 1 else [self._tokenizer.encode(texts[0])]
        )
        width = max(len(encoding.ids) for encoding in encodings)
        arrays = {
            "input_ids": np.full((len(texts), width), self._pad_id, dtype=np.int64),
            "attention_mask": np.zeros((len(texts), width), dtype=np.int64),
            "token_type_ids": np.zeros((len(texts), width), dtype=np.int64),
        }
        for row, encoding in enumerate(encodings):
            length = len(encoding.ids)
            arrays["input_ids"][row, :length] = encoding.ids
            arrays["attention_mask"][row, :length] = encoding.attention_mask
            arrays["token_type_ids"][row, :length] = encoding.type_ids
        (vectors,) = self._session.run(None, {name: arrays[name] for name in self._inputs})
        return np.asarray(vectors, dtype=np.float32)


def quantise(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the weights (activations stay float, scaled per call)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_name(target.name + ".partial")
    quantize_dynamic(source, partial, weight_type=QuantType.QInt8)
    partial.replace(target)


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    replace_atomically(folder / META_FILE, lambda f: f.write(json.dumps(meta, indent=2).encode()))
