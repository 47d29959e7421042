"""A change killed at any point is finished at the next start: the knowledge loads, the entry is in one
place, and the history records exactly what is on disk (issue 9, item 5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from careerbot import cli
from careerbot.curation.journal import recover
from careerbot.curation.store import Store
from careerbot.engine.live import LiveEngine
from careerbot.knowledge import load_knowledge
from tests.fakes import FakeEncoder
from tests.unprivileged import read_only, run_unprivileged

PROJECT = Path(__file__).resolve().parents[2]

# Runs one change and SIGKILLs itself right after one step of it (`crash_at`), as a crash would.
CHILD = """
import os, pathlib, signal, sys
import yaml
from careerbot.curation.journal import RevisionJournal
from careerbot.knowledge import writer as writer_module
from careerbot.knowledge.writer import KnowledgeWriter
from careerbot.curation.store import Store

root, database, change, crash_at = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3], sys.argv[4]
steps = {
    "validated": (writer_module, "refresh"),
    "recorded": (Store, "begin_revision"),
    "written": (writer_module, "write_text_atomically"),
    "removed": (pathlib.Path, "unlink"),
}
owner, name = steps[crash_at]
real = getattr(owner, name)
def then_die(*args, **kwargs):
    real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
setattr(owner, name, then_die)

writer, store = KnowledgeWriter(root), Store(database)
path = root / "faq" / "stack" / "pytorch.yaml"
seen = path.read_text()
fields = yaml.safe_load(seen)
journal = RevisionJournal(store, root, 7, "mod", "remove" if change == "remove" else "edit")
if change == "move":
    writer.save({**fields, "topic": "skills"}, seen, path, journal)
elif change == "edit":
    writer.save({**fields, "answer": "Edited."}, seen, path, journal)
elif change == "remove":
    writer.remove("pytorch", seen, journal)
print("not killed")
"""

CRASHES = [
    ("move", "validated"),
    ("move", "recorded"),
    ("move", "written"),
    ("move", "removed"),
    ("edit", "recorded"),
    ("edit", "written"),
    ("remove", "recorded"),
    ("remove", "removed"),
]


def kill_during(change: str, crash_at: str, knowledge_dir: Path, database: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(knowledge_dir), str(database), change, crash_at],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == -signal.SIGKILL, result.stdout + result.stderr


@pytest.mark.parametrize(("change", "crash_at"), CRASHES)
def test_a_change_killed_at_any_step_is_finished_at_the_next_start(
    knowledge_dir: Path, tmp_path: Path, change: str, crash_at: str
) -> None:
    database = tmp_path / "var" / "careerbot.sqlite3"
    seen = (knowledge_dir / "faq" / "stack" / "pytorch.yaml").read_text()
    kill_during(change, crash_at, knowledge_dir, database)

    said = recover(knowledge_dir, database)

    knowledge = load_knowledge(knowledge_dir)  # valid: raises KnowledgeError otherwise
    files = sorted(knowledge_dir.rglob("pytorch.yaml"))
    store = Store(database)
    history = store.history("pytorch")
    assert store.unfinished_revisions() == []
    if crash_at == "validated":  # killed before anything was recorded: nothing happened
        assert (said, history, [f.read_text() for f in files]) == ([], [], [seen])
        return
    [revision] = history  # recorded once, and finished
    assert revision.before == seen and said == [
        f"finished the interrupted {revision.action} of entry 'pytorch' by mod (revision #{revision.id})"
    ]
    if change == "remove":
        assert files == [] and revision.after is None and knowledge.get("pytorch") is None
        return
    [file] = files  # in exactly one place, holding what the history says
    assert file.read_text() == revision.after and file == knowledge_dir / revision.path
    entry = knowledge.get("pytorch")
    assert entry is not None and yaml.safe_load(revision.after or "")["topic"] == entry.topic
    assert entry.topic == ("skills" if change == "move" else "stack")


def test_a_file_edited_by_hand_after_the_crash_is_left_as_it_is(knowledge_dir: Path, tmp_path: Path) -> None:
    database = tmp_path / "careerbot.sqlite3"
    kill_during("edit", "recorded", knowledge_dir, database)
    path = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    path.write_text(path.read_text().replace("PyTorch builds", "By hand, PyTorch builds"))
    [said] = recover(knowledge_dir, database)
    assert "left the interrupted edit of entry 'pytorch' by mod unfinished" in said
    assert "faq/stack/pytorch.yaml" in said and "By hand" in path.read_text()
    store = Store(database)
    assert store.unfinished_revisions() == [] and store.history("pytorch") == []


# The moderator's path, start to end: a Curator moving an entry, killed between writing the entry's new
# file and removing the old one (the entry is then in two topics).
CURATOR_CHILD = """
import os, pathlib, signal, sys
import yaml
from careerbot.config import config_from_mapping
from careerbot.curation.curator import Curator, Moderator
from careerbot.engine.loading import load_engine
from careerbot.knowledge.writer import KnowledgeWriter
from careerbot.engine.live import LiveEngine
from careerbot.curation.store import Store
from tests.fakes import FakeEncoder
from tests.unprivileged import read_only, run_unprivileged

