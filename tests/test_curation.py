from __future__ import annotations

from pathlib import Path

import pytest

from careerbot.config import Config
from careerbot.curation import ChangeConflict, Curator, Moderator
from careerbot.engine import open_engine
from careerbot.knowledge.writer import KnowledgeWriter
from careerbot.live import LiveEngine
from careerbot.store import Store
from tests.fakes import FakeEncoder

MOD = Moderator(7, "mod")
FIELDS = {
    "question": "What is Jupyter for?",
    "paraphrases": ["notebooks?", "jupyter lab", "ipynb files"],
    "answer": "Interactive notebooks.",
    "topic": "stack",
    "tags": ["jupyter"],
    "sources": [{"title": "Jupyter", "url": "https://jupyter.org/"}],
}


@pytest.fixture
def curator(config: Config, tmp_path: Path) -> Curator:
    encoder = FakeEncoder()
    answerer, _ = open_engine(config, encoder=encoder)
    live = LiveEngine(config, encoder, answerer)
    return Curator(KnowledgeWriter(config.knowledge.dir), Store(tmp_path / "db.sqlite3"), live)


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
