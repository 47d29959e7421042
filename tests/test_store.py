from __future__ import annotations

import sqlite3
from pathlib import Path

from careerbot.store import Store


def test_questions_and_feedback_are_kept_without_user_ids(tmp_path: Path) -> None:
    store = Store(tmp_path / "db" / "careerbot.sqlite3")
    asked = store.record_question("pytorch vs tf", "pytorch-vs-tensorflow", 0.81, False, "slash")
    declined = store.record_question("capital of peru", None, 0.1, True, "mention")
    store.record_feedback(asked, "pytorch-vs-tensorflow", helpful=False)
    store.close()

    reopened = Store(tmp_path / "db" / "careerbot.sqlite3")  # survives a restart
    record = reopened.asked(asked)
    assert record is not None and record.answer_id == "pytorch-vs-tensorflow" and not record.abstained
    assert reopened.asked(declined) is not None and reopened.unanswered() == ["capital of peru"]
    assert reopened.feedback() == [("pytorch vs tf", "pytorch-vs-tensorflow", False)]
    assert reopened.asked(999) is None
    reopened.close()

    columns = {
        row[1]
        for table in ("asked", "feedback")
        for row in sqlite3.connect(tmp_path / "db" / "careerbot.sqlite3").execute(
            f"PRAGMA table_info({table})"
        )
    }
    assert not {c for c in columns if "user" in c or "author" in c or "member" in c}


def test_revisions_keep_who_when_and_both_versions(tmp_path: Path) -> None:
    store = Store(tmp_path / "careerbot.sqlite3")
    first = store.record_revision("jupyter", "faq/stack/jupyter.yaml", 7, "mod", "add", None, "v1")
    second = store.record_revision("jupyter", "faq/stack/jupyter.yaml", 8, "other", "edit", "v1", "v2")
    store.record_revision("pytorch", "faq/stack/pytorch.yaml", 7, "mod", "remove", "p", None)
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


def test_gaps_stats_and_purge(tmp_path: Path) -> None:
    store = Store(tmp_path / "careerbot.sqlite3")
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
    with sqlite3.connect(tmp_path / "careerbot.sqlite3") as db:  # two questions and a vote from long ago
        db.execute("UPDATE asked SET asked_at = asked_at - 100 * 86400 WHERE id IN (?, ?)", (declined, low))
        db.execute("UPDATE feedback SET given_at = given_at - 100 * 86400 WHERE asked_id = ?", (unhelpful,))
    assert store.purge(older_than_days=90) == 2
    assert store.gaps(low_score=0.5) == []
    assert store.votes() == {"scikit-learn": (1, 0)}
    store.close()
