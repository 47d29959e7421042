"""A damaged index on disk is never served: the engine says which file is damaged, once, rebuilds what
it lost and saves the repair, so the next start is clean. Driven from files on disk, through the call
the CLI and the bot make (load_engine) and through `careerbot index`."""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from careerbot import cli
from careerbot.config import Config
from careerbot.engine.loading import Engine, load_engine
from careerbot.retrieval import integrity
from careerbot.retrieval.persistence import MANIFEST
from tests.conftest import write_entry
from tests.fakes import FakeEncoder

BASE_FILES = ["vectors.faiss", "rows.npz", "items.json", "entries.jsonl", "entries.npz", "base.npz"]
STATE_FILES = ["state.json", "delta/vectors.faiss", "delta/rows.npz", "delta/items.json"]


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def noise(path: Path) -> None:
    """Same size, other bytes: only a checksum tells."""
    path.write_bytes(random.Random(path.name).randbytes(path.stat().st_size))


def delete(path: Path) -> None:
    path.unlink()


DAMAGE: dict[str, Callable[[Path], None]] = {"truncated": truncate, "noise": noise, "deleted": delete}


def index_with_an_edit(config: Config, knowledge_dir: Path) -> None:
    """A base and a state with a delta segment on disk: every kind of index file."""
    load_engine(config, encoder=FakeEncoder())
    write_entry(
        knowledge_dir, "stack/jupyter", "What is Jupyter for?", ["notebooks?", "jupyter lab", "ipynb"], "x"
    )
    load_engine(config, encoder=FakeEncoder())


def index_file(config: Config, name: str) -> Path:
    manifest = json.loads((config.index.dir / MANIFEST).read_text())
    if name == MANIFEST:
        return config.index.dir / MANIFEST
    folder = manifest["base"] if name in BASE_FILES else manifest["state"]
    return config.index.dir / folder / name


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("careerbot")
    ]


def assert_answers_right(engine: Engine) -> None:
    for question, expected in [
        ("pytorch uses", "pytorch"),
        ("jupyter lab", "jupyter"),
        ("mle pay", "salary"),
    ]:
        answer = engine.answerer.answer(question)
        assert answer.id == expected
        assert all(0.0 <= c.score <= 1.0001 for c in engine.retriever.search(question)), "no noise served"


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("name", [*BASE_FILES, *STATE_FILES, MANIFEST])
def test_a_damaged_index_file_is_named_once_rebuilt_and_saved(
    config: Config, knowledge_dir: Path, caplog: pytest.LogCaptureFixture, name: str, damage: str
) -> None:
    index_with_an_edit(config, knowledge_dir)
    path = index_file(config, name)
    DAMAGE[damage](path)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        engine, report = load_engine(config, encoder=FakeEncoder())
    assert_answers_right(engine)
    [warning] = warnings(caplog)
    assert f"index file {path} is damaged (" in warning and warning.endswith("); rebuilding the index")
    assert not report.loaded
    caplog.clear()
    encoder = FakeEncoder()
    again, report = load_engine(config, encoder=encoder)
    assert report.loaded and encoder.encoded == [] and warnings(caplog) == []
    assert_answers_right(again)


@pytest.mark.parametrize(
    ("name", "reason"),
    [("vectors.faiss", "checksum mismatch"), ("rows.npz", "size changed"), ("state.json", "missing")],
)
def test_the_warning_says_what_is_wrong(
    config: Config, knowledge_dir: Path, caplog: pytest.LogCaptureFixture, name: str, reason: str
) -> None:
    index_with_an_edit(config, knowledge_dir)
    path = index_file(config, name)
    {"checksum mismatch": noise, "size changed": truncate, "missing": delete}[reason](path)
    with caplog.at_level(logging.WARNING):
        load_engine(config, encoder=FakeEncoder())
    assert f"{path} is damaged ({reason}" in caplog.text


def test_the_repair_embeds_only_what_was_lost(config: Config, knowledge_dir: Path) -> None:
    index_with_an_edit(config, knowledge_dir)
    noise(index_file(config, "entries.jsonl"))
    encoder = FakeEncoder()
    engine, report = load_engine(config, encoder=encoder)
    assert not report.loaded and encoder.encoded == [], "both segments' vectors were whole: reused"
    assert_answers_right(engine)
    noise(index_file(config, "vectors.faiss"))  # the new base: the edit is folded into it
    encoder = FakeEncoder()
    _, report = load_engine(config, encoder=encoder)
    assert len(encoder.encoded) == report.documents


def test_a_checked_file_is_not_hashed_again_until_it_changes(
    config: Config, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_with_an_edit(config, knowledge_dir)
    monkeypatch.setattr(integrity, "RACY_NS", -(10**12))  # as if the files were saved long ago
    hashed: list[str] = []
    real = integrity._checksum
    monkeypatch.setattr(integrity, "_checksum", lambda path: (hashed.append(path.name), real(path))[1])
    load_engine(config, encoder=FakeEncoder())
    assert "vectors.faiss" in hashed
    hashed.clear()
    load_engine(config, encoder=FakeEncoder())
    assert hashed == []
    vectors = index_file(config, "vectors.faiss")
    noise(vectors)
    mtime = vectors.stat().st_mtime_ns
    os.utime(vectors, ns=(mtime - 10**9, mtime - 10**9))  # a write that hides its mtime
    engine, report = load_engine(config, encoder=FakeEncoder())
    assert "vectors.faiss" in hashed and not report.loaded
    assert_answers_right(engine)
    hashed.clear()
    load_engine(config, encoder=FakeEncoder(), thorough=True)  # `careerbot index`: everything
    assert "vectors.faiss" in hashed


def test_index_rebuild_after_damage_writes_a_clean_new_index(
    config: Config,
    knowledge_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = tmp_path / "bot.toml"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n[index]\ndir = "{config.index.dir}"\n')
    encoder = FakeEncoder()
    monkeypatch.setattr("careerbot.retrieval.runtime.open_encoder", lambda *_: encoder)
    assert cli.main(["--config", str(settings), "index"]) == 0
    damaged_base = index_file(config, "rows.npz").parent
    noise(damaged_base / "rows.npz")
    encoder.encoded.clear()
    assert cli.main(["--config", str(settings), "index", "--rebuild"]) == 0
    [base] = config.index.dir.glob("base-*")
    assert base != damaged_base and len(encoder.encoded) == 32, "a new folder, every text embedded"
    capsys.readouterr()
    encoder.encoded.clear()
    assert cli.main(["--config", str(settings), "index"]) == 0  # checks every file: all whole
    assert "index up to date" in capsys.readouterr().err and encoder.encoded == []
    assert cli.main(["--config", str(settings), "ask", "pytorch uses"]) == 0
    assert "PyTorch builds" in capsys.readouterr().out


def test_a_manifest_edited_by_hand_into_nonsense_is_named(
    config: Config, knowledge_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index_with_an_edit(config, knowledge_dir)
    path = config.index.dir / MANIFEST
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "files": {"x": 1}}))
    with caplog.at_level(logging.WARNING):
        engine, _ = load_engine(config, encoder=FakeEncoder())
    assert warnings(caplog) == [f"index file {path} is damaged (incomplete); rebuilding the index"]
    assert_answers_right(engine)
