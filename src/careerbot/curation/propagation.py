"""Knowledge edits reaching every process that shares one PostgreSQL database.

Each change a moderator makes is a revision row (careerbot.curation.postgres): text before and after,
and, once done, a `published` number in the one order every process applies changes in. A process
applies each published revision to its own knowledge folder (so a restart keeps it and git sees it),
then reloads its live engine. A NOTIFY wakes it at once; it also looks every few seconds, in case a
notification was lost while the connection was down. `applied` remembers, per folder, the number it is
at: a process that was down applies what it missed at start-up, before its knowledge loads.

Applying is idempotent: a file that already holds the revision's text after (its own change, or one
applied before a crash cut the bookkeeping short) is left alone, and the engine reloads only when a file
was written. A file holding neither text (changed by hand) is left as it is, with a warning.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import psycopg

from careerbot.curation.journal import change_of, finish_interrupted
from careerbot.curation.journal import recover as recover_one_process
from careerbot.curation.postgres import PostgresStore
from careerbot.curation.store import DatabaseUnavailable, Revision, Store
from careerbot.engine.live import LiveEngine
from careerbot.knowledge.writer import KnowledgeWriter

log = logging.getLogger(__name__)

LOOK_EVERY_SECONDS = 5.0  # without a notification, how often to look for published revisions anyway
RETRY_SECONDS = 1.0  # after losing the database, how long to wait before connecting again


def node_name(knowledge_dir: Path) -> str:
    """Which process's folder this is, across machines: host and folder."""
    return f"{socket.gethostname()}:{knowledge_dir.resolve()}"


def open_store(database: Path | str, knowledge_dir: Path, live: LiveEngine | None = None) -> Store:
    """SQLite for a path, PostgreSQL for a URL. With `live` (a running bot) and PostgreSQL, revisions
    published by other processes are applied here as they come, until the store closes."""
    if isinstance(database, Path):
        return Store(database)
    store = PostgresStore(database, node_name(knowledge_dir))
    if live is not None:
        follower = RevisionFollower(store, KnowledgeWriter(knowledge_dir), live)
        follower.start()
        store.on_close(follower.stop)
    return store


def recover(knowledge_dir: Path, database: Path | str) -> list[str]:
    """At start-up, before the knowledge loads: finishes this folder's interrupted changes, then applies
    every revision other processes published meanwhile. StoreError if the database cannot be used."""
    if isinstance(database, Path):
        return recover_one_process(knowledge_dir, database)
    store = PostgresStore(database, node_name(knowledge_dir))
    try:
        writer = KnowledgeWriter(knowledge_dir)
        said = finish_interrupted(writer, store)
        applied = RevisionFollower(store, writer).catch_up()
        return [*said, f"applied {applied} change(s) made by other processes"] if applied else said
    finally:
        store.close()


class RevisionFollower:
    """Keeps one folder (and its live engine, if any) at the newest published revision."""

    def __init__(self, store: PostgresStore, writer: KnowledgeWriter, live: LiveEngine | None = None) -> None:
        self.store, self.writer, self.live = store, writer, live
        self._catching_up = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="careerbot-revisions", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=LOOK_EVERY_SECONDS + 1)

    def catch_up(self) -> int:
        """Applies every revision published since this folder's mark; returns how many wrote files."""
        with self._catching_up:
            pending = self.store.published_since(self.store.applied_mark())
            if not pending:
                return 0
            with self.writer.exclusive():
                written = sum(self._apply(revision) for _, revision in pending)
            self.store.mark_applied(
                pending[-1][0]
            )  # lost if the database goes now: applying again is harmless
        if written and self.live is not None:
            report = self.live.reload()
            if not report.swapped:
                log.error("changes from other processes left the knowledge invalid: %s", report.problems)
        return written

    def _apply(self, revision: Revision) -> bool:
        change = change_of(self.writer, revision)
        what = f"revision #{revision.id} ({revision.action} of {revision.entry_id!r} by {revision.moderator_name})"
        if change is None:
            log.warning("%s names no entry file inside the knowledge folder: not applied", what)
            return False
        files = change.files()
        if all(self.writer.read(path) == after for path, (_, after) in files.items()):
            return False  # already here
        if not self.writer.redo(change):
            log.warning("%s not applied: %s holds neither its text before nor after it", what, change.path)
            return False
        log.info("applied %s", what)
        return True

    def _follow(self) -> None:
        while not self._stopping.is_set():
            try:
                with self.store.listener() as connection:
                    self.store.write_pending()  # members' questions and votes kept while it was away
                    self.catch_up()  # what was published while not listening
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=LOOK_EVERY_SECONDS, stop_after=1):
                            pass
                        self.catch_up()
            except (DatabaseUnavailable, psycopg.OperationalError) as error:
                log.warning("cannot follow the knowledge changes: %s; trying again", error)
            except Exception:  # a connection lost mid-wait, or a failed write: logged, and tried again
                log.exception("following the knowledge changes failed; trying again")
            self._stopping.wait(RETRY_SECONDS)
