"""Which encoder the settings open, and when an ONNX export is stale: no model needed."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from careerbot.config import ConfigError, ModelConfig, load_config
from careerbot.retrieval import onnx_encoder
from careerbot.retrieval.encoder import Vectors
from careerbot.retrieval.runtime import EXPORT_FOLDER, ReusingEncoder, check_export
from tests.fakes import FakeEncoder

REPO = Path(__file__).resolve().parents[2]


def write_export(folder: Path, source: str, mismatch: str | None = None) -> None:
    folder.mkdir(parents=True)
    (folder / onnx_encoder.MODEL_FILE).write_bytes(b"not read by these tests")
    (folder / onnx_encoder.TOKENIZER_FILE).write_text("{}")
    meta = {"source": source, "dimension": 384, "max_length": 256, "inputs": ["input_ids"], "pad_id": 0}
    onnx_encoder.write_meta(folder, {**meta, "query_prompt": "", "document_prompt": "", "mismatch": mismatch})


def test_the_export_beside_the_shipped_index_is_never_committed() -> None:
    folder = load_config(REPO / "bot.toml").index.dir / EXPORT_FOLDER
    for name in (onnx_encoder.MODEL_FILE, onnx_encoder.INT8_FILE, onnx_encoder.META_FILE):
        path = (folder / name).relative_to(REPO)
        ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=REPO, check=False)
        assert ignored.returncode == 0, f"{path} is not ignored by git"


def test_an_export_is_stale_when_missing_or_made_from_another_model(tmp_path: Path) -> None:
    folder = tmp_path / EXPORT_FOLDER
    assert "no ONNX export" in str(onnx_encoder.stale_reason(folder, "model==2"))
    write_export(folder, "model==1")
    assert (
        onnx_encoder.stale_reason(folder, "model==2")
        == f"the ONNX export in {folder} is of model==1, not model==2"
    )
    assert onnx_encoder.stale_reason(folder, "model==1") is None
    (folder / onnx_encoder.TOKENIZER_FILE).unlink()
    assert "no ONNX export" in str(onnx_encoder.stale_reason(folder, "model==1"))


def test_an_export_found_wrong_is_refused_with_the_way_out(tmp_path: Path) -> None:
    write_export(
        tmp_path / EXPORT_FOLDER, "model==1", mismatch="cosine 0.95 < 0.9999 ... of 'What is MLOps?'"
    )
    with pytest.raises(ConfigError, match=r"cosine 0\.95.*set model\.runtime = \"torch\""):
        onnx_encoder.OnnxEncoder(
            tmp_path / EXPORT_FOLDER, "model==1", quantised=False, threads=2, batch_size=8
        )


def test_only_an_onnx_encoder_is_checked_against_sentence_transformers(knowledge_dir: Path) -> None:
    assert check_export(FakeEncoder(), ModelConfig(runtime="torch"), knowledge_dir) == 0
    # Nothing to check, so the folder is not read: a missing one raises nothing.
    assert check_export(FakeEncoder(), ModelConfig(runtime="torch"), knowledge_dir / "missing") == 0


def test_the_tuned_model_of_the_export_must_exist(tmp_path: Path) -> None:
    from careerbot.retrieval.runtime import open_encoder

    with pytest.raises(ConfigError, match=r"model\.tuned: no model folder"):
        open_encoder(ModelConfig(tuned=tmp_path / "absent"), tmp_path / "index")
    assert not (tmp_path / "index").exists()


class CountingEncoder(FakeEncoder):
    """FakeEncoder that records which documents it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def encode_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vectors:
        self.embedded.extend(texts)
        return super().encode_documents(texts, show_progress)


def test_a_build_embeds_only_the_texts_the_export_check_did_not(knowledge_dir: Path) -> None:
    inner = CountingEncoder()
    texts = ["what do ml engineers do", "is a phd needed", "which cloud first"]
    known = {texts[0]: inner.encode_documents([texts[0]])[0] * 0 + 1 / np.sqrt(inner.dimension)}
    inner.embedded.clear()
    reusing = ReusingEncoder(inner, known)
    vectors = reusing.encode_documents(texts)
    assert inner.embedded == texts[1:]  # the known text is not computed again
    assert np.array_equal(vectors[0], known[texts[0]])  # and its row is the check's vector
    assert np.array_equal(vectors[1:], FakeEncoder().encode_documents(texts[1:]))
    assert reusing.model_id == inner.model_id and reusing.dimension == inner.dimension
