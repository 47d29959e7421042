from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from careerbot.knowledge import load_knowledge
from careerbot.retrieval import persistence
from careerbot.retrieval.documents import documents_for
from careerbot.retrieval.persistence import MANIFEST, load_or_build
from tests.conftest import write_entry
from tests.fakes import FakeEncoder


def test_first_build_embeds_everything_and_writes_a_manifest(knowledge_dir: Path, tmp_path: Path) -> None:
    documents = documents_for(load_knowledge(knowledge_dir))
    encoder = FakeEncoder()
    vectors, report = load_or_build(tmp_path / "index", documents, encoder)
    assert vectors.shape == (len(documents), encoder.dimension)
    assert (report.loaded, report.embedded, report.reused) == (False, len(documents), 0)
    manifest = json.loads((tmp_path / "index" / MANIFEST).read_text())
    assert manifest["model"] == "fake-hashing-v1"
    assert manifest["dimension"] == encoder.dimension
    assert manifest["count"] == len(documents)
    assert len(manifest["content_hash"]) == 64


def test_restart_loads_without_embedding(knowledge_dir: Path, tmp_path: Path) -> None:
    documents = documents_for(load_knowledge(knowledge_dir))
    first, _ = load_or_build(tmp_path / "index", documents, FakeEncoder())
    encoder = FakeEncoder()
    again, report = load_or_build(tmp_path / "index", documents, encoder)
    assert report.loaded and encoder.encoded == []
    np.testing.assert_array_equal(first, again)


def test_a_change_re_embeds_only_the_changed_texts(knowledge_dir: Path, tmp_path: Path) -> None:
    load_or_build(tmp_path / "index", documents_for(load_knowledge(knowledge_dir)), FakeEncoder())
    write_entry(
        knowledge_dir,
        "stack/pytorch",
        "What is PyTorch used for?",
        ["pytorch uses", "torch for deep learning", "when is pytorch the right tool"],
        "PyTorch builds and trains neural networks.",
    )
    encoder = FakeEncoder()
    documents = documents_for(load_knowledge(knowledge_dir))
    vectors, report = load_or_build(tmp_path / "index", documents, encoder)
    assert encoder.encoded == ["when is pytorch the right tool"]
    assert (report.embedded, report.reused) == (1, len(documents) - 1)
    np.testing.assert_allclose(vectors, FakeEncoder().encode_documents([d.text for d in documents]))


def test_another_model_re_embeds_everything(knowledge_dir: Path, tmp_path: Path) -> None:
    documents = documents_for(load_knowledge(knowledge_dir))
    load_or_build(tmp_path / "index", documents, FakeEncoder())
    encoder = FakeEncoder(model_id="another-model")
    _, report = load_or_build(tmp_path / "index", documents, encoder)
    assert report.embedded == len(documents) and len(encoder.encoded) == len({d.text for d in documents})


def test_a_damaged_index_is_rebuilt_not_trusted(knowledge_dir: Path, tmp_path: Path) -> None:
    documents = documents_for(load_knowledge(knowledge_dir))
    load_or_build(tmp_path / "index", documents, FakeEncoder())
    [data] = (tmp_path / "index").glob("data-*")
    (data / "vectors.npy").write_bytes(b"garbage")
    vectors, report = load_or_build(tmp_path / "index", documents, FakeEncoder())
    assert not report.loaded and report.embedded == len(documents)
    assert vectors.shape[0] == len(documents)


def test_a_save_cut_off_before_the_manifest_leaves_the_old_index(
    knowledge_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = documents_for(load_knowledge(knowledge_dir))
    first, _ = load_or_build(tmp_path / "index", documents, FakeEncoder())
    real_replace = persistence.replace_atomically

    def die_at_the_manifest(target: Path, write: Any) -> None:
        if target.name == MANIFEST:
            raise KeyboardInterrupt("killed")
        real_replace(target, write)

    monkeypatch.setattr(persistence, "replace_atomically", die_at_the_manifest)
    with pytest.raises(KeyboardInterrupt):
        load_or_build(tmp_path / "index", documents[:-1], FakeEncoder())
    monkeypatch.undo()
    encoder = FakeEncoder()
    vectors, report = load_or_build(tmp_path / "index", documents, encoder)
    assert report.loaded and encoder.encoded == []
    np.testing.assert_array_equal(vectors, first)
