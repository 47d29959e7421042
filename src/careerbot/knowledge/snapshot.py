"""The knowledge as last loaded, plus each file's size and modification time, so that the next load
re-reads only files that changed: start-up and edits then cost time in proportion to the change, not
to the size of the knowledge (100k files parse in minutes; stat-ing them takes a fraction of a second).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from careerbot.knowledge.disk import WATCHED, Listing, Stamps
from careerbot.knowledge.loader import Parsed, apply_entry_changes, validate_knowledge
from careerbot.knowledge.models import KnowledgeBase
from careerbot.knowledge.problems import Problem, bounded
from careerbot.knowledge.watch import list_files_now

__all__ = ["WATCHED", "Refresh", "Snapshot", "Stamps", "refresh"]


@dataclass(frozen=True, eq=False)
class Snapshot:
    knowledge: KnowledgeBase
    # The stamps, or how to read them when first needed: start-up answers before it compares any.
    stamps_or_reader: Stamps | Callable[[], Stamps]

    @cached_property
    def stamps(self) -> Stamps:
        given = self.stamps_or_reader
        return given() if callable(given) else given


@dataclass(frozen=True)
class Refresh:
    snapshot: Snapshot | None  # None: the knowledge on disk is invalid (see problems)
    # With a snapshot: files that changed on disk but were left out, being bad (see `refresh`).
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


def refresh(
    root: Path,
    previous: Snapshot | None,
    overlay: Mapping[Path, str | None] | None = None,
    show_progress: bool = False,
) -> Refresh:
    """The knowledge on disk now, with `overlay` (new file texts, None for a removal) applied if given.
    Only files whose stamps differ from `previous` are read. Stamps are taken before files are read,
    so a file that changes while it is read has a newer stamp than the one recorded: read next time.
    The stamps come from the kernel's events if the folder is watched (careerbot.knowledge.watch)."""
    overlay = overlay or {}
    listing = list_files_now(root)
    if previous is None or listing.problems:
        return _full(root, listing, overlay, show_progress)
    written = {path.relative_to(root).as_posix() for path in overlay}
    changed = _changed(previous.stamps, listing.stamps) | written
    if not changed:
        return Refresh(previous, [], frozenset(), previous)
    parsed: dict[Path, Parsed] = {}  # each file is read once, however often it is checked below
    if all(path.startswith("faq/") for path in changed):
        refreshed = _apply(root, previous, listing.stamps, changed, overlay, parsed)
    else:  # an article changed: passages and the sections entries cite
        refreshed = _full(root, listing, overlay, show_progress)
    on_disk = changed - written
    if refreshed.snapshot is None and overlay and on_disk:
        return _sparing_bad_files(
            root, previous, listing.stamps, on_disk, written, overlay, refreshed, parsed
        )
    return refreshed


def _apply(
    root: Path,
    previous: Snapshot,
    stamps: Stamps,
    changed: set[str],
    overlay: Mapping[Path, str | None],
    parsed: dict[Path, Parsed],
) -> Refresh:
    paths = {root / path for path in changed}
    knowledge, problems = apply_entry_changes(previous.knowledge, root, paths, overlay, parsed)
    if knowledge is None:
        return Refresh(None, problems, None, previous)
    return Refresh(
        Snapshot(knowledge, stamps), [], _changed_ids(previous.knowledge, knowledge, paths), previous
    )


def _sparing_bad_files(
    root: Path,
    previous: Snapshot,
    stamps: Stamps,
    on_disk: set[str],
    written: set[str],
    overlay: Mapping[Path, str | None],
    failed: Refresh,
    parsed: dict[Path, Parsed],
) -> Refresh:
    """A moderator's change (`overlay`) failed together with files changed on disk. A bad file there
    must not stop a change to another entry, nor replace what is live: the change is applied on top of
    the entry files changed on disk that are valid; each bad one stays as the live version has it, with
    its old stamp, so that the next reload reads it again (and reports it, as `validate` does). Articles
    changed on disk wait for that reload too. Only problems of the change itself refuse the change."""
    pending = {path for path in on_disk if path.startswith("faq/")}
    skipped = [p for p in failed.problems if (_relative(root, p.path) or "").startswith("articles/")]
    knowledge = previous.knowledge
    while pending:
        changes = {root / path for path in pending}
        attempt, problems = apply_entry_changes(previous.knowledge, root, changes, parsed=parsed)
        if attempt is not None:
            knowledge = attempt
            break
        bad = {path for problem in problems if (path := _relative(root, problem.path)) in pending}
        if not bad:  # a problem that no changed file answers for alone
            return failed
        skipped += problems
        pending -= bad
    applied = _apply(root, Snapshot(knowledge, stamps), stamps, written, overlay, parsed)
    if applied.snapshot is None:  # the change itself is bad: say only what concerns it
        return Refresh(None, applied.problems, None, previous)
    kept = dict(stamps)
    for path in on_disk - pending:  # left as the live version has them: read again next time
        if path in previous.stamps:
            kept[path] = previous.stamps[path]
        else:
            kept.pop(path, None)
    knowledge = applied.snapshot.knowledge
    paths = {root / path for path in pending} | set(overlay)
    changed_ids = _changed_ids(previous.knowledge, knowledge, paths)
    return Refresh(Snapshot(knowledge, kept), bounded(set(skipped)), changed_ids, previous)


def _relative(root: Path, path: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _changed_ids(before: KnowledgeBase, after: KnowledgeBase, paths: Iterable[Path]) -> frozenset[str]:
    ids = set()
    for path in paths:  # faq/<topic>/<id>.yaml holds entry <id>, if valid
        was, now = before.get(path.stem), after.get(path.stem)
        if was != now or was is None:
            ids.add(path.stem)
    return frozenset(ids)


def _changed(before: Stamps, now: Stamps) -> set[str]:
    if before == now:  # one comparison in C: the usual case at start-up
        return set()
    return {path for path, stamp in now.items() if before.get(path) != stamp} | (before.keys() - now.keys())


def _full(root: Path, listing: Listing, overlay: Mapping[Path, str | None], show_progress: bool) -> Refresh:
    knowledge, problems = validate_knowledge(root, overlay, show_progress, listing)
    return Refresh(Snapshot(knowledge, listing.stamps) if knowledge else None, problems, None)
