from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from careerbot.config import Config
from careerbot.curation.curator import Curator
from careerbot.curation.store import Revision
from careerbot.engine.loading import load_engine
from careerbot.knowledge import loader
from careerbot.knowledge.changes import ChangeConflict, ChangeRejected
from tests.conftest import NEW, write_entry
from tests.curation.conftest import MOD
from tests.fakes import FakeEncoder
from tests.knowledge.test_entry_ids import bad_ids, everything, plant_bait

FIELDS = {key: value for key, value in NEW.items() if key not in ("id", "reviewed_on")}


def test_an_added_entry_is_answerable_at_once_and_audited(curator: Curator) -> None:
    outcome = curator.add(FIELDS, MOD)
    assert outcome.change.entry_id == "what-is-jupyter-for" and outcome.reload.swapped
    assert curator.live.answerer.answer("jupyter lab ipynb").id == "what-is-jupyter-for"
    [revision] = curator.store.history("what-is-jupyter-for")
    assert (revision.action, revision.moderator_name, revision.before) == ("add", "mod", None)
    assert curator.new_id("What is Jupyter for??") == "what-is-jupyter-for-2"


def test_edit_revert_and_remove(curator: Curator) -> None:
    added = curator.add(FIELDS, MOD).change
    assert added.after is not None
    edited = curator.edit(added.entry_id, FIELDS | {"answer": "Notebooks, edited."}, added.after, MOD)
    assert curator.live.answerer.knowledge.get(added.entry_id).answer == "Notebooks, edited."  # type: ignore[union-attr]
    with pytest.raises(ChangeConflict):  # an editor who started from the first version
        curator.edit(added.entry_id, FIELDS | {"answer": "Stale."}, added.after, MOD)
    latest = curator.store.history(added.entry_id)[0]
    curator.revert(latest, MOD)
    assert curator.live.answerer.knowledge.get(added.entry_id).answer == "Interactive notebooks."  # type: ignore[union-attr]
    assert edited.change.after is not None
    current = curator.writer.read(added.path)
    assert current is not None
    curator.remove(added.entry_id, current, MOD)
    assert curator.live.answerer.knowledge.get(added.entry_id) is None
    assert [r.action for r in curator.store.history(added.entry_id)] == ["remove", "revert", "edit", "add"]


def test_a_near_question_is_found_and_can_become_a_paraphrase(curator: Curator) -> None:
    near = curator.near_entry("pytorch uses?")
    assert near is not None and near.id == "pytorch"
    assert curator.near_entry("zebra quantum lasagna") is None
    curator.add_paraphrase("pytorch", "what do people build with pytorch", MOD)
    assert "what do people build with pytorch" in curator.live.answerer.knowledge.get("pytorch").paraphrases  # type: ignore[union-attr]


def test_a_change_is_read_and_checked_once_then_saved_in_the_background(
    curator: Curator, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[Path] = []
    real = loader.parse_entry_file
    monkeypatch.setattr(loader, "parse_entry_file", lambda p, t=None: parsed.append(p) or real(p, t))
    curator.add(FIELDS, MOD)
    assert [p.name for p in parsed] == ["what-is-jupyter-for.yaml"], "the reload took the writer's result"
    curator.live.flush()
    encoder = FakeEncoder()
    restarted, report = load_engine(config, encoder=encoder)
    assert report.loaded and encoder.encoded == [] and len(parsed) == 1
    assert restarted.answerer.answer("jupyter lab ipynb").id == "what-is-jupyter-for"


def test_a_file_pulled_from_git_before_an_edit_goes_live_with_it(
    curator: Curator, knowledge_dir: Path
) -> None:
    write_entry(
        knowledge_dir, "stack/airflow", "What is Airflow for?", ["dags", "airflow", "scheduling"], "x"
    )
    curator.add(FIELDS, MOD)
    assert curator.live.answerer.answer("airflow dags").id == "airflow"
    assert curator.live.answerer.answer("jupyter lab ipynb").id == "what-is-jupyter-for"


def test_the_curator_refuses_every_id_that_is_not_an_entry(
    curator: Curator, knowledge_dir: Path, tmp_path: Path
) -> None:
    bait = plant_bait(knowledge_dir, tmp_path)
    before = everything(tmp_path)
    fields = {"question": "Q?", "paraphrases": ["a", "b", "c"], "answer": "A.", "topic": "stack"}
    for entry_id in bad_ids(bait):
        with pytest.raises(ChangeRejected, match="no entry with id"):
            curator.edit(entry_id, fields, bait["eval"].read_text(), MOD)
        with pytest.raises(ChangeRejected, match="no entry with id"):
            curator.add_paraphrase(entry_id, "one more way to ask", MOD)
        for target in (bait["eval"], bait["outside"]):
            with pytest.raises(ChangeRejected, match="no entry with id"):
                curator.remove(entry_id, target.read_text(), MOD)
        with pytest.raises(ChangeRejected):
            curator.add({**fields, "id": entry_id}, MOD)
    assert everything(tmp_path) == before
    assert curator.store.unfinished_revisions() == [] and curator.store.history("eval") == []


def test_a_revision_whose_path_leads_outside_is_not_reverted(
    curator: Curator, knowledge_dir: Path, tmp_path: Path
) -> None:
    """A revision row is only as good as the database: its path is checked like a typed id."""
    bait = plant_bait(knowledge_dir, tmp_path)
    before = everything(tmp_path)
    for entry_id, path in (
        ("eval", "eval.yaml"),
        ("x", "../elsewhere/x.yaml"),
        ("pytorch", "faq/stack/../../eval.yaml"),
        ("x", str(bait["outside"])),
        ("evil", "faq/stack/evil.yaml"),
        ("../../eval", "faq/stack/../../eval.yaml"),
    ):
        target = knowledge_dir / path  # an absolute path stays itself
        forged = Revision(1, 0.0, entry_id, path, 7, "mod", "add", None, target.read_text())
        with pytest.raises(ChangeRejected, match="no entry with id"):
            curator.revert(forged, MOD)
    assert everything(tmp_path) == before


def test_a_move_is_recorded_as_one_and_reverted_by_moving_back(curator: Curator, knowledge_dir: Path) -> None:
    current = curator.writer.current("pytorch")
    assert current is not None
    moved = curator.edit("pytorch", {**yaml.safe_load(current[1]), "topic": "skills"}, current[1], MOD)
    [revision] = curator.store.history("pytorch")
    assert (revision.id, revision.path, revision.moved_from) == (
        moved.revision_id,
        "faq/skills/pytorch.yaml",
        "faq/stack/pytorch.yaml",
    )
    curator.revert(revision, MOD)
    assert [p.relative_to(knowledge_dir).as_posix() for p in knowledge_dir.rglob("pytorch.yaml")] == [
        "faq/stack/pytorch.yaml"
    ]
    assert (knowledge_dir / "faq" / "stack" / "pytorch.yaml").read_text() == current[1]
    assert curator.live.answerer.knowledge.get("pytorch").topic == "stack"  # type: ignore[union-attr]


def test_a_change_that_cannot_be_recorded_is_not_made(curator: Curator, knowledge_dir: Path) -> None:
    before = everything(knowledge_dir)
    curator.store.close()  # the database fails from here on
    with pytest.raises(ChangeRejected, match="cannot record the change in its database"):
        curator.add(FIELDS, MOD)
    assert everything(knowledge_dir) == before
