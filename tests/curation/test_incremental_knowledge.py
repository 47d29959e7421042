"""An edit derives the new knowledge version's lookup tables (by id, by topic, phrasings) from the live
one's instead of rebuilding them over every entry. Whatever the edit (new entry, edit, move to another
topic, removal, several in a row), the result must be what loading the folder afresh gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from careerbot.curation.curator import Curator
from careerbot.knowledge import load_knowledge
from careerbot.knowledge.models import FOLDERS, KnowledgeBase
from tests.conftest import NEW
from tests.curation.conftest import MOD


def assert_same_as_a_fresh_load(curator: Curator, knowledge_dir: Path) -> None:
    live = curator.live.answerer.knowledge
    fresh = load_knowledge(knowledge_dir)
    assert live == fresh  # the same entries and passages
    rebuilt = KnowledgeBase(live.entries, live.passages)  # the tables made from scratch, same order
    for topic in FOLDERS:
        assert live.ids_in(topic) == rebuilt.ids_in(topic)
        assert sorted(live.ids_in(topic)) == sorted(fresh.ids_in(topic))
    for item in [*fresh.entries, *fresh.passages]:
        assert live.get(item.id) == item
    texts, ids, starts = live.phrasings()
    want_texts, want_ids, want_starts = rebuilt.phrasings()
    assert (texts, ids) == (want_texts, want_ids)
    assert np.array_equal(starts, want_starts)


def edited(curator: Curator, entry_id: str, **changes: object) -> None:
    current = curator.writer.current(entry_id)
    assert current is not None
    entry = curator.live.answerer.knowledge.get(entry_id)
    fields = {
        "question": entry.question,  # type: ignore[union-attr]
        "paraphrases": list(entry.paraphrases),  # type: ignore[union-attr]
        "answer": entry.answer,  # type: ignore[union-attr]
        "topic": entry.topic,  # type: ignore[union-attr]
        "tags": list(entry.tags),  # type: ignore[union-attr]
        "sources": [{"title": "A Test Article", "section": "a-test-article/what-the-job-involves"}],
        **changes,
    }
    curator.edit(entry_id, fields, current[1], MOD)


EDITS: dict[str, Callable[[Curator], object]] = {
    "new entry": lambda c: c.add(NEW, MOD),
    "new paraphrase": lambda c: c.add_paraphrase("math-needed", "is statistics enough", MOD),
    "edit": lambda c: edited(c, "pytorch", paraphrases=["torch uses", "why pytorch", "pytorch or jax"]),
    "move": lambda c: edited(c, "salary", topic="roles"),
    "move into out-of-scope": lambda c: edited(c, "typical-day", topic="out-of-scope"),
    "removal": lambda c: c.remove("scikit-learn", c.writer.current("scikit-learn")[1], MOD),  # type: ignore[index]
}


@pytest.mark.parametrize("make", EDITS.values(), ids=EDITS.keys())
def test_after_an_edit_the_tables_are_those_of_a_fresh_load(
    curator: Curator, knowledge_dir: Path, make: Callable[[Curator], object]
) -> None:
    knowledge = curator.live.answerer.knowledge
    knowledge.phrasings(), knowledge.ids_in("stack")  # as after the warm-up and the first answers
    make(curator)
    assert_same_as_a_fresh_load(curator, knowledge_dir)


def test_after_several_edits_in_a_row_the_tables_are_those_of_a_fresh_load(
    curator: Curator, knowledge_dir: Path
) -> None:
    knowledge = curator.live.answerer.knowledge
    knowledge.phrasings(), knowledge.ids_in("stack")
    for make in EDITS.values():
        make(curator)
        curator.live.flush()
    assert_same_as_a_fresh_load(curator, knowledge_dir)
    assert curator.live.answerer.answer("What does a typical day look like?").declined_by == "typical-day"


def test_an_edit_derives_the_phrasings_table_instead_of_building_it_again(
    curator: Curator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building it reads every entry (seconds at 100k): the edit's own check and the warm-up after the
    reload must use the live table, patched with the edited entry."""
    curator.live.answerer.knowledge.phrasings()
    built: list[KnowledgeBase] = []
    real = KnowledgeBase._tabulate_phrasings
    monkeypatch.setattr(KnowledgeBase, "_tabulate_phrasings", lambda self: built.append(self) or real(self))
    curator.add_paraphrase("math-needed", "is statistics enough", MOD)
    curator.live.flush()  # the warm-up after the reload
    assert built == []
    assert curator.live.answerer.knowledge.phrasings()[0].count("is statistics enough") == 1
