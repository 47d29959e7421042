"""A moderator's change as one recoverable step: recorded, written, marked done.

A change touches up to two files (a move writes the new one, then removes the old) and one database row
(the revision that audits it). A process killed between those steps would leave the entry in two topics
(the knowledge no longer loads) or a change on disk that the history does not show. So:

1. under the knowledge folder's lock, the change is checked and validated, then its revision row is
   written, marked unfinished (`done = 0`): entry id, paths, text before and after;
2. the files are written (each atomically: a file holds its text before or after, never half);
3. the row is marked done. Only done rows are history.

At start-up, before the knowledge is loaded, `recover` takes the same lock and finishes every
unfinished row: each file that still holds its text before gets its text after, then the row is marked
done. The lock makes sure the row is truly orphaned (its process died, which released the lock), not a
change another careerbot is making right now.

Why the revision row is the journal: the intent has to be recorded somewhere durable before the files,
and the audit record has to be written anyway; one SQLite row, committed atomically, is both, so there
is no third state between "the journal says done" and "the history shows it". A separate journal file
would need its own atomic write and a second step to move it into the history.

Why finish rather than undo: the change was validated before it was recorded, and after step 2 it is
already on disk (and may already be served); the row holds every text needed to finish it. The
moderator asked for it, and finishing needs no new decision. Undoing is only done in the process that
made the change, when a write fails (e.g. a read-only knowledge folder): the moderator is told so.

A file changed by hand after the crash (it holds neither text) is left as it is, the row is dropped,
and start-up names the file.

With PostgreSQL (several processes, careerbot.curation.postgres) the database also decides conflicts:
recording a change is refused with the difference when another process changed the entry first. Marking
it done publishes it to every process, so it must not fail silently: if the database went away after the
files were written, they are put back, the row is dropped (once the database is back) and the moderator
is told nothing was changed. So at start-up an unfinished row whose files were not written at all is
dropped there, not finished: its moderator was refused or saw no answer. Never one without the other:
files changed without a published revision, or a revision published whose files were never written.
"""

from __future__ import annotations

import difflib
import sqlite3
from pathlib import Path

from careerbot.curation.postgres import RevisionConflict
from careerbot.curation.store import DatabaseUnavailable, Revision, Store, StoreError
from careerbot.knowledge.changes import Change, ChangeConflict, ChangeRejected
from careerbot.knowledge.problems import Problem
from careerbot.knowledge.writer import KnowledgeWriter


class RevisionJournal:
    """The writer's journal for one moderator's action: its revision row, written before the files."""

    def __init__(self, store: Store, root: Path, moderator_id: int, moderator_name: str, action: str):
        self.store, self.root, self.action = store, root, action
        self.moderator_id, self.moderator_name = moderator_id, moderator_name
        self.revision_id = 0

    def begin(self, change: Change) -> int:
        moved_from = change.moved_from.relative_to(self.root).as_posix() if change.moved_from else None
        try:
            self.revision_id = self.store.begin_revision(
                change.entry_id,
                change.path.relative_to(self.root).as_posix(),
                moved_from,
                self.moderator_id,
                self.moderator_name,
                self.action,
                change.before,
                change.after,
            )
        except (sqlite3.Error, DatabaseUnavailable) as error:  # nothing is written unless it can be audited
            raise self._refused(f"careerbot cannot record the change in its database ({error})") from error
        except RevisionConflict as conflict:  # another process changed the entry first
            raise ChangeConflict(
                change.moved_from or change.path, _difference(change, conflict.head)
            ) from None
        return self.revision_id

    def finish(self, intent: int) -> None:
        try:
            self.store.finish_revision(intent)
        except DatabaseUnavailable as error:  # the writer puts the files back, then abandons the intent
            raise self._refused(f"the database went away before the change was recorded ({error})") from error

    def _refused(self, why: str) -> ChangeRejected:
        message = f"{why}; nothing was changed. Try again once the database is back."
        return ChangeRejected([Problem(self.root / "faq", None, "database", message)], invalid=False)

    def abandon(self, intent: int) -> None:
        self.store.drop_revision(intent)


def _difference(change: Change, head: Revision) -> str:
    """What the moderator started from against what the database holds for the entry now."""
    diff = "".join(
        difflib.unified_diff(
            (change.before or "").splitlines(keepends=True),
            (head.after or "").splitlines(keepends=True),
            fromfile="what you started from",
            tofile=f"revision #{head.id} by {head.moderator_name} (another careerbot process)",
        )
    )
    return diff or f"(revision #{head.id} by {head.moderator_name} created or removed the entry meanwhile)"


def finish_interrupted(writer: KnowledgeWriter, store: Store) -> list[str]:
    """Finishes the changes a crash cut short; one line per change, saying what was done."""
    if not store.unfinished_revisions():  # the usual start: no lock needed
        return []
    said = []
    try:
        with writer.exclusive():
            for revision in store.unfinished_revisions():
                said.append(_finish(writer, store, revision))
    except ChangeRejected as busy:  # another careerbot held the knowledge for the whole wait
        raise StoreError(f"cannot finish the interrupted changes to the knowledge: {busy}") from None
    return said


def _finish(writer: KnowledgeWriter, store: Store, revision: Revision) -> str:
    change = change_of(writer, revision)
    what = f"the interrupted {revision.action} of entry {revision.entry_id!r} by {revision.moderator_name}"
    if change is not None and not store.finish_unwritten and _unwritten(writer, change):
        store.drop_revision(revision.id)
        return f"dropped {what} (revision #{revision.id}): none of its files was written"
    try:
        finished = change is not None and writer.redo(change)
    except OSError as error:
        raise StoreError(
            f"cannot finish {what} (revision #{revision.id}): {error}. Make the knowledge folder "
            "writable by the user that runs careerbot and start it again; until then the entry may be "
            "in two topics or missing."
        ) from None
    if finished:
        store.finish_revision(revision.id)
        return f"finished {what} (revision #{revision.id})"
    store.drop_revision(revision.id)
    return f"left {what} unfinished: {revision.path} changed since (by hand?); check that file"


def _unwritten(writer: KnowledgeWriter, change: Change) -> bool:
    return all(writer.read(path) == before for path, (before, _) in change.files().items())


def recover(knowledge_dir: Path, database: Path) -> list[str]:
    """At start-up, before the knowledge is loaded: opens the database (StoreError if it is damaged or
    cannot be written) and finishes any interrupted change."""
    store = Store(database)
    try:
        return finish_interrupted(KnowledgeWriter(knowledge_dir), store)
    finally:
        store.close()


def change_of(writer: KnowledgeWriter, revision: Revision) -> Change | None:
    """The change a revision row records, if its paths are entry files inside the knowledge folder."""
    path = writer.entry_file(revision.entry_id, writer.root / revision.path)
    moved_from = (
        writer.entry_file(revision.entry_id, writer.root / revision.moved_from)
        if revision.moved_from
        else None
    )
    if path is None or (revision.moved_from and moved_from is None):
        return None
    return Change(revision.entry_id, path, revision.before, revision.after, moved_from=moved_from)
