"""What careerbot recorded, read straight from its database file: tests check what was stored without
careerbot keeping queries that only tests would call."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def declined_questions(database: Path) -> list[str]:
    """The questions careerbot declined, newest first."""
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT question FROM asked WHERE abstained = 1 ORDER BY id DESC"
        ).fetchall()
    return [question for (question,) in rows]


def votes_given(database: Path) -> list[tuple[str, str, bool]]:
    """(question, answer id, helpful) for every vote, oldest first."""
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT asked.question, feedback.answer_id, feedback.helpful"
            " FROM feedback JOIN asked ON asked.id = feedback.asked_id ORDER BY feedback.id"
        ).fetchall()
    return [(question, answer_id, bool(helpful)) for question, answer_id, helpful in rows]
