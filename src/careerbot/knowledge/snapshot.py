"""The knowledge as last loaded, plus each file's size and modification time, so that the next load
re-reads only files that changed: start-up and edits then cost time in proportion to the change, not
to the size of the knowledge (100k files parse in minutes; stat-ing them takes a fraction of a second).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from careerbot.knowledge.loader import apply_entry_changes, validate_knowledge
from careerbot.knowledge.models import KnowledgeBase
from careerbot.knowledge.problems import Problem

Stamps = dict[str, tuple[int, int]]  # path relative to the knowledge folder, with "/" -> (size, mtime ns)
WATCHED = ("faq", "articles")  # eval.yaml is not knowledge the bot answers from


@dataclass(frozen=True)
class Snapshot:
    knowledge: KnowledgeBase
    stamps: Stamps


@dataclass(frozen=True)
class Refresh:
    snapshot: Snapshot | None  # None: the knowledge on disk is invalid (see problems)
    problems: list[Problem]
    changed_items: frozenset[str] | None  # ids added, changed or removed; None: reloaded as a whole
    previous: Snapshot | None = None  # what it was computed from

    def with_written(self, root: Path, paths: Iterable[Path]) -> Refresh:
        """This refresh, once the overlay it was computed with is on disk: those files' stamps now."""
        assert self.snapshot is not None
        stamps = dict(self.snapshot.stamps)
        for path in paths:
            relative = path.relative_to(root).as_posix()
            try:
                stat = path.stat()
                stamps[relative] = (stat.st_size, stat.st_mtime_ns)
            except FileNotFoundError:
                stamps.pop(relative, None)
        return dataclasses.replace(self, snapshot=Snapshot(self.snapshot.knowledge, stamps))


def stamp_files(root: Path) -> Stamps:
    stamps: Stamps = {}
    pending = list(WATCHED)  # relative folders; plain strings, as pathlib costs seconds at 100k files
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(os.path.join(root, folder)) as found:
                for item in found:
                    relative = f"{folder}/{item.name}"
                    if item.is_dir(follow_symlinks=False):
                        pending.append(relative)
                    else:
                        stat = item.stat()
                        stamps[relative] = (stat.st_size, stat.st_mtime_ns)
        except FileNotFoundError:
            continue
    return stamps


def refresh(
    root: Path,
    previous: Snapshot | None,
    overlay: Mapping[Path, str | None] | None = None,
    show_progress: bool = False,
) -> Refresh:
    """The knowledge on disk now, with `overlay` (new file texts, None for a removal) applied if given.
    Only files whose stamps differ from `previous` are read. Stamps are taken before files are read,
    so a file that changes while it is read has a newer stamp than the one recorded: read next time."""
    overlay = overlay or {}
    stamps = stamp_files(root)
    if previous is None:
        return _full(root, stamps, overlay, show_progress)
    changed = _changed(previous.stamps, stamps) | {path.relative_to(root).as_posix() for path in overlay}
    if not changed:
        return Refresh(previous, [], frozenset(), previous)
    if not all(path.startswith("faq/") for path in changed):
        return _full(
            root, stamps, overlay, show_progress
        )  # an article changed: passages and the sections entries cite
    paths = {root / path for path in changed}
    knowledge, problems = apply_entry_changes(previous.knowledge, root, paths, overlay)
    if knowledge is None:
        return Refresh(None, problems, None, previous)
    ids = set()
    for path in paths:  # faq/<topic>/<id>.yaml holds entry <id>, if valid
        before, after = previous.knowledge.get(path.stem), knowledge.get(path.stem)
        if before != after or before is None:
            ids.add(path.stem)
    return Refresh(Snapshot(knowledge, stamps), [], frozenset(ids), previous)


def _changed(before: Stamps, now: Stamps) -> set[str]:
    if before == now:  # one comparison in C: the usual case at start-up
        return set()
    return {path for path, stamp in now.items() if before.get(path) != stamp} | (before.keys() - now.keys())


def _full(root: Path, stamps: Stamps, overlay: Mapping[Path, str | None], show_progress: bool) -> Refresh:
    knowledge, problems = validate_knowledge(root, overlay, show_progress)
    return Refresh(Snapshot(knowledge, stamps) if knowledge else None, problems, None)
