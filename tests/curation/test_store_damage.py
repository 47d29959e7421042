"""A damaged or unwritable database stops careerbot with a message that says what to do, and is never
replaced by an empty one; an unwritable knowledge folder refuses an edit with a reason (issue 9, item 7)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from careerbot import cli
from careerbot.curation.store import Store, StoreError
from tests.unprivileged import read_only, run_unprivileged

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A database with some history, closed (so all of it is in the main file)."""
    path = tmp_path / "var" / "careerbot.sqlite3"
    Store(path).close()
    with contextlib.closing(sqlite3.connect(path)) as db, db:  # one transaction: fast
        db.executemany(
            "INSERT INTO revisions (changed_at, entry_id, path, moderator_id, moderator_name, action,"
            " before, after) VALUES (0, 'pytorch', 'faq/stack/pytorch.yaml', 7, 'mod', 'edit', ?, ?)",
            [("a" * 500, f"v{number}") for number in range(200)],
        )
    return path


def truncated_to_nothing(path: Path) -> str:
    os.truncate(path, 0)
    return "the file is empty"


def truncated_to_half(path: Path) -> str:
    os.truncate(path, path.stat().st_size // 2)
    return "malformed"


def garbage_header(path: Path) -> str:
    with path.open("r+b") as file:
        file.write(b"this is not what sqlite wrote\x00")
    return "not a database"


def noise_in_a_page(path: Path) -> str:
    data = bytearray(path.read_bytes())
    page = len(data) // 4096 // 2 * 4096  # mid-file: one of the revisions' pages, whatever the schema
    data[page + 10 : page + 60] = b"\xff" * 50
    path.write_bytes(bytes(data))
    # SQLite reports it from the integrity check, or as "malformed" if opening already reads that page
    # (both seen on the same file, depending on what the page cache held).
    return "PRAGMA quick_check|malformed"


DAMAGE = [truncated_to_nothing, truncated_to_half, garbage_header, noise_in_a_page]


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_database_is_refused_and_kept_as_it_is(database: Path, damage: object) -> None:
    reason = damage(database)  # type: ignore[operator]
    kept = database.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store(database)
    message = str(caught.value)
    assert f"the database {database} is damaged" in message
    assert any(said in message for said in reason.split("|")), message
    assert f"mv {database} {database}.damaged" in message and "restore it from a backup" in message
    assert database.read_bytes() == kept  # not recreated, not repaired behind the operator's back
    assert "\n" not in message


def settings_for(tmp_path: Path, knowledge_dir: Path, database: Path) -> Path:
    settings = tmp_path / "bot.toml"
    settings.write_text(
        f'[knowledge]\ndir = "{knowledge_dir}"\n[index]\ndir = "{tmp_path / "index"}"\n'
        f'[storage]\ndatabase = "{database}"\n'
    )
    return settings


@pytest.mark.parametrize("command", ["run", "sync"])
@pytest.mark.parametrize("damage", DAMAGE)
def test_careerbot_run_says_the_database_is_damaged_and_exits_1(
    database: Path,
    knowledge_dir: Path,
    tmp_path: Path,
    damage: object,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    damage(database)  # type: ignore[operator]
    kept = database.read_bytes()
    monkeypatch.setenv("DISCORD_TOKEN", "not-a-real-token")
    assert cli.main(["--config", str(settings_for(tmp_path, knowledge_dir, database)), command]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"careerbot: the database {database} is damaged") and "Traceback" not in err
    assert database.read_bytes() == kept


def test_a_database_folder_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("not a folder")
    with pytest.raises(StoreError, match=f"The folder {tmp_path / 'var'} must exist and be writable"):
        Store(tmp_path / "var" / "careerbot.sqlite3")


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_careerbot_run_with_a_read_only_var_folder_names_it_and_exits_1(
    knowledge_dir: Path, tmp_path: Path, existing: bool
) -> None:
    var = tmp_path / "var"
    database = var / "careerbot.sqlite3"
    if existing:
        Store(database).close()
    else:
        var.mkdir()
    settings = settings_for(tmp_path, knowledge_dir, database)
    with read_only(var):
        result = run_unprivileged(
            [sys.executable, "-m", "careerbot", "--config", str(settings), "run"],
            cwd=PROJECT,
            env={**os.environ, "DISCORD_TOKEN": "not-a-real-token"},
        )
    assert result.returncode == 1, result.stderr
    assert f"careerbot: careerbot cannot open its database {database}" in result.stderr
    assert f"The folder {var} must exist and be writable" in result.stderr
    assert "Traceback" not in result.stderr


# An edit of pytorch, by the writer as the Curator calls it (with the revision journal), printed as the
# moderator is told it.
EDIT = """
import pathlib, sys
import yaml
from careerbot.curation.journal import RevisionJournal
from careerbot.knowledge.changes import ChangeRejected
from careerbot.knowledge.writer import KnowledgeWriter
from careerbot.curation.store import Store
root, database, topic = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
path = root / "faq" / "stack" / "pytorch.yaml"
seen = path.read_text()
store = Store(database)
try:
    KnowledgeWriter(root).save(
        {**yaml.safe_load(seen), "answer": "Edited.", "topic": topic}, seen, path,
        RevisionJournal(store, root, 7, "mod", "edit"),
    )
    print("saved")
except ChangeRejected as rejected:
    print("; ".join(f"{p.field}: {p.message}" for p in rejected.problems))
print(len(store.unfinished_revisions()), len(store.history("pytorch")))
"""


@pytest.mark.parametrize("topic", ["stack", "skills"], ids=["edit", "move"])
def test_an_edit_in_a_read_only_knowledge_folder_is_refused_with_the_reason(
    knowledge_dir: Path, tmp_path: Path, topic: str
) -> None:
    """Moving is the harder case: the new file could be written in skills/ before stack/ refuses the
    removal of the old one; it is then taken back."""
    everything = {p: p.read_bytes() for p in knowledge_dir.rglob("*") if p.is_file()}
    folders = [knowledge_dir / "faq" / "stack"] if topic == "skills" else list(knowledge_dir.rglob("*"))
    with read_only(*(f for f in folders if f.is_dir())):
        result = run_unprivileged(
            [sys.executable, "-c", EDIT, str(knowledge_dir), str(tmp_path / "careerbot.sqlite3"), topic],
            cwd=PROJECT,
        )
    assert result.returncode == 0, result.stderr
    told, journal = result.stdout.splitlines()
    assert told.startswith("knowledge: careerbot cannot write to the knowledge folder (Permission denied)")
    assert "nothing was changed" in told and "make it writable" in told
    assert journal == "0 0"  # nothing recorded, nothing left to finish
    assert {p: p.read_bytes() for p in knowledge_dir.rglob("*") if p.is_file()} == everything
