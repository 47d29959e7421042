"""SQLite: the questions members asked (no user ids), what was answered, and their feedback; and the
history of moderators' changes. The file itself (schema, opening, damage) is careerbot.curation.database.

Buttons on answers carry the id of their `asked` row in their custom_id, so feedback and "not what I
meant" keep working after a restart.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from careerbot.curation.database import StoreError, open_database

__all__ = ["Asked", "Revision", "Store", "StoreError"]  # StoreError: what opening a Store raises


@dataclass(frozen=True)
class Asked:
    id: int
    question: str
    answer_id: str | None
    score: float
    abstained: bool


@dataclass(frozen=True)
class Revision:
    id: int
    changed_at: float
    entry_id: str
    path: str
    moderator_id: int
    moderator_name: str
    action: str
    before: str | None
    after: str | None
    moved_from: str | None = None


class Store:
    """One connection, used from worker threads one at a time (the lock), never from the event loop."""

    def __init__(self, path: Path) -> None:
        self._connection = open_database(path)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def record_question(
        self, question: str, answer_id: str | None, score: float, abstained: bool, channel_kind: str
    ) -> int:
        with self._lock:
            cursor = self._connection.execute(
                "INSERT INTO asked (asked_at, question, answer_id, score, abstained, channel_kind)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (time.time(), question, answer_id, score, int(abstained), channel_kind),
            )
            return int(cursor.lastrowid or 0)

    def asked(self, asked_id: int) -> Asked | None:
        with self._lock:
            row = self._connection.execute(
                "SELECT id, question, answer_id, score, abstained FROM asked WHERE id = ?", (asked_id,)
            ).fetchone()
        return Asked(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    def record_feedback(self, asked_id: int, answer_id: str, helpful: bool) -> None:
        with self._lock:
            self._connection.execute(
                "INSERT INTO feedback (given_at, asked_id, answer_id, helpful) VALUES (?, ?, ?, ?)",
                (time.time(), asked_id, answer_id, int(helpful)),
            )

    def begin_revision(
        self,
        entry_id: str,
        path: str,
        moved_from: str | None,
        moderator_id: int,
        moderator_name: str,
        action: str,
        before: str | None,
        after: str | None,
    ) -> int:
        """Records a change before its files are written: unfinished, and left out of the history,
        until finish_revision (see careerbot.curation.journal)."""
        with self._lock:
            cursor = self._connection.execute(
                "INSERT INTO revisions (changed_at, entry_id, path, moderator_id, moderator_name, action,"
                " before, after, moved_from, done) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    time.time(),
                    entry_id,
                    path,
                    moderator_id,
                    moderator_name,
                    action,
                    before,
                    after,
                    moved_from,
                ),
            )
            return int(cursor.lastrowid or 0)

    def finish_revision(self, revision_id: int) -> None:
        with self._lock:
            self._connection.execute("UPDATE revisions SET done = 1 WHERE id = ?", (revision_id,))

    def drop_revision(self, revision_id: int) -> None:
        """Forgets a change that was recorded but not made."""
        with self._lock:
            self._connection.execute("DELETE FROM revisions WHERE id = ? AND done = 0", (revision_id,))

    def unfinished_revisions(self) -> list[Revision]:
        """Changes recorded and not yet marked done, oldest first."""
        with self._lock:
            rows = self._connection.execute(
                f"SELECT {REVISION_COLUMNS} FROM revisions WHERE done = 0 ORDER BY id"
            ).fetchall()
        return [Revision(*row) for row in rows]

    def history(self, entry_id: str, limit: int = 20) -> list[Revision]:
        """Newest first."""
        with self._lock:
            rows = self._connection.execute(
                f"SELECT {REVISION_COLUMNS} FROM revisions WHERE entry_id = ? AND done = 1"
                " ORDER BY id DESC LIMIT ?",
                (entry_id, limit),
            ).fetchall()
        return [Revision(*row) for row in rows]

    def revision(self, revision_id: int) -> Revision | None:
        with self._lock:
            row = self._connection.execute(
                f"SELECT {REVISION_COLUMNS} FROM revisions WHERE id = ? AND done = 1", (revision_id,)
            ).fetchone()
        return Revision(*row) if row else None

    def save_draft(self, payload: dict[str, Any]) -> int:
        with self._lock:
            cursor = self._connection.execute(
                "INSERT INTO drafts (created_at, payload) VALUES (?, ?)", (time.time(), json.dumps(payload))
            )
            return int(cursor.lastrowid or 0)

    def draft(self, draft_id: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._connection.execute("SELECT payload FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        payload = json.loads(row[0]) if row else None
        return payload if isinstance(payload, dict) else None

    def purge(self, older_than_days: float) -> int:
        """Deletes members' questions and votes past the retention period; returns how many questions."""
        cutoff = time.time() - older_than_days * 86_400
        with self._lock:
            self._connection.execute("DELETE FROM feedback WHERE given_at < ?", (cutoff,))
            self._connection.execute(
                "DELETE FROM feedback WHERE asked_id IN (SELECT id FROM asked WHERE asked_at < ?)", (cutoff,)
            )
            cursor = self._connection.execute("DELETE FROM asked WHERE asked_at < ?", (cutoff,))
            self._connection.execute("DELETE FROM drafts WHERE created_at < ?", (cutoff,))
            return cursor.rowcount

    def gaps(self, low_score: float, limit: int = 200) -> list[str]:
        """Recent questions careerbot declined, answered with a score below `low_score`, or that a
        member marked not helpful; newest first."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT question FROM asked WHERE abstained = 1 OR score < ?"
                " OR id IN (SELECT asked_id FROM feedback WHERE helpful = 0)"
                " ORDER BY id DESC LIMIT ?",
                (low_score, limit),
            ).fetchall()
        return [row[0] for row in rows]

    def most_asked(self, limit: int = 10) -> list[tuple[str, int]]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT answer_id, COUNT(*) AS n FROM asked WHERE answer_id IS NOT NULL"
                " GROUP BY answer_id ORDER BY n DESC, answer_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [(row[0], int(row[1])) for row in rows]

    def votes(self) -> dict[str, tuple[int, int]]:
        """answer id -> (helpful, not helpful)."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT answer_id, SUM(helpful), SUM(1 - helpful) FROM feedback GROUP BY answer_id"
            ).fetchall()
        return {row[0]: (int(row[1]), int(row[2])) for row in rows}


REVISION_COLUMNS = (
    "id, changed_at, entry_id, path, moderator_id, moderator_name, action, before, after, moved_from"
)
