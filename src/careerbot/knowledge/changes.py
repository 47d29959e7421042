"""What a change to the entry files is, how one is refused, and where it is recorded before it is
written: the vocabulary the writer (careerbot.knowledge.writer) and the journal share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from careerbot.knowledge.problems import Problem
from careerbot.knowledge.snapshot import Refresh


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
