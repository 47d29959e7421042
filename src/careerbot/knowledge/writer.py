"""Changing entry files: validated as a whole before anything is written, written atomically, and never
over a version the editor did not see.

Every change names the text it expects to replace (`expected`: None for a new entry). If the file holds
something else by then (another moderator, another careerbot process, a git pull), the change is
refused with the difference, so no edit silently overwrites another. The check and the write happen
under a lock on the knowledge folder that every careerbot process takes (files.folder_lock).

Which files an entry id may touch is careerbot.knowledge.entry_paths's job; the change and its
refusals are defined in careerbot.knowledge.changes.

A change given a `Journal` is recorded before its files are written and marked done after, so a crash
in between can be finished at the next start (careerbot.curation.journal).
"""

from __future__ import annotations

import dataclasses
import difflib
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from careerbot.files import folder_lock, write_text_atomically
from careerbot.knowledge.changes import Change, ChangeConflict, ChangeRejected, Journal
from careerbot.knowledge.codec import entry_text
from careerbot.knowledge.entry_paths import EntryPaths
from careerbot.knowledge.problems import Problem
from careerbot.knowledge.snapshot import Refresh, Snapshot, refresh

# How long a change waits for another process's change to the knowledge to finish.
LOCK_TIMEOUT_SECONDS = 30.0


class KnowledgeWriter(EntryPaths):
    def __init__(
        self,
        root: Path,
        snapshot: Callable[[], Snapshot | None] | None = None,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
    ) -> None:
        """`snapshot` gives the knowledge as last loaded: changes are then checked against it plus the
        files changed since (fast at any size) instead of by reading every file."""
        super().__init__(root)
        self._snapshot = snapshot or (lambda: None)
        self._lock_timeout = lock_timeout
        self._lock = threading.Lock()  # threads of this process queue here; the folder lock covers the rest

    def save(
        self,
        fields: dict[str, Any],
        expected: str | None,
        old_path: Path | None = None,
        journal: Journal | None = None,
    ) -> Change:
        """Creates or replaces an entry. With `old_path` (an edit that changed the topic) the entry moves."""
        entry_id, topic = str(fields.get("id", "")), str(fields.get("topic", ""))
        path = self.path_of(entry_id, topic)
        if old_path is not None and self.entry_file(entry_id, old_path) is None:
            raise self.no_such_entry(entry_id)
        text = entry_text({**fields, "reviewed_on": fields.get("reviewed_on") or date.today()})
        moved_from = old_path if old_path not in (None, path) else None
        with self.exclusive():
            if old_path is None and expected is None and self.locate(entry_id) is not None:
                raise ChangeRejected(
                    [Problem(path, 1, "id", f"an entry with id {entry_id!r} exists already")]
                )
            return self._commit(Change(entry_id, path, expected, text, moved_from=moved_from), journal)

    def remove(self, entry_id: str, expected: str, journal: Journal | None = None) -> Change:
        path = self.locate(entry_id)
        if path is None:
            raise self.no_such_entry(entry_id)
        with self.exclusive():
            return self._commit(Change(entry_id, path, expected, None), journal)

    def restore(
        self,
        entry_id: str,
        path: Path,
        text: str | None,
        expected: str | None,
        moved_from: Path | None = None,
        journal: Journal | None = None,
    ) -> Change:
        """Puts back a version from the history: `text` at `path` (None removes the entry). With
        `moved_from`, the entry is there now (holding `expected`) and moves back to `path`."""
        checked = self.entry_file(entry_id, path)
        source = self.entry_file(entry_id, moved_from) if moved_from is not None else None
        if checked is None or (moved_from is not None and source is None):
            raise self.no_such_entry(entry_id)
        source = source if source != checked else None
        with self.exclusive():
            return self._commit(Change(entry_id, checked, expected, text, moved_from=source), journal)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """One change to the knowledge at a time, in this process and across processes."""
        if not self._lock.acquire(timeout=self._lock_timeout):
            raise self._busy()
        with ExitStack() as held:
            held.callback(self._lock.release)
            try:
                held.enter_context(folder_lock(self.root, self._lock_timeout))
            except TimeoutError:
                raise self._busy() from None
            yield

    def redo(self, change: Change) -> bool:
        """Finishes a change that was recorded but maybe not (all) written: each file still holding its
        text before gets its text after. False, writing nothing, if a file holds neither (changed by
        hand since). Call it inside exclusive()."""
        files = change.files()
        on_disk = {path: self.read(path) for path in files}
        if any(on_disk[path] not in texts for path, texts in files.items()):
            return False
        _put({path: after for path, (_, after) in files.items() if on_disk[path] != after})
        return True

    def _commit(self, change: Change, journal: Journal | None) -> Change:
        """Checks, validates, records and writes one change; the caller holds exclusive()."""
        self._check_unchanged(change.moved_from or change.path, change.before)
        if change.moved_from is not None:
            self._check_unchanged(change.path, None)
        files = change.files()
        prepared = self._prepare({path: after for path, (_, after) in files.items()})
        intent = journal.begin(change) if journal else None
        try:
            _put({path: after for path, (_, after) in files.items()})
        except OSError as error:
            undone = self._undo(change)
            if journal and intent is not None and undone:
                journal.abandon(intent)  # if not undone, the next start finishes it (the journal)
            raise self._not_writable(error) from error
        if journal and intent is not None:
            try:
                journal.finish(intent)
            except ChangeRejected:  # the record could not be completed: nothing may stay half done
                if self._undo(change):
                    journal.abandon(intent)  # if not undone, the next start finishes it (the journal)
                raise
        return dataclasses.replace(change, prepared=prepared.with_written(self.root, files))

    def _undo(self, change: Change) -> bool:
        """After a failed write: every file back to its text before. False if that failed too."""
        files = change.files()
        try:
            _put({path: before for path, (before, after) in files.items() if self.read(path) == after})
        except OSError:
            return False
        return True

    def _check_unchanged(self, path: Path, expected: str | None) -> None:
        current = self.read(path)
        if current != expected:
            diff = "".join(
                difflib.unified_diff(
                    (expected or "").splitlines(keepends=True),
                    (current or "").splitlines(keepends=True),
                    fromfile="what you started from",
                    tofile="what the file holds now",
                )
            )
            raise ChangeConflict(path, diff or "(the file was created or removed meanwhile)")

    def _prepare(self, overlay: dict[Path, str | None]) -> Refresh:
        """The knowledge with the change applied: the snapshot, whatever changed on disk since, and the
        overlay. Raises ChangeRejected, before anything is written, if it would be invalid."""
        prepared = refresh(self.root, self._snapshot(), overlay)
        if prepared.snapshot is None:
            raise ChangeRejected(prepared.problems)
        return prepared

    def _busy(self) -> ChangeRejected:
        message = "another change to the knowledge is still being written; try again in a moment"
        return self.rejected("knowledge", message)

    def _not_writable(self, error: OSError) -> ChangeRejected:
        return self.rejected(
            "knowledge",
            f"careerbot cannot write to the knowledge folder ({error.strerror or error}); nothing was "
            "changed. The operator must make it writable by the user that runs careerbot.",
        )


def _put(texts: dict[Path, str | None]) -> None:
    """Each file to its text (None: removed), in order: writes before removals (see Change.files)."""
    for path, text in texts.items():
        if text is not None:
            write_text_atomically(path, text)
    for path, text in texts.items():
        if text is None:
            path.unlink(missing_ok=True)
