"""The store, the same on both engines: each test runs on SQLite and on PostgreSQL (tests.postgres)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from careerbot.curation.store import Store, StoreError
from tests.curation.conftest import Database


def test_questions_and_feedback_are_kept_without_user_ids(database: Database) -> None:
    store = database.open()
    asked = store.record_question("pytorch vs tf", "pytorch-vs-tensorflow", 0.81, False, "slash")
    declined = store.record_question("capital of peru", None, 0.1, True, "mention")
    store.record_feedback(asked, "pytorch-vs-tensorflow", helpful=False)
    store.close()

    reopened = database.open()  # survives a restart
    record = reopened.asked(asked)
    assert record is not None and record.answer_id == "pytorch-vs-tensorflow" and not record.abstained
    assert reopened.asked(declined) is not None
    assert database.sql("SELECT question FROM asked WHERE abstained = 1") == [("capital of peru",)]
    votes = "SELECT asked.question, feedback.answer_id, feedback.helpful FROM feedback JOIN asked ON asked.id = feedback.asked_id"
    assert database.sql(votes) == [("pytorch vs tf", "pytorch-vs-tensorflow", 0)]
    assert reopened.asked(999) is None
    reopened.close()

    columns = {
        name
        for table in ("asked", "feedback")
        for (name,) in database.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
            if database.engine == "postgresql"
            else "SELECT name FROM pragma_table_info(?)",
            (table,),
        )
    }
    assert "question" in columns and not {c for c in columns if "user" in c or "author" in c or "member" in c}


def record(store: Store, entry_id: str, who: str, action: str, before: str | None, after: str | None) -> int:
    revision_id = store.begin_revision(
        entry_id, f"faq/stack/{entry_id}.yaml", None, 7, who, action, before, after
    )
    store.finish_revision(revision_id)
    return revision_id


def test_revisions_keep_who_when_and_both_versions(database: Database) -> None:
    store = database.open()
    first = record(store, "jupyter", "mod", "add", None, "v1")
    second = record(store, "jupyter", "other", "edit", "v1", "v2")
    record(store, "pytorch", "mod", "remove", "p", None)
    history = store.history("jupyter")
    assert [r.id for r in history] == [second, first]
    assert (history[0].moderator_name, history[0].action, history[0].before, history[0].after) == (
        "other",
        "edit",
        "v1",
        "v2",
    )
    assert store.revision(first) is not None and store.revision(first).after == "v1"  # type: ignore[union-attr]
    assert store.revision(999) is None
    store.close()


def test_a_moderator_id_from_discord_fits(database: Database) -> None:
    """Discord ids are 64-bit: PostgreSQL's INTEGER would refuse them."""
    store = database.open()
    revision_id = store.begin_revision(
        "jupyter", "faq/stack/jupyter.yaml", None, 2**62, "mod", "add", None, "v1"
    )
    store.finish_revision(revision_id)
    assert store.history("jupyter")[0].moderator_id == 2**62
    store.close()


def test_a_revision_is_history_only_once_finished(database: Database) -> None:
    store = database.open()
    pending = store.begin_revision(
        "jupyter", "faq/skills/jupyter.yaml", "faq/stack/jupyter.yaml", 7, "mod", "edit", "v1", "v2"
    )
    store.drop_revision(pending)
    pending = store.begin_revision(
        "jupyter", "faq/skills/jupyter.yaml", "faq/stack/jupyter.yaml", 7, "mod", "edit", "v1", "v2"
    )
    assert store.history("jupyter") == [] and store.revision(pending) is None
    assert [r.id for r in store.unfinished_revisions()] == [pending]
    store.finish_revision(pending)
    [revision] = store.history("jupyter")
    assert (revision.id, revision.moved_from, store.unfinished_revisions()) == (
        pending,
        "faq/stack/jupyter.yaml",
        [],
    )
    store.close()


def test_drafts_survive_a_restart(database: Database) -> None:
    store = database.open()
    draft = store.save_draft({"entry_id": "jupyter", "text": "x"})
    store.close()
    reopened = database.open()
    assert reopened.draft(draft) == {"entry_id": "jupyter", "text": "x"} and reopened.draft(draft + 1) is None
    reopened.close()


OLD_REVISIONS = """
CREATE TABLE revisions (
    id INTEGER PRIMARY KEY, changed_at REAL NOT NULL, entry_id TEXT NOT NULL, path TEXT NOT NULL,
    moderator_id INTEGER NOT NULL, moderator_name TEXT NOT NULL, action TEXT NOT NULL, before TEXT, after TEXT
);
INSERT INTO revisions VALUES (1, 0.0, 'jupyter', 'faq/stack/jupyter.yaml', 7, 'mod', 'add', NULL, 'v1');
"""


def test_a_database_from_before_moves_were_recorded_keeps_its_history(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "careerbot.sqlite3") as db:
        db.executescript(OLD_REVISIONS)
    store = Store(tmp_path / "careerbot.sqlite3")
    [revision] = store.history("jupyter")
    assert (revision.after, revision.moved_from) == ("v1", None)
    store.close()
    with sqlite3.connect(tmp_path / "careerbot.sqlite3") as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(2,)]


def test_the_schema_version_is_recorded_and_a_newer_one_refused(database: Database) -> None:
    database.open().close()
    database.open().close()  # opening again changes nothing
    assert database.sql("SELECT version FROM schema_version") == [(2,)]
    database.sql("UPDATE schema_version SET version = 3")
    with pytest.raises(StoreError, match="schema version 3, newer than this careerbot knows"):
        database.open()


def test_gaps_stats_and_purge(database: Database) -> None:
    store = database.open()
    declined = store.record_question("capital of peru", None, 0.1, True, "slash")
    low = store.record_question("pytorch vs jax?", "pytorch", 0.47, False, "slash")
    good = store.record_question("sklearn uses", "scikit-learn", 0.9, False, "slash")
    unhelpful = store.record_question("mle salary", "salary", 0.8, False, "slash")
    store.record_feedback(unhelpful, "salary", helpful=False)
    store.record_feedback(good, "scikit-learn", helpful=True)
    store.record_question("sklearn?", "scikit-learn", 0.85, False, "mention")
    assert store.gaps(low_score=0.5) == ["mle salary", "pytorch vs jax?", "capital of peru"]
    assert store.most_asked(2) == [("scikit-learn", 2), ("pytorch", 1)]
    assert store.votes() == {"salary": (0, 1), "scikit-learn": (1, 0)}
    # two questions and a vote from long ago
    database.sql("UPDATE asked SET asked_at = asked_at - 100 * 86400 WHERE id IN (?, ?)", (declined, low))
    database.sql("UPDATE feedback SET given_at = given_at - 100 * 86400 WHERE asked_id = ?", (unhelpful,))
    assert store.purge(older_than_days=90) == 2
    assert store.gaps(low_score=0.5) == []
    assert store.votes() == {"scikit-learn": (1, 0)}
    store.close()
