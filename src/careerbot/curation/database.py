"""careerbot's SQLite database file: opening it (created, checked, brought up to the current schema of
careerbot.curation.schema), and what to tell the operator when it is damaged or cannot be written.

A database that is damaged (truncated, a bad header, failing `PRAGMA quick_check`) or cannot be written
stops start-up with StoreError, whose message says what to do: careerbot never starts over an empty
database in its place, which would silently lose the revision history.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from careerbot.curation.schema import NewerSchema, bring_up_to_date


class StoreError(Exception):
    """careerbot's stored state cannot be used (a damaged or unwritable database, or a change it records
    that cannot be finished): start-up stops. The message says why and what to do, in one paragraph."""


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
            raise StoreError(_damaged(path, "PRAGMA quick_check: " + " ".join(check.split())))
        connection.execute("PRAGMA journal_mode=WAL")
        _bring_up_to_date(connection)
    except sqlite3.DatabaseError as error:
        connection.close()
        damaged = getattr(error, "sqlite_errorname", "") in DAMAGE
        raise StoreError(_damaged(path, str(error)) if damaged else _cannot_write(path, error)) from None
    except StoreError:
        connection.close()
        raise
    return connection


def _bring_up_to_date(connection: sqlite3.Connection) -> None:
    """Creates what is missing, in one transaction; refuses a database from a newer careerbot."""

    def run(statement: str) -> Any:
        row = connection.execute(statement).fetchone()
        return row[0] if row else None

    def columns(table: str) -> set[str]:
        return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}

    connection.execute("BEGIN IMMEDIATE")
    try:
        bring_up_to_date("sqlite", run, columns)
    except BaseException as error:
        connection.execute("ROLLBACK")
        if isinstance(error, NewerSchema):
            raise StoreError(str(error)) from None
        raise
    connection.execute("COMMIT")


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
