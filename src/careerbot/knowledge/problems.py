"""A problem found in a knowledge file, named by file, line and field; and keeping a list of them
short enough to read (one damaged file can hold thousands)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Enough to fix a file from; the rest are summed up in one line per file, and in one line overall.
SHOWN_PER_FILE = 20
SHOWN_IN_ALL = 200
# A message quotes what it is about; a quoted value can be as long as its file.
MESSAGE_CHARS = 1000
FIELD_CHARS = 60


@dataclass(frozen=True, order=True)
class Problem:
    path: Path
    line: int | None
    field: str | None
    message: str
    omitted: int = 0  # more than 0: a summary, standing for this many problems that are not listed

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        what = f"{_clip(self.field, FIELD_CHARS)}: " if self.field else ""
        return f"{where}: {what}{_clip(self.message, MESSAGE_CHARS)}"


def count_problems(problems: Iterable[Problem]) -> int:
    return sum(problem.omitted or 1 for problem in problems)


def bounded(problems: Iterable[Problem]) -> list[Problem]:
    """Sorted by file and line; at most SHOWN_PER_FILE of a file and SHOWN_IN_ALL in all, the rest
    counted in one summary line per file and one for the files left out. Summaries already in
    `problems` are kept as they are, so bounding twice changes nothing."""
    by_file: dict[Path, list[Problem]] = {}
    for problem in sorted(problems, key=lambda p: (str(p.path), p.line or 0)):
        by_file.setdefault(problem.path, []).append(problem)
    shown: list[Problem] = []
    left_out: list[Problem] = []
    for path, found in by_file.items():
        listed = [p for p in found if not p.omitted][:SHOWN_PER_FILE]
        if len(shown) + len(listed) > SHOWN_IN_ALL:
            left_out += found
            continue
        shown += listed
        if rest := len([p for p in found if not p.omitted]) - len(listed):
            shown.append(Problem(path, None, None, f"... and {rest:,} more problems in this file", rest))
        shown += [p for p in found if p.omitted]
    if left_out:
        rest, files = count_problems(left_out), len({p.path for p in left_out})
        where = f"this file and {files - 1:,} more files" if files > 1 else "this file"
        shown.append(
            Problem(left_out[0].path, None, None, f"... and {rest:,} more problems in {where}", rest)
        )
    return shown


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


class KnowledgeError(Exception):
    """The knowledge files hold problems; nothing was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = bounded(problems)  # as a rule bounded already, by the loader
        lines = [str(problem) for problem in self.problems]
        super().__init__(
            f"{count_problems(self.problems)} problem(s) in the knowledge files:\n" + "\n".join(lines)
        )
