"""The knowledge folder's listing kept current by the kernel (inotify) instead of stat-ing every file.

An edit must see the files changed by hand since the live version (refresh compares every file's stamp),
and stat-ing 140k files takes most of a second. Once a folder is watched, the kernel queues an event for
every change under it, at the moment of the change: a listing then stats only the files named by the
events queued since the last one, and is the same as list_files would give at that moment.

Whenever the events cannot tell everything (a folder created, removed or moved; the kernel's queue
overflowed; a watch lost), the folder's next listing is a full scan again, which also watches it afresh.
Without inotify (not Linux, or the kernel's limit on watches reached) every listing is a full scan, as
before. Each folder is watched before it is scanned, so nothing changed during a scan goes unseen. One
inotify instance serves the process (the kernel allows 128 per user by default).

inotify sees only changes made through this kernel: for a folder shared from a VM or container host,
`[knowledge] watch = false` (KnowledgeConfig.watch) leaves it unwatched.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from careerbot.knowledge.disk import WATCHED, Listing, Stamps, list_files

log = logging.getLogger(__name__)

try:
    from inotify_simple import INotify, flags
except (ImportError, OSError):  # not Linux: every listing is a full scan
    INotify = None

if INotify is not None:
    # a file's content, stamp or name changed; CLOSE_WRITE is left out (MODIFY comes with every write)
    FILE_EVENTS = (
        flags.CREATE
        | flags.DELETE
        | flags.MODIFY
        | flags.ATTRIB
        | flags.MOVED_FROM
        | flags.MOVED_TO
        | flags.DELETE_SELF
        | flags.MOVE_SELF
    )
    FOLDER_CHANGED = flags.CREATE | flags.DELETE | flags.MOVED_FROM | flags.MOVED_TO
    WATCH_LOST = flags.IGNORED | flags.DELETE_SELF | flags.MOVE_SELF | flags.UNMOUNT


@dataclass
class _Watched:
    root: str
    stamps: Stamps | None = None  # None: not known from events; the next listing scans
    folders: dict[int, str | None] = field(default_factory=dict)  # watch -> folder ("faq/x"); None: root


class _Watcher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inotify: INotify | None = None
        self._roots: dict[str, _Watched] = {}
        self._by_watch: dict[int, _Watched] = {}

    def watch(self, root: Path) -> bool:
        """Starts keeping root's listing (a full scan now). False if inotify cannot watch it."""
        key = os.path.abspath(root)
        with self._lock:
            if key not in self._roots:
                self._roots[key] = _Watched(key)
            return self._listing(self._roots[key]) is not None

    def listing(self, root: Path) -> Listing | None:
        """root's listing now, or None if root is not watched."""
        with self._lock:
            watched = self._roots.get(os.path.abspath(root))
            return None if watched is None else self._listing(watched)

    def forget(self, root: Path) -> None:
        with self._lock:
            watched = self._roots.pop(os.path.abspath(root), None)
            if watched is not None:
                self._unwatch(watched)

    def _listing(self, watched: _Watched) -> Listing | None:
        self._drain()
        if watched.stamps is not None:
            return Listing(dict(watched.stamps), ())
        listing = self._scan(watched)
        if listing is None:
            del self._roots[watched.root]
        return listing

    def _scan(self, watched: _Watched) -> Listing | None:
        """A full listing, watching each folder before it is listed. None: inotify cannot watch it."""
        inotify = self._open()
        if inotify is None:
            return None
        self._unwatch(watched)
        failed: list[OSError] = []

        def entering(folder: str | None) -> None:
            try:
                path = watched.root if folder is None else os.path.join(watched.root, folder)
                number = inotify.add_watch(path, FILE_EVENTS | flags.ONLYDIR)
            except FileNotFoundError:
                return  # the scan finds no folder either
            except OSError as error:  # most likely the kernel's limit on watches
                failed.append(error)
                return
            watched.folders[number] = folder
            self._by_watch[number] = watched

        entering(None)  # the root: for faq/ or articles/ appearing or going
        listing = list_files(Path(watched.root), entering)
        if failed:
            log.warning("cannot watch %s (%s): every edit stats every file", watched.root, failed[0])
            self._unwatch(watched)
            return None
        if not listing.problems:  # a folder that could not be listed is listed again next time
            watched.stamps = dict(listing.stamps)
        return listing

    def _open(self) -> INotify | None:
        if self._inotify is None and INotify is not None:
            try:
                self._inotify = INotify(nonblocking=True)
            except OSError as error:  # e.g. the kernel's limit on inotify instances
                log.warning("cannot use inotify (%s): every edit stats every file", error)
        return self._inotify

    def _drain(self) -> None:
        """Applies every event queued so far to the stamps of the folder it concerns."""
        if self._inotify is None:
            return
        touched: dict[str, set[str]] = {}
        while events := self._inotify.read(timeout=0):
            for event in events:
                if event.mask & flags.Q_OVERFLOW:  # events were dropped: nothing is known
                    for watched in self._roots.values():
                        watched.stamps = None
                elif (path := self._changed_file(event)) is not None:
                    touched.setdefault(self._by_watch[event.wd].root, set()).add(path)
        for root, paths in touched.items():
            self._restat(self._roots[root], paths)

    def _changed_file(self, event: Any) -> str | None:
        """The file (relative to its root) an event says changed; None if it names none, and then, if
        the folders are no longer what was watched, the root's stamps are dropped (a scan comes next)."""
        watched = self._by_watch.get(event.wd)
        if watched is None or watched.stamps is None:
            return None
        folder = watched.folders[event.wd]
        if event.mask & WATCH_LOST:  # a watched folder went or moved
            watched.stamps = None
        elif folder is None:  # in the root: only faq/ and articles/ matter
            if event.name in WATCHED:
                watched.stamps = None
        elif event.mask & flags.ISDIR:  # a folder made, removed or moved
            if event.mask & FOLDER_CHANGED:
                watched.stamps = None
        else:
            return f"{folder}/{event.name}"
        return None

    @staticmethod
    def _restat(watched: _Watched, paths: set[str]) -> None:
        stamps = watched.stamps
        if stamps is None:
            return
        for path in paths:
            try:
                info = os.lstat(os.path.join(watched.root, path))
            except FileNotFoundError:
                stamps.pop(path, None)
                continue
            stamps[path] = (info.st_size, info.st_mtime_ns)

    def _unwatch(self, watched: _Watched) -> None:
        watched.stamps = None
        for number in watched.folders:
            self._by_watch.pop(number, None)
            try:
                assert self._inotify is not None
                self._inotify.rm_watch(number)
            except OSError:  # already gone with its folder
                pass
        watched.folders.clear()


_watcher = _Watcher()


def watch(root: Path) -> bool:
    """From now on list_files(root) comes from inotify's events (this call scans the folder once).
    False: inotify is not available here, and listings stay full scans."""
    return _watcher.watch(root)


def forget(root: Path) -> None:
    """Stops watching root (listings are full scans again)."""
    _watcher.forget(root)


def list_files_now(root: Path) -> Listing:
    """What disk.list_files(root) gives now: from the kept listing if root is watched."""
    listing = _watcher.listing(root)
    return list_files(root) if listing is None else listing