root, database, index = (pathlib.Path(arg) for arg in sys.argv[1:4])
config = config_from_mapping({"knowledge": {"dir": str(root)}, "index": {"dir": str(index)}}, base_dir=root)
engine, _ = load_engine(config, encoder=FakeEncoder())
live = LiveEngine(config, FakeEncoder(), engine)
curator = Curator(KnowledgeWriter(root, live.snapshot), Store(database), live)
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
pathlib.Path.unlink = die
seen = (root / "faq" / "stack" / "pytorch.yaml").read_text()
curator.edit("pytorch", {**yaml.safe_load(seen), "topic": "skills"}, seen, Moderator(7, "mod"))
"""


def test_careerbot_run_finishes_an_interrupted_move_before_loading_the_knowledge(
    knowledge_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "var" / "careerbot.sqlite3"
    killed = subprocess.run(
        [sys.executable, "-c", CURATOR_CHILD, str(knowledge_dir), str(database), str(tmp_path / "index")],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(list(knowledge_dir.rglob("pytorch.yaml"))) == 2  # the crash left it in two topics

    settings = tmp_path / "bot.toml"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n[index]\ndir = "{tmp_path / "index"}"\n')
    monkeypatch.setattr("careerbot.retrieval.runtime.open_encoder", lambda *_: FakeEncoder())
    monkeypatch.setenv("DISCORD_TOKEN", "not-a-real-token")
    started: list[LiveEngine] = []
    monkeypatch.setattr(
        "careerbot.bot.runner.run_bot", lambda _config, engine, _token: started.append(engine)
    )

    assert cli.main(["--config", str(settings), "run"]) == 0
    assert "careerbot: finished the interrupted edit of entry 'pytorch' by mod" in capsys.readouterr().err
    [engine] = started
    entry = engine.answerer.knowledge.get("pytorch")
    assert entry is not None and entry.topic == "skills"
    assert [p.parent.name for p in knowledge_dir.rglob("pytorch.yaml")] == ["skills"]
    [revision] = Store(database).history("pytorch")
    assert (revision.path, revision.moved_from) == ("faq/skills/pytorch.yaml", "faq/stack/pytorch.yaml")


def test_an_interrupted_change_that_cannot_be_finished_stops_start_up_with_the_reason(
    knowledge_dir: Path, tmp_path: Path
) -> None:
    database = tmp_path / "var" / "careerbot.sqlite3"
    kill_during("edit", "recorded", knowledge_dir, database)
    settings = tmp_path / "bot.toml"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n[index]\ndir = "{tmp_path / "index"}"\n')
    with read_only(knowledge_dir / "faq" / "stack"):
        result = run_unprivileged(
            [sys.executable, "-m", "careerbot", "--config", str(settings), "run"],
            cwd=PROJECT,
            env={**os.environ, "DISCORD_TOKEN": "not-a-real-token"},
        )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "careerbot: cannot finish the interrupted edit of entry 'pytorch' by mod" in result.stderr
    assert "Make the knowledge folder writable" in result.stderr
    assert [line.split(" (")[0] for line in recover(knowledge_dir, database)] == [
        "finished the interrupted edit of entry 'pytorch' by mod"
    ]  # once writable, the next start finishes it
