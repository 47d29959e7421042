"""The ONNX Runtime encoder on the real model: same vectors as sentence-transformers, no torch in the
answering processes, a stale export remade, a wrong one stopping the index build.

The export is made once per session (imports torch, about 10 s); each test gets its own index folder
with the export's files linked into it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from careerbot.config import ConfigError, ModelConfig
from careerbot.retrieval import onnx_encoder
from careerbot.retrieval.encoder import model_source
from careerbot.retrieval.onnx_export import VERIFIED_FILE, export_onnx
from careerbot.retrieval.runtime import EXPORT_FOLDER

pytestmark = pytest.mark.model
REPO = Path(__file__).resolve().parents[2]
QUESTIONS = ["What does a machine learning engineer do?", "sklearn uses", "Wie viel verdient man? " * 100]
# Prints the answer, then the slow-to-import modules the process imported: torch and friends (about 5 s),
# and scipy, which bm25s imports (0.4 s) though the answer needs only its 33 stop words.
ASK_AND_LIST_MODULES = """
import sys
from careerbot.cli import main
code = main(["--config", sys.argv[1], "ask", "What is scikit-learn used for?"])
heavy = ("torch", "transformers", "sentence_transformers", "bm25s", "scipy")
print("IMPORTED:", sorted(m for m in sys.modules if m.split(".")[0] in heavy))
sys.exit(code)
"""


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export") / EXPORT_FOLDER
    export_onnx(ModelConfig(), folder)
    return folder


def settings(tmp_path: Path, knowledge_dir: Path, exported: Path | None, runtime: str = "onnx") -> Path:
    """A bot.toml over the test knowledge whose index folder holds a copy of the session's export."""
    if exported is not None:
        # The 90 MB model is linked, not copied; the small files a test may change are copied.
        shutil.copytree(exported, tmp_path / "index" / EXPORT_FOLDER, copy_function=_link_models)
    path = tmp_path / "bot.toml"
    path.write_text(
        f'[knowledge]\ndir = "{knowledge_dir}"\n[index]\ndir = "{tmp_path / "index"}"\n'
        f'[storage]\ndatabase = "{tmp_path / "db.sqlite3"}"\n[model]\nruntime = "{runtime}"\n'
    )
    return path


def _link_models(source: str, target: str) -> None:
    if source.endswith(".onnx"):
        os.link(source, target)
    else:
        shutil.copy2(source, target)


def careerbot(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "careerbot", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )


def ask_in_fresh_process(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ASK_AND_LIST_MODULES, str(config)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )


def test_onnx_vectors_equal_sentence_transformers(exported: Path) -> None:
    from careerbot.retrieval.torch_encoder import SentenceTransformerEncoder

    source_id = model_source(ModelConfig())[1]
    ours = onnx_encoder.OnnxEncoder(exported, source_id, quantised=False, threads=2, batch_size=2)
    theirs = SentenceTransformerEncoder(ModelConfig())
    assert ours.model_id == theirs.model_id  # same vectors, so an index built on either serves both
    for encode in ("encode_queries", "encode_documents"):
        cosines = np.einsum("ij,ij->i", getattr(ours, encode)(QUESTIONS), getattr(theirs, encode)(QUESTIONS))
        assert cosines.min() > 1 - 1e-6, (encode, cosines)


