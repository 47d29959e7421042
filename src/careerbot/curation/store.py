"""The questions members asked (no user ids), what was answered, and their feedback; and the history of
moderators' changes. In SQLite for one process (the file itself: careerbot.curation.database), or in
PostgreSQL shared by several (careerbot.curation.postgres, which also shares the changes themselves).
The queries are written once, with `?` for parameters, and run on either engine through a `Database`.

Buttons on answers carry the id of their `asked` row in their custom_id, so feedback and "not what I
meant" keep working after a restart.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from careerbot.curation.database import StoreError, open_database

__all__ = ["Asked", "DatabaseUnavailable", "Revision", "Store", "StoreError"]  # StoreError: opening fails

Row = tuple[Any, ...]


QUESTION_INSERT = (
    "INSERT INTO asked (asked_at, question, answer_id, score, abstained, channel_kind)"
    " VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
)
FEEDBACK_INSERT = "INSERT INTO feedback (given_at, asked_id, answer_id, helpful) VALUES (?, ?, ?, ?)"


class DatabaseUnavailable(Exception):
    """The shared database cannot be reached right now (restarting, network): the operation was not
    done. Raised only by PostgreSQL; the message never holds the password."""


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


class Database(Protocol):
    """Where the store's queries run: SQLite's file or PostgreSQL's pool."""

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]: ...
    def change(self, sql: str, parameters: Sequence[Any] = ()) -> int: ...
    def change_all(self, statements: Sequence[tuple[str, Sequence[Any]]], counted: int = 2) -> int: ...
    def close(self) -> None: ...


