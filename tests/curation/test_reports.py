"""What /kb stats and /kb history say, without Discord (the bot calls these from a worker thread)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from careerbot.curation.reports import FIELD_LIMIT, bounded_join, history_text, knowledge_stats
from careerbot.curation.store import Revision, Store
from careerbot.knowledge import Entry, KnowledgeBase

BEFORE = "id: pytorch\nquestion: What is PyTorch?\nanswer: Old.\n"
AFTER = "id: pytorch\nquestion: What is PyTorch?\nanswer: New.\n"


def entry(entry_id: str, topic: str, reviewed_on: date) -> Entry:
    return Entry(entry_id, f"What is {entry_id}?", ("a", "b", "c"), "An answer.", topic, (), (), reviewed_on)


def revision(number: int, action: str, before: str | None, after: str | None) -> Revision:
    return Revision(
        number, 1_700_000_000.0, "pytorch", "faq/stack/pytorch.yaml", 1, "mod", action, before, after
    )


def test_stats_count_topics_list_due_reviews_votes_and_most_asked(tmp_path: Path) -> None:
    knowledge = KnowledgeBase(
        [entry("pandas", "stack", date(2020, 1, 1)), entry("numpy", "stack", date(2026, 6, 1))]
    )
    store = Store(tmp_path / "careerbot.sqlite3")
    asked = store.record_question("what is pandas", "pandas", 0.9, False, "slash")
    store.record_feedback(asked, "pandas", helpful=True)
    fields = {f.name: f.value for f in knowledge_stats(knowledge, store, 365, date(2026, 11, 29))}
    store.close()
    assert "stack: 2" in fields["Entries per topic"] and "skills: 0" in fields["Entries per topic"]
    assert fields["Most asked"] == "pandas: 1"
    assert fields["Votes (helpful / not)"] == "pandas: 1 / 0"
    assert fields["Not reviewed for 365 days"] == "pandas"


def test_a_long_list_is_cut_to_an_embed_field_without_reading_all_of_it() -> None:
    read = 0

    def ids() -> Iterator[str]:
        nonlocal read
        for number in range(100_000):
            read += 1
            yield f"synthetic-{number:06d}"

    text = bounded_join(", ", ids())
    assert len(text) == FIELD_LIMIT and text.endswith("…")
    assert read < 100
    assert bounded_join(", ", ["a", "b"]) == "a, b"


def test_history_lists_revisions_and_warns_when_the_file_changed_outside() -> None:
    revisions = [revision(2, "edit", BEFORE, AFTER), revision(1, "add", None, BEFORE)]
    text = history_text(revisions, AFTER)
    assert text.splitlines() == [
        "#2 <t:1700000000:f> mod: edit (changed answer)",
        "#1 <t:1700000000:f> mod: add (created)",
    ]
    assert history_text(revisions, "id: pytorch\n").startswith("The file has changed outside careerbot")
    assert history_text([revision(3, "remove", AFTER, None)], None).endswith("remove (removed)")
