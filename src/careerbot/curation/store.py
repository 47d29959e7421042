"""SQLite: the questions members asked (no user ids), what was answered, and their feedback; and the
history of moderators' changes.

Buttons on answers carry the id of their `asked` row in their custom_id, so feedback and "not what I
meant" keep working after a restart.

A database that is damaged (truncated, a bad header, failing `PRAGMA quick_check`) or cannot be written
stops start-up with StoreError, whose message says what to do: careerbot never starts over an empty
database in its place, which would silently lose the revision history.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS asked (
    id INTEGER PRIMARY KEY,
    asked_at REAL NOT NULL,
    question TEXT NOT NULL,
    answer_id TEXT,             -- NULL when careerbot declined
    score REAL NOT NULL,
    abstained INTEGER NOT NULL,
    channel_kind TEXT NOT NULL  -- slash | context-menu | mention | help-channel
);
CREATE INDEX IF NOT EXISTS asked_unanswered ON asked (abstained, asked_at);
CREATE TABLE IF NOT EXISTS revisions (
    id INTEGER PRIMARY KEY,
    changed_at REAL NOT NULL,
    entry_id TEXT NOT NULL,
    path TEXT NOT NULL,
    moderator_id INTEGER NOT NULL,  -- who changed it: moderators' actions are audited, members' questions not
    moderator_name TEXT NOT NULL,
    action TEXT NOT NULL,           -- add | edit | remove | revert
    before TEXT,                    -- NULL: the entry did not exist
    after TEXT,                     -- NULL: the entry was removed
    moved_from TEXT,                -- the entry's file before, when the change moved it to `path`
    done INTEGER NOT NULL DEFAULT 1 -- 0: recorded before its files were written (careerbot.curation.journal)
);
CREATE INDEX IF NOT EXISTS revisions_entry ON revisions (entry_id, id);
CREATE TABLE IF NOT EXISTS drafts (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    payload TEXT NOT NULL           -- JSON: a moderator's pending change, named by id in a button or modal
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    given_at REAL NOT NULL,
    asked_id INTEGER NOT NULL REFERENCES asked (id),
    answer_id TEXT NOT NULL,
    helpful INTEGER NOT NULL
);
"""


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


class StoreError(Exception):
    """careerbot's stored state cannot be used (a damaged or unwritable database, or a change it records
    that cannot be finished): start-up stops. The message says why and what to do, in one paragraph."""


# Columns added since the first release: a database made before gets them on opening.
ADDED_COLUMNS = {"revisions": (("moved_from", "TEXT"), ("done", "INTEGER NOT NULL DEFAULT 1"))}
DAMAGE = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


class Store:
    """One connection, used from worker threads one at a time (the lock), never from the event loop."""

    def __init__(self, path: Path) -> None:
        self._connection = _open(path)
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

    def feedback(self) -> list[tuple[str, str, bool]]:
        """(question, answer id, helpful) for every vote, oldest first."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT asked.question, feedback.answer_id, feedback.helpful"
                " FROM feedback JOIN asked ON asked.id = feedback.asked_id ORDER BY feedback.id"
            ).fetchall()
        return [(question, answer_id, bool(helpful)) for question, answer_id, helpful in rows]

    def unanswered(self, limit: int = 100) -> list[str]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT question FROM asked WHERE abstained = 1 ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [row[0] for row in rows]

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


def _open(path: Path) -> sqlite3.Connection:
    """The database at `path`, created if there is none, checked if there is one; else StoreError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        empty = path.is_file() and path.stat().st_size == 0
    except OSError as error:
        raise StoreError(_cannot_write(path, error)) from None
    if empty:  # SQLite would take it for a new database and start the history over
        raise StoreError(_damaged(path, "the file is empty: it was truncated"))
    existed = path.exists()
    try:
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    except sqlite3.DatabaseError as error:
        raise StoreError(_cannot_write(path, error)) from None
    try:
        if existed and (check := connection.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            raise StoreError(_damaged(path, f"PRAGMA quick_check: {check}"))
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(SCHEMA)
        _add_new_columns(connection)
    except sqlite3.DatabaseError as error:
        connection.close()
        damaged = getattr(error, "sqlite_errorname", "") in DAMAGE
        raise StoreError(_damaged(path, str(error)) if damaged else _cannot_write(path, error)) from None
    except StoreError:
        connection.close()
        raise
    return connection


def _add_new_columns(connection: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns:
            if name not in present:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


def _damaged(path: Path, reason: str) -> str:
    return (
        f"the database {path} is damaged ({reason}). careerbot will not start over it, so that the "
        "history of moderators' changes is not replaced by an empty one. Stop careerbot and move the "
        f"file aside with the {path.name}-wal and {path.name}-shm files beside it, if any (e.g. "
        f"`mv {path} {path}.damaged`); then restore it from a backup, or start careerbot again to "
        "begin an empty database (the questions, votes and revision history in the old file are then "
        f"lost; `sqlite3 {path}.damaged .recover` may save part of them)."
    )


def _cannot_write(path: Path, error: Exception) -> str:
    return (
        f"careerbot cannot open its database {path} ({error}). The folder {path.parent} must exist and "
        "be writable by the user that runs careerbot (SQLite keeps its -wal and -shm files beside the "
        "database): make it writable, or set [storage] database in bot.toml to a writable place."
    )
