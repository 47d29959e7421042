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
