"""A problem found in a knowledge file, named by file, line and field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    path: Path
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"


class KnowledgeError(Exception):
    """The knowledge files hold problems; nothing was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.path), p.line or 0, p.field or ""))
        lines = [str(problem) for problem in self.problems]
        super().__init__(f"{len(lines)} problem(s) in the knowledge files:\n" + "\n".join(lines))
