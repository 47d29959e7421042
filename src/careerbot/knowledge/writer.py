"""Changing entry files: validated as a whole before anything is written, written atomically, and never
over a version the editor did not see.

Every change names the text it expects to replace (`expected`: None for a new entry). If the file holds
something else by then (another moderator, a git pull), the change is refused with the difference, so
no edit silently overwrites another.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from careerbot.files import write_text_atomically
from careerbot.knowledge.models import TOPICS, Entry
from careerbot.knowledge.problems import Problem
from careerbot.knowledge.snapshot import Refresh, Snapshot, refresh

FIELD_ORDER = ("id", "question", "paraphrases", "answer", "topic", "tags", "sources", "reviewed_on")


class ChangeRejected(Exception):
    """The change would make the knowledge invalid; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
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


def entry_text(entry: Entry | dict[str, Any]) -> str:
    """An entry as the YAML file careerbot writes (fields in the documented order)."""
    fields = _fields(entry) if isinstance(entry, Entry) else dict(entry)
    ordered = {key: fields[key] for key in FIELD_ORDER if key in fields}
    ordered.update({k: v for k, v in fields.items() if k not in ordered})
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


class KnowledgeWriter:
    def __init__(self, root: Path, snapshot: Callable[[], Snapshot | None] | None = None) -> None:
        """`snapshot` gives the knowledge as last loaded: changes are then checked against it plus the
        files changed since (fast at any size) instead of by reading every file."""
        self.root = root
        self._snapshot = snapshot or (lambda: None)
        self._lock = threading.Lock()  # one change at a time in this process; `expected` covers the rest

    def path_of(self, entry_id: str, topic: str) -> Path:
        return self.root / "faq" / topic / f"{entry_id}.yaml"

    def find(self, entry_id: str) -> Path | None:
        # One look per topic folder: listing the folders (a glob) takes a second at 100k entries.
        for topic in TOPICS:
            if (path := self.path_of(entry_id, topic)).is_file():
                return path
        return None

    def current(self, entry_id: str) -> tuple[Path, str] | None:
        """An entry's file and its text as they are on disk now."""
        path = self.find(entry_id)
        text = self.read(path) if path else None
        return (path, text) if path and text is not None else None

    def read(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def save(self, fields: dict[str, Any], expected: str | None, old_path: Path | None = None) -> Change:
        """Creates or replaces an entry. With `old_path` (an edit that changed the topic) the entry moves."""
        entry_id, topic = str(fields.get("id", "")), str(fields.get("topic", ""))
        path = self.path_of(entry_id, topic)
        text = entry_text({**fields, "reviewed_on": fields.get("reviewed_on") or date.today()})
        with self._lock:
            if old_path is None and expected is None and self.find(entry_id) is not None:
                raise ChangeRejected(
                    [Problem(path, 1, "id", f"an entry with id {entry_id!r} exists already")]
                )
            self._check_unchanged(old_path or path, expected)
            overlay: dict[Path, str | None] = {path: text}
            if old_path is not None and old_path != path:
                overlay[old_path] = None
            prepared = self._prepare(overlay)
            write_text_atomically(path, text)
            if old_path is not None and old_path != path:
                old_path.unlink()
        return Change(entry_id, path, expected, text, prepared.with_written(self.root, overlay))

    def remove(self, entry_id: str, expected: str) -> Change:
        path = self.find(entry_id)
        if path is None:
            raise ChangeRejected([Problem(self.root / "faq", None, "id", f"no entry with id {entry_id!r}")])
        with self._lock:
            self._check_unchanged(path, expected)
            prepared = self._prepare({path: None})
            path.unlink()
        return Change(entry_id, path, expected, None, prepared.with_written(self.root, [path]))

    def restore(self, entry_id: str, path: Path, text: str | None, expected: str | None) -> Change:
        """Puts back a version from the history: `text` None removes the entry."""
        with self._lock:
            self._check_unchanged(path, expected)
            prepared = self._prepare({path: text})
            if text is None:
                path.unlink(missing_ok=True)
            else:
                write_text_atomically(path, text)
        return Change(entry_id, path, expected, text, prepared.with_written(self.root, [path]))

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
