"""Changing entry files: validated as a whole before anything is written, written atomically, and never
over a version the editor did not see.

Every change names the text it expects to replace (`expected`: None for a new entry). If the file holds
something else by then (another moderator, another careerbot process, a git pull), the change is
refused with the difference, so no edit silently overwrites another. The check and the write happen
under a lock on the knowledge folder that every careerbot process takes (files.folder_lock).

Entry ids come from Discord, so they are never trusted as paths: an id must match the entry id pattern,
and every file touched must be faq/<topic>/<id>.yaml for real (resolved, symlinks followed) inside the
knowledge folder. Anything else is "no entry with id ...", and nothing is read or written.

A change given a `Journal` is recorded before its files are written and marked done after, so a crash
in between can be finished at the next start (careerbot.curation.journal).
"""

from __future__ import annotations

import dataclasses
import difflib
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import yaml

from careerbot.files import folder_lock, write_text_atomically
from careerbot.knowledge.disk import MAX_ENTRY_BYTES, read_text
from careerbot.knowledge.faq_file import ID_PATTERN
from careerbot.knowledge.models import TOPICS, Entry
from careerbot.knowledge.problems import Problem
from careerbot.knowledge.snapshot import Refresh, Snapshot, refresh
from careerbot.knowledge.yaml_lines import YamlSyntaxError, parse_located

FIELD_ORDER = ("id", "question", "paraphrases", "answer", "topic", "tags", "sources", "reviewed_on")
# A file name holds at most 255 bytes, ".yaml" included; ids are ASCII, so characters are bytes.
MAX_ID_CHARS = 250
# How long a change waits for another process's change to the knowledge to finish.
LOCK_TIMEOUT_SECONDS = 30.0


class ChangeRejected(Exception):
    """The change cannot be made (it would make the knowledge invalid, it names no entry, or the
    knowledge folder cannot be written); nothing was written. `problems` say why. `invalid` is False
    when the change itself was not at fault (no such entry, a busy or unwritable folder), so the
    moderator is not told that it would break the knowledge."""

    def __init__(self, problems: list[Problem], invalid: bool = True) -> None:
        self.problems, self.invalid = problems, invalid
        super().__init__("\n".join(str(p) for p in problems))


class ChangeConflict(Exception):
    """The file changed since the editor read it; nothing was written. `diff` shows how."""

    def __init__(self, path: Path, diff: str) -> None:
        self.path, self.diff = path, diff
        super().__init__(f"{path} changed since it was read:\n{diff}")


@dataclass(frozen=True)
class Change:
    entry_id: str
    path: Path
    before: str | None  # None: the entry did not exist
    after: str | None  # None: the entry was removed
    # The knowledge with this change, as validated before writing: a reload can take it as it is.
    prepared: Refresh | None = None
    moved_from: Path | None = None  # the entry's file before the change, when it moves to `path`

    def files(self) -> dict[Path, tuple[str | None, str | None]]:
        """Each file the change touches -> (its text before, its text after); None: no such file.
        The file written comes first: a crash before the old one is removed leaves the entry twice,
        never nowhere, and the journal finishes it."""
        if self.moved_from is None:
            return {self.path: (self.before, self.after)}
        return {self.path: (None, self.after), self.moved_from: (self.before, None)}


class Journal(Protocol):
    """Where a change is recorded before its files are written (see careerbot.curation.journal)."""

    def begin(self, change: Change) -> int: ...
    def finish(self, intent: int) -> None: ...
    def abandon(self, intent: int) -> None: ...


def entry_text(entry: Entry | dict[str, Any]) -> str:
    """An entry as the YAML file careerbot writes (fields in the documented order)."""
    fields = _fields(entry) if isinstance(entry, Entry) else dict(entry)
    ordered = {key: fields[key] for key in FIELD_ORDER if key in fields}
    ordered.update({k: v for k, v in fields.items() if k not in ordered})
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


def entry_fields(text: str) -> dict[str, Any] | None:
    """An entry file's fields, parsed as the loader parses them (no aliases, bounded nesting); None if
    the text is not a YAML mapping. Never yaml.safe_load: a file edited by hand may be a YAML bomb."""
    try:
        data = parse_located(text).data
    except YamlSyntaxError:
        return None
    return data if isinstance(data, dict) else None


