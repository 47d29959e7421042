"""Once the bot's warm-up watches the knowledge folder, an edit stats no file but those it is told
changed (at 140k files, stat-ing them all took most of a second per edit), and still sees every hand edit:
a hand edit is never lost, overwritten, or left out of what the edit is checked against."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from careerbot.config import Config
from careerbot.curation.curator import Curator
from careerbot.curation.store import Store
from careerbot.engine.live import LiveEngine
from careerbot.engine.loading import load_engine
from careerbot.knowledge.changes import ChangeConflict, ChangeRejected
from careerbot.knowledge.writer import KnowledgeWriter
from tests.conftest import NEW
from tests.curation.conftest import MOD
from tests.fakes import FakeEncoder

HAND_EDITED = "What do ML engineers earn in a year?"


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch, knowledge_dir: Path) -> list[str]:
    """Every folder of the knowledge listed (os.scandir), from the moment the curator is warm."""
    folders: list[str] = []
    real: Callable[..., object] = os.scandir

    def counted(path: str = ".") -> object:
        if str(path).startswith(str(knowledge_dir)):
            folders.append(str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", counted)
    return folders


@pytest.fixture
def warm(curator: Curator) -> Curator:
    """As the bot starts: the warm-up (the phrasings table and the watch) done."""
    curator.live.warm_up_in_background()
    curator.live.flush()
    return curator


def hand_edit(root: Path) -> Path:
    salary = root / "faq" / "career" / "salary.yaml"
    salary.write_text(salary.read_text().replace("How much do ML engineers earn?", HAND_EDITED))
    return salary


def test_an_edit_right_after_a_hand_edit_of_another_file_keeps_both_and_lists_no_folder(
    warm: Curator, knowledge_dir: Path, listed: list[str]
) -> None:
    salary = hand_edit(knowledge_dir)
    outcome = warm.add(NEW, MOD)
    assert outcome.reload.swapped
    assert listed == []
    answerer = warm.live.answerer
    assert answerer.answer("jupyter lab ipynb").id == "jupyter"
    live_salary = answerer.knowledge.get("salary")
    assert live_salary is not None and live_salary.title == HAND_EDITED
    assert HAND_EDITED in salary.read_text()


def test_an_edit_that_clashes_with_a_hand_edit_made_while_serving_is_refused(
    warm: Curator, knowledge_dir: Path, listed: list[str]
) -> None:
    hand_edit(knowledge_dir)
    with pytest.raises(ChangeRejected, match="earn in a year"):
        warm.add({**NEW, "paraphrases": [HAND_EDITED, "a", "b"]}, MOD)
    assert listed == []
    assert not (knowledge_dir / "faq" / "stack" / "jupyter.yaml").exists()


def test_an_edit_of_a_file_changed_by_hand_is_refused_with_the_difference(
    warm: Curator, knowledge_dir: Path
) -> None:
    before = (knowledge_dir / "faq" / "career" / "salary.yaml").read_text()
    salary = hand_edit(knowledge_dir)
    with pytest.raises(ChangeConflict, match="earn in a year"):
        warm.edit("salary", {"question": "Salary?", "topic": "career"}, before, MOD)
    assert HAND_EDITED in salary.read_text()


def test_a_hand_edit_made_while_serving_goes_live_with_a_reload_that_lists_no_folder(
    warm: Curator, knowledge_dir: Path, listed: list[str]
) -> None:
    hand_edit(knowledge_dir)
    report = warm.live.reload()
    assert report.swapped
    live_salary = warm.live.answerer.knowledge.get("salary")
    assert live_salary is not None and live_salary.title == HAND_EDITED
    assert listed == []


def test_with_watch_off_an_edit_lists_the_folder_afresh_and_keeps_a_hand_edit(
    config: Config, knowledge_dir: Path, tmp_path: Path, listed: list[str]
) -> None:
    """`[knowledge] watch = false` (a folder on a network file system, whose changes made on other
    machines inotify never reports): the warm-up leaves the folder unwatched, so each edit scans it."""
    unwatched = replace(config, knowledge=replace(config.knowledge, watch=False))
    encoder = FakeEncoder()
    live = LiveEngine(unwatched, encoder, load_engine(unwatched, encoder=encoder)[0])
    live.warm_up_in_background()
    live.flush()
    curator = Curator(KnowledgeWriter(knowledge_dir, live.snapshot), Store(tmp_path / "db.sqlite3"), live)
    listed.clear()
    hand_edit(knowledge_dir)
    assert curator.add(NEW, MOD).reload.swapped
    assert str(knowledge_dir / "faq" / "career") in listed  # listed afresh, not from the kernel's events
    live_salary = curator.live.answerer.knowledge.get("salary")
    assert live_salary is not None and live_salary.title == HAND_EDITED
