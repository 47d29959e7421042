"""The index on disk: a directory holding a manifest, the document keys and their vectors.

Start-up loads the vectors when the manifest's content hash matches the knowledge; after a change only
texts with no stored vector are embedded. The manifest is written last, so a crash mid-save leaves a
directory whose manifest still names the previous, whole data folder.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from careerbot.files import replace_atomically
from careerbot.retrieval.documents import Document, content_hash
from careerbot.retrieval.encoder import Encoder, Vectors

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KEYS = "documents.json"
VECTORS = "vectors.npy"


@dataclass(frozen=True)
class IndexReport:
    documents: int
    embedded: int
    reused: int
    loaded: bool
    seconds: float

    def describe(self) -> str:
        if self.loaded:
            return f"index up to date: {self.documents} documents loaded in {self.seconds:.2f} s"
        return (
            f"index saved: {self.documents} documents, {self.embedded} embedded, "
            f"{self.reused} reused, in {self.seconds:.2f} s"
        )


def load_or_build(
    directory: Path,
    documents: list[Document],
    encoder: Encoder,
    show_progress: bool = False,
    force: bool = False,
) -> tuple[Vectors, IndexReport]:
    started = time.perf_counter()
    wanted_hash = content_hash(encoder.model_id, documents)
    stored = None if force else _read(directory, encoder)
    if stored is not None and stored.manifest["content_hash"] == wanted_hash:
        report = IndexReport(len(documents), 0, len(documents), True, time.perf_counter() - started)
        return stored.vectors, report

    known = stored.vectors_by_key() if stored is not None else {}
    missing = list(dict.fromkeys(doc.key for doc in documents if doc.key not in known))
    text_of = {doc.key: doc.text for doc in documents}
    if missing:
        fresh = encoder.encode_documents([text_of[key] for key in missing], show_progress=show_progress)
        known.update(zip(missing, fresh, strict=True))
    vectors = np.zeros((len(documents), encoder.dimension), dtype=np.float32)
    for row, doc in enumerate(documents):
        vectors[row] = known[doc.key]
    _write(directory, documents, vectors, encoder, wanted_hash)
    newly_embedded = set(missing)
    embedded = sum(1 for doc in documents if doc.key in newly_embedded)
    report = IndexReport(
        len(documents), embedded, len(documents) - embedded, False, time.perf_counter() - started
    )
    return vectors, report


@dataclass
class _Stored:
    manifest: dict[str, Any]
    keys: list[str]
    vectors: Vectors

    def vectors_by_key(self) -> dict[str, Vectors]:
        return dict(zip(self.keys, self.vectors, strict=True))


def _read(directory: Path, encoder: Encoder) -> _Stored | None:
    """The stored index if it is whole and made by this model; None means 'build afresh'."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        data = directory / str(manifest["data"])
        keys = json.loads((data / KEYS).read_text(encoding="utf-8"))
        vectors = np.load(data / VECTORS, allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    whole = (
        manifest.get("format") == FORMAT_VERSION
        and manifest.get("model") == encoder.model_id
        and manifest.get("dimension") == encoder.dimension
        and manifest.get("count") == len(keys) == len(vectors)
        and vectors.ndim == 2
        and vectors.shape[1] == encoder.dimension
    )
    return _Stored(manifest, keys, vectors.astype(np.float32, copy=False)) if whole else None


def _write(
    directory: Path, documents: list[Document], vectors: Vectors, encoder: Encoder, digest: str
) -> None:
    """Data goes to a folder named by its content; replacing the manifest is the one commit point."""
    data = directory / f"data-{digest[:16]}"
    data.mkdir(parents=True, exist_ok=True)
    replace_atomically(data / VECTORS, lambda f: np.save(f, vectors, allow_pickle=False))
    replace_atomically(data / KEYS, lambda f: f.write(json.dumps([d.key for d in documents]).encode()))
    manifest = {
        "format": FORMAT_VERSION,
        "model": encoder.model_id,
        "dimension": encoder.dimension,
        "count": len(documents),
        "content_hash": digest,
        "data": data.name,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    replace_atomically(directory / MANIFEST, lambda f: f.write(json.dumps(manifest, indent=2).encode()))
    for stale in directory.glob("data-*"):
        if stale != data:
            shutil.rmtree(stale, ignore_errors=True)
