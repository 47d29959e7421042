"""careerbot's SQLite database file: its schema, opening it (created, checked, brought up to the current
schema), and what to tell the operator when it is damaged or cannot be written.

A database that is damaged (truncated, a bad header, failing `PRAGMA quick_check`) or cannot be written
stops start-up with StoreError, whose message says what to do: careerbot never starts over an empty
database in its place, which would silently lose the revision history.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

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


class StoreError(Exception):
    """careerbot's stored state cannot be used (a damaged or unwritable database, or a change it records
    that cannot be finished): start-up stops. The message says why and what to do, in one paragraph."""


# Columns added since the first release: a database made before gets them on opening.
ADDED_COLUMNS = {"revisions": (("moved_from", "TEXT"), ("done", "INTEGER NOT NULL DEFAULT 1"))}
DAMAGE = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


def open_database(path: Path) -> sqlite3.Connection:
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