class SqliteDatabase:
    """SQLite's: one connection used from worker threads one at a time (the lock),
    never from the event loop. careerbot.curation.postgres has the PostgreSQL one."""

    def __init__(self, path: Path) -> None:
        self._connection = open_database(path)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def change(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Runs an INSERT (ending `RETURNING id`: returns the new row's id), UPDATE or DELETE (returns
        how many rows it changed)."""
        with self._lock:
            cursor = self._connection.execute(sql, parameters)
            return _changed(cursor.fetchone() if "RETURNING" in sql else None, cursor.rowcount)

    def change_all(self, statements: Sequence[tuple[str, Sequence[Any]]], counted: int = 2) -> int:
        """Runs the statements in one transaction; returns how many rows statement `counted` changed."""
        with self._lock:
            self._connection.execute("BEGIN")
            try:
                counts = [self._connection.execute(sql, p).rowcount for sql, p in statements]
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")
        return counts[counted]


def _changed(returned: Row | None, rowcount: int) -> int:
    return int(returned[0]) if returned is not None else rowcount


class Store:
    # At start-up, a change recorded but whose files were not written at all: finished (one process,
    # see careerbot.curation.journal) or dropped (PostgreSQL, where it was refused to its moderator).
    finish_unwritten = True

    _db: Database

    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path)

    def close(self) -> None:
        self._db.close()

    def record_question(
        self, question: str, answer_id: str | None, score: float, abstained: bool, channel_kind: str
    ) -> int:
        return self._db.change(
            QUESTION_INSERT, (time.time(), question, answer_id, score, int(abstained), channel_kind)
        )

    def asked(self, asked_id: int) -> Asked | None:
        rows = self._db.rows(
            "SELECT id, question, answer_id, score, abstained FROM asked WHERE id = ?", (asked_id,)
        )
        return Asked(row[0], row[1], row[2], row[3], bool(row[4])) if (row := _first(rows)) else None

    def record_feedback(self, asked_id: int, answer_id: str, helpful: bool) -> None:
        self._db.change(FEEDBACK_INSERT, (time.time(), asked_id, answer_id, int(helpful)))

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
        values = (
            time.time(),
            entry_id,
            path,
            moderator_id,
            moderator_name,
            action,
            before,
            after,
            moved_from,
        )
        return self._record_revision(entry_id, values)

    def _record_revision(self, entry_id: str, values: tuple[Any, ...]) -> int:
        return self._db.change(REVISION_INSERT, (*values, None))  # origin: only PostgreSQL's processes differ

    def finish_revision(self, revision_id: int) -> None:
        self._db.change("UPDATE revisions SET done = 1 WHERE id = ?", (revision_id,))

    def drop_revision(self, revision_id: int) -> None:
        """Forgets a change that was recorded but not made."""
        self._db.change("DELETE FROM revisions WHERE id = ? AND done = 0", (revision_id,))

    def unfinished_revisions(self) -> list[Revision]:
        """Changes recorded and not yet marked done, oldest first."""
        rows = self._db.rows(f"SELECT {REVISION_COLUMNS} FROM revisions WHERE done = 0 ORDER BY id")
        return [Revision(*row) for row in rows]

    def history(self, entry_id: str, limit: int = 20) -> list[Revision]:
        """Newest first."""
        rows = self._db.rows(
            f"SELECT {REVISION_COLUMNS} FROM revisions WHERE entry_id = ? AND done = 1"
            " ORDER BY id DESC LIMIT ?",
            (entry_id, limit),
        )
        return [Revision(*row) for row in rows]

    def revision(self, revision_id: int) -> Revision | None:
        rows = self._db.rows(
            f"SELECT {REVISION_COLUMNS} FROM revisions WHERE id = ? AND done = 1", (revision_id,)
        )
        return Revision(*row) if (row := _first(rows)) else None

    def save_draft(self, payload: dict[str, Any]) -> int:
        return self._db.change(
            "INSERT INTO drafts (created_at, payload) VALUES (?, ?) RETURNING id",
            (time.time(), json.dumps(payload)),
        )

    def draft(self, draft_id: int) -> dict[str, Any] | None:
        row = _first(self._db.rows("SELECT payload FROM drafts WHERE id = ?", (draft_id,)))
        payload = json.loads(row[0]) if row else None
        return payload if isinstance(payload, dict) else None

    def purge(self, older_than_days: float) -> int:
        """Deletes members' questions and votes past the retention period; returns how many questions."""
        return self._db.change_all(purge_statements(older_than_days))

    def gaps(self, low_score: float, limit: int = 200) -> list[str]:
        """Recent questions careerbot declined, answered with a score below `low_score`, or that a
        member marked not helpful; newest first."""
        rows = self._db.rows(
            "SELECT question FROM asked WHERE abstained = 1 OR score < ?"
            " OR id IN (SELECT asked_id FROM feedback WHERE helpful = 0)"
            " ORDER BY id DESC LIMIT ?",
            (low_score, limit),
        )
        return [row[0] for row in rows]

    def most_asked(self, limit: int = 10) -> list[tuple[str, int]]:
        rows = self._db.rows(
            "SELECT answer_id, COUNT(*) AS n FROM asked WHERE answer_id IS NOT NULL"
            " GROUP BY answer_id ORDER BY n DESC, answer_id LIMIT ?",
            (limit,),
        )
        return [(row[0], int(row[1])) for row in rows]

    def votes(self) -> dict[str, tuple[int, int]]:
        """answer id -> (helpful, not helpful)."""
        rows = self._db.rows(
            "SELECT answer_id, SUM(helpful), SUM(1 - helpful) FROM feedback GROUP BY answer_id"
        )
        return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def _first(rows: list[Row]) -> Row | None:
    return rows[0] if rows else None


def purge_statements(older_than_days: float) -> list[tuple[str, Sequence[Any]]]:
    """The deletes of a retention sweep, in order (votes before the questions they name); the third
    one's count is the questions deleted."""
    cutoff = time.time() - older_than_days * 86_400
    return [
        ("DELETE FROM feedback WHERE given_at < ?", (cutoff,)),
        ("DELETE FROM feedback WHERE asked_id IN (SELECT id FROM asked WHERE asked_at < ?)", (cutoff,)),
        ("DELETE FROM asked WHERE asked_at < ?", (cutoff,)),
        ("DELETE FROM drafts WHERE created_at < ?", (cutoff,)),
    ]


REVISION_COLUMNS = (
    "id, changed_at, entry_id, path, moderator_id, moderator_name, action, before, after, moved_from"
)
REVISION_INSERT = (
    "INSERT INTO revisions (changed_at, entry_id, path, moderator_id, moderator_name, action, before,"
    " after, moved_from, origin, done) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id"
)
