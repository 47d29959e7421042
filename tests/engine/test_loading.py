"""Start-up and reloads: what is read, what is embedded, and that the incremental path answers exactly
as a full rebuild would."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from careerbot.config import Config
from careerbot.engine.loading import Engine, load_engine, update_engine
from careerbot.knowledge import KnowledgeError, loader
from careerbot.retrieval import persistence
from careerbot.retrieval.persistence import MANIFEST
from tests.conftest import write_entry
from tests.fakes import FakeEncoder

QUESTIONS = ["pytorch uses", "jupyter lab", "how much maths", "salary", "mle vs ds", "notebooks", "x"]


def answers(engine: Engine) -> list[list[tuple[str, float]]]:
    return [
        [(c.item_id, round(c.rank_score, 5)) for c in found]
        for found in engine.retriever.search_many(QUESTIONS)
    ]


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    parsed: list[Path] = []
    real = loader.parse_entry_file

    def counting(path: Path, text: str | None = None) -> Any:
        parsed.append(path)
        return real(path, text)

    monkeypatch.setattr(loader, "parse_entry_file", counting)
    return parsed


def add_jupyter(knowledge_dir: Path) -> None:
    write_entry(
        knowledge_dir, "stack/jupyter", "What is Jupyter for?", ["notebooks?", "jupyter lab", "ipynb"], "x"
    )


def reword_a_pytorch_paraphrase(knowledge_dir: Path) -> None:
    write_entry(
        knowledge_dir,
        "stack/pytorch",
        "What is PyTorch used for?",
        ["pytorch uses", "torch for deep learning", "when is pytorch the right tool"],
        "PyTorch builds and trains neural networks.",
    )


def test_first_start_builds_and_saves(config: Config) -> None:
    encoder = FakeEncoder()
    engine, report = load_engine(config, encoder=encoder)
    assert not report.loaded and report.embedded == report.documents == len(encoder.encoded) == 32
    manifest = json.loads((config.index.dir / MANIFEST).read_text())
    assert (manifest["model"], manifest["approximate"]) == ("fake-hashing-v1", False)
    assert engine.answerer.answer("pytorch uses").id == "pytorch"


def test_restart_reads_no_knowledge_file_and_embeds_nothing(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = load_engine(config, encoder=FakeEncoder())
    parsed = count_parses(monkeypatch)
    encoder = FakeEncoder()
    again, report = load_engine(config, encoder=encoder)
    assert report.loaded and encoder.encoded == [] and parsed == []
    assert again.snapshot.knowledge == first.snapshot.knowledge
    assert answers(again) == answers(first)


def test_an_edit_re_reads_one_file_and_embeds_its_changed_texts(
    config: Config, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_engine(config, encoder=FakeEncoder())
    reword_a_pytorch_paraphrase(knowledge_dir)
    parsed = count_parses(monkeypatch)
    encoder = FakeEncoder()
    engine, report = load_engine(config, encoder=encoder)
    assert [p.name for p in parsed] == ["pytorch.yaml"]
    # Its unchanged texts are embedded again too: they move from the base to the small delta segment.
    assert "when is pytorch the right tool" in encoder.encoded and len(encoder.encoded) == 5
    assert report.changed_items == 1 and not report.loaded
    assert engine.answerer.answer("when is pytorch the right tool").id == "pytorch"


def test_incremental_changes_answer_exactly_as_a_full_rebuild(config: Config, knowledge_dir: Path) -> None:
    encoder = FakeEncoder()
    engine, _ = load_engine(config, encoder=encoder)
    add_jupyter(knowledge_dir)
    engine, _ = update_engine(config, encoder, engine)
    (knowledge_dir / "faq" / "career" / "salary.yaml").unlink()
    write_entry(
        knowledge_dir, "stack/pytorch", "What is PyTorch for?", ["torch", "pt uses", "why torch"], "y"
    )
    engine, _ = update_engine(config, encoder, engine)
    assert engine.retriever.delta is not None and "salary" in engine.retriever.superseded
    restarted, report = load_engine(config, encoder=FakeEncoder())  # base + stored changes, from disk
    assert report.loaded
    rebuilt, _ = load_engine(config, encoder=FakeEncoder(), rebuild=True)
    assert rebuilt.retriever.delta is None
    assert answers(engine) == answers(restarted) == answers(rebuilt)
    assert engine.retriever.lexical == restarted.retriever.lexical == rebuilt.retriever.lexical
    assert restarted.snapshot.knowledge == rebuilt.snapshot.knowledge


def test_index_command_folds_edits_into_the_base_without_embedding(
    config: Config, knowledge_dir: Path
) -> None:
    engine, _ = load_engine(config, encoder=FakeEncoder())
    add_jupyter(knowledge_dir)
    engine, _ = update_engine(config, FakeEncoder(), engine)
    encoder = FakeEncoder()
    folded, report = load_engine(config, encoder=encoder, compact=True)
    assert encoder.encoded == [] and report.embedded == 0
    assert folded.retriever.delta is None and folded.retriever.superseded == frozenset()
    assert answers(folded) == answers(engine)
    assert len(list(config.index.dir.glob("base-*"))) == 1, "the old base is deleted"


def test_an_article_change_reloads_everything_but_embeds_only_the_new_text(
    config: Config, knowledge_dir: Path
) -> None:
    load_engine(config, encoder=FakeEncoder())
    article = knowledge_dir / "articles" / "a-test-article.md"
    article.write_text(article.read_text().replace("on a cloud platform", "on AWS, GCP or Azure"))
    encoder = FakeEncoder()
    engine, report = load_engine(config, encoder=encoder)
    assert len(encoder.encoded) == 1 and "AWS, GCP or Azure" in encoder.encoded[0]
    assert report.changed_items == 0 and engine.retriever.delta is None


def test_a_bad_edit_raises_and_leaves_the_saved_index(config: Config, knowledge_dir: Path) -> None:
    engine, _ = load_engine(config, encoder=FakeEncoder())
    manifest = (config.index.dir / MANIFEST).read_text()
    (knowledge_dir / "faq" / "stack" / "pytorch.yaml").write_text("id: [")
    with pytest.raises(KnowledgeError) as raised:
        update_engine(config, FakeEncoder(), engine)
    assert [p.path.name for p in raised.value.problems] == ["pytorch.yaml"]
    assert (config.index.dir / MANIFEST).read_text() == manifest


def test_an_edit_that_duplicates_an_unchanged_entry_is_refused(config: Config, knowledge_dir: Path) -> None:
    engine, _ = load_engine(config, encoder=FakeEncoder())
    write_entry(knowledge_dir, "stack/torch-two", "Why use PyTorch?", ["pytorch uses", "torch 2", "pt2"], "z")
    with pytest.raises(KnowledgeError) as raised:
        update_engine(config, FakeEncoder(), engine)
    assert {p.path.name for p in raised.value.problems} == {"torch-two.yaml"}
    assert all("of 'pytorch'" in problem.message for problem in raised.value.problems)


def test_another_model_re_embeds_everything(config: Config) -> None:
    load_engine(config, encoder=FakeEncoder())
    encoder = FakeEncoder(model_id="another-model")
    _, report = load_engine(config, encoder=encoder)
    assert report.embedded == report.documents == len(encoder.encoded)


def test_a_damaged_index_is_rebuilt_not_trusted(config: Config) -> None:
    load_engine(config, encoder=FakeEncoder())
    [base] = config.index.dir.glob("base-*")
    (base / "vectors.faiss").write_bytes(b"garbage")
    engine, report = load_engine(config, encoder=FakeEncoder())
    assert not report.loaded and report.embedded == report.documents
    assert engine.answerer.answer("pytorch uses").id == "pytorch"


def test_a_save_cut_off_before_the_manifest_leaves_the_old_index(
    config: Config, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = load_engine(config, encoder=FakeEncoder())
    add_jupyter(knowledge_dir)
    real_replace = persistence.replace_atomically

    def die_at_the_manifest(target: Path, write: Any) -> None:
        if target.name == MANIFEST:
            raise KeyboardInterrupt("killed")
        real_replace(target, write)

    monkeypatch.setattr(persistence, "replace_atomically", die_at_the_manifest)
    with pytest.raises(KeyboardInterrupt):
        update_engine(config, FakeEncoder(), first)
    monkeypatch.undo()
    stored = persistence.load(config.index.dir, config.knowledge.dir, FakeEncoder(), config.index, 0.1).stored
    assert stored is not None and stored[0].knowledge == first.snapshot.knowledge
    engine, report = load_engine(config, encoder=FakeEncoder())  # and the next start picks up the edit
    assert report.changed_items == 1 and engine.answerer.answer("jupyter lab").id == "jupyter"


def test_above_the_size_setting_the_index_is_approximate_and_finds_the_same(config: Config) -> None:
    exact, _ = load_engine(config, encoder=FakeEncoder())
    small = dataclasses.replace(config.index, approximate_above=10, dir=config.index.dir.parent / "ann")
    approximate, _ = load_engine(dataclasses.replace(config, index=small), encoder=FakeEncoder())
    assert approximate.retriever.base.index.approximate and not exact.retriever.base.index.approximate
    top = [[item for item, _ in found[:3]] for found in answers(approximate)]
    assert top == [[item for item, _ in found[:3]] for found in answers(exact)]


def test_index_command_after_an_edit_on_disk_embeds_only_the_new_text(
    config: Config, knowledge_dir: Path
) -> None:
    load_engine(config, encoder=FakeEncoder())
    reword_a_pytorch_paraphrase(knowledge_dir)
    encoder = FakeEncoder()
    engine, report = load_engine(config, encoder=encoder, compact=True)
    assert encoder.encoded == ["when is pytorch the right tool"] and report.embedded == 1
    assert engine.retriever.delta is None and engine.retriever.superseded == frozenset()