def is_entry_id(text: str) -> bool:
    return len(text) <= MAX_ID_CHARS and ID_PATTERN.fullmatch(text) is not None


class KnowledgeWriter:
    def __init__(
        self,
        root: Path,
        snapshot: Callable[[], Snapshot | None] | None = None,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
    ) -> None:
        """`snapshot` gives the knowledge as last loaded: changes are then checked against it plus the
        files changed since (fast at any size) instead of by reading every file."""
        self.root = root
        self._snapshot = snapshot or (lambda: None)
        self._lock_timeout = lock_timeout
        self._lock = threading.Lock()  # threads of this process queue here; the folder lock covers the rest

    def path_of(self, entry_id: str, topic: str) -> Path:
        """Where entry `entry_id` of `topic` lives; ChangeRejected for an id or topic that cannot be one."""
        if not is_entry_id(entry_id):
            message = f"{_shown(entry_id)} must be lowercase letters and digits joined by '-'"
            raise self._rejected("id", message)
        if topic not in TOPICS:
            raise self._rejected("topic", f"unknown topic {_shown(topic)} (topics: {', '.join(TOPICS)})")
        path = self.root / "faq" / topic / f"{entry_id}.yaml"
        if self.entry_file(entry_id, path) is None:
            raise self._rejected("id", f"faq/{topic}/{entry_id}.yaml is outside the knowledge")
        return path

    def entry_file(self, entry_id: str, path: Path) -> Path | None:
        """`path`, if it is where entry `entry_id` belongs: faq/<topic>/<id>.yaml under the knowledge
        folder, still there once resolved (no symlink leads out). None otherwise."""
        topic = path.parent.name
        if not is_entry_id(entry_id) or topic not in TOPICS:
            return None
        relative = Path("faq", topic, f"{entry_id}.yaml")
        if path != self.root / relative:
            return None
        try:
            inside = path.resolve() == self.root.resolve() / relative
        except (OSError, RuntimeError):  # a symlink loop, a name the system refuses
            return None
        return path if inside else None

    def locate(self, entry_id: str) -> Path | None:
        """The file of the existing entry `entry_id`; None for any id that is not one (malformed, a
        path, unknown, or a file that resolves outside the knowledge folder)."""
        if not is_entry_id(entry_id):
            return None
        # One look per topic folder: listing the folders (a glob) takes a second at 100k entries.
        for topic in TOPICS:
            path = self.entry_file(entry_id, self.root / "faq" / topic / f"{entry_id}.yaml")
            try:
                if path is not None and path.is_file():
                    return path
            except OSError:
                continue
        return None

    def current(self, entry_id: str) -> tuple[Path, str] | None:
        """An existing entry's file and its text as they are on disk now."""
        path = self.locate(entry_id)
        text = self.read(path) if path else None
        return (path, text) if path and text is not None else None

    def read(self, path: Path) -> str | None:
        """The file's text; None if there is none. A file that cannot be knowledge (a link, a pipe, too
        large, not UTF-8) is never read into memory: ChangeRejected naming it."""
        if not path.exists() and not path.is_symlink():
            return None
        text = read_text(path, MAX_ENTRY_BYTES)
        if isinstance(text, Problem):
            raise ChangeRejected([text], invalid=False)
        return text

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
            journal.finish(intent)
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

    def _rejected(self, field: str, message: str) -> ChangeRejected:
        return ChangeRejected([Problem(self.root / "faq", None, field, message)], invalid=False)

    def no_such_entry(self, entry_id: str) -> ChangeRejected:
        return self._rejected("id", f"no entry with id {_shown(entry_id)}")

    def _busy(self) -> ChangeRejected:
        message = "another change to the knowledge is still being written; try again in a moment"
        return self._rejected("knowledge", message)

    def _not_writable(self, error: OSError) -> ChangeRejected:
        return self._rejected(
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


def _shown(text: str) -> str:
    """Untrusted text, quoted and clipped for a message (an id can be 10,000 characters or hold NULs)."""
    return repr(text if len(text) <= 60 else text[:60] + "...")


def _fields(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "question": entry.question,
        "paraphrases": list(entry.paraphrases),
        "answer": entry.answer,
        "topic": entry.topic,
        "tags": list(entry.tags),
        "sources": [{k: v for k, v in vars(s).items() if v is not None} for s in entry.sources],
        "reviewed_on": entry.reviewed_on,
    }