def test_one_question_is_a_bare_model_call_giving_the_batched_paths_vector(
    exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member's question is tokenised and run as the benchmark's bare call is, with none of the
    batching around it, and gets exactly the vector the batching code gives it."""
    encoder = onnx_encoder.OnnxEncoder(
        exported, model_source(ModelConfig())[1], False, threads=2, batch_size=8
    )
    batched = {question: encoder._encode([question], show_progress=False) for question in QUESTIONS}

    def no_batching(texts: list[str], show_progress: bool) -> np.ndarray:
        raise AssertionError("one question went through the batching code")

    monkeypatch.setattr(encoder, "_encode", no_batching)
    for question in QUESTIONS:
        vector = encoder.encode_queries([question])
        assert vector.dtype == np.float32 and vector.shape == (1, encoder.dimension)
        assert np.array_equal(vector, batched[question]), question


def test_int8_is_another_model_id_with_nearby_vectors(exported: Path, tmp_path: Path) -> None:
    folder = tmp_path / EXPORT_FOLDER
    shutil.copytree(exported, folder, copy_function=_link_models)
    source_id = model_source(ModelConfig())[1]
    fp32 = onnx_encoder.OnnxEncoder(folder, source_id, quantised=False, threads=2, batch_size=8)
    int8 = onnx_encoder.OnnxEncoder(folder, source_id, quantised=True, threads=2, batch_size=8)
    assert (folder / onnx_encoder.INT8_FILE).is_file()  # quantised on first use, beside the fp32 file
    assert int8.model_id == source_id + onnx_encoder.INT8_SUFFIX != fp32.model_id
    cosines = np.einsum("ij,ij->i", int8.encode_queries(QUESTIONS), fp32.encode_queries(QUESTIONS))
    assert 0.9 < cosines.min() < 1 - 1e-6  # near, but not the same vectors: hence another index


def test_ask_with_the_export_present_imports_neither_torch_nor_scipy(
    exported: Path, tmp_path: Path, knowledge_dir: Path
) -> None:
    config = settings(tmp_path, knowledge_dir, exported)
    built = careerbot(config, "index")
    assert built.returncode == 0, built.stderr
    assert "checked against sentence-transformers on" in built.stderr
    asked = ask_in_fresh_process(config)
    assert asked.returncode == 0, asked.stderr
    assert "scikit-learn" in asked.stdout
    assert "IMPORTED: []" in asked.stdout


def test_a_stale_export_is_remade_once_with_a_log_line(
    exported: Path, tmp_path: Path, knowledge_dir: Path
) -> None:
    config = settings(tmp_path, knowledge_dir, exported)
    assert careerbot(config, "index").returncode == 0
    meta_path = tmp_path / "index" / EXPORT_FOLDER / onnx_encoder.META_FILE
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "source": "an-older-model==0.1"}))

    first = ask_in_fresh_process(config)
    assert first.returncode == 0, first.stderr
    assert "is of an-older-model==0.1, not" in first.stderr and "exporting the model to ONNX" in first.stderr
    assert "IMPORTED: []" not in first.stdout  # the export needs torch, this once
    assert json.loads(meta_path.read_text())["source"] == meta["source"]

    second = ask_in_fresh_process(config)
    assert second.returncode == 0, second.stderr
    assert "IMPORTED: []" in second.stdout and "exporting" not in second.stderr


def test_a_missing_export_is_made_by_the_first_process(tmp_path: Path, knowledge_dir: Path) -> None:
    config = settings(tmp_path, knowledge_dir, exported=None)
    asked = ask_in_fresh_process(config)
    assert asked.returncode == 0, asked.stderr
    assert "no ONNX export of the model" in asked.stderr and "scikit-learn" in asked.stdout
    assert (tmp_path / "index" / EXPORT_FOLDER / onnx_encoder.MODEL_FILE).is_file()


def test_an_export_that_moves_the_vectors_stops_the_index_build(
    exported: Path, tmp_path: Path, knowledge_dir: Path
) -> None:
    config = settings(tmp_path, knowledge_dir, exported)
    folder = tmp_path / "index" / EXPORT_FOLDER
    # Stand-in for a wrong export: the int8 weights, whose vectors are about 0.96 from the model's.
    onnx_encoder.quantise(folder / onnx_encoder.MODEL_FILE, tmp_path / "int8.onnx")
    (tmp_path / "int8.onnx").replace(folder / onnx_encoder.MODEL_FILE)
    (folder / VERIFIED_FILE).unlink(missing_ok=True)

    built = careerbot(config, "index")
    assert built.returncode == 1
    assert "the ONNX export is wrong for this model: cosine 0.9" in built.stderr
    assert "index not written" in built.stderr
    assert not (tmp_path / "index" / "manifest.json").exists()
    assert [p.name for p in (tmp_path / "index").iterdir()] == [EXPORT_FOLDER]
    # and the answering processes refuse it too, instead of answering from the wrong vectors
    with pytest.raises(ConfigError, match=re.escape('model.runtime = "torch"')):
        onnx_encoder.OnnxEncoder(folder, model_source(ModelConfig())[1], False, threads=2, batch_size=8)
