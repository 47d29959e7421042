"""Knowing that the index files on disk are the ones that were saved, and one saver at a time.

The manifest records every file's size and sha256. Hashing a 1 GB vectors file takes seconds, which
would multiply start-up at 100k entries, so, as git does for its work tree, a file whose size, inode,
mtime and ctime are those it had when it was last hashed is not hashed again: any write, truncation or
replacement changes its ctime, which no program can set back. Those stamps are a cache in
`verified.json`: losing it costs one full check. A stamp is only recorded once the file is older than
the timestamp granularity (RACY_NS), or a write in the same tick as the hash could go unseen.
`careerbot index` hashes everything, whatever the cache says.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from careerbot.files import folder_lock, replace_atomically

LEASE_FILE = "in-use.lock"
VERIFIED_FILE = "verified.json"
RACY_NS = 2_000_000_000

FileSum = dict[str, Any]  # {"size": bytes, "sha256": hex digest}


class Damaged(Exception):
    """An index file is missing or is not what was saved."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def checksums(directory: Path, folder: str) -> dict[str, FileSum]:
    """Every file under `directory/folder`, by its path relative to `directory`."""
    found = sorted(path for path in (directory / folder).rglob("*") if path.is_file())
    return {path.relative_to(directory).as_posix(): _checksum(path) for path in found}


def verify(directory: Path, files: Mapping[str, FileSum], thorough: bool = False) -> None:
    """Raises Damaged for the first file that is missing or differs from its checksum."""
    verified = {} if thorough else _read_verified(directory)
    still_good = {}
    for name, expected in files.items():
        path = directory / name
        try:
            stamp = _stamp(path)
        except FileNotFoundError:
            raise Damaged(path, "missing") from None
        if stamp[0] != expected["size"]:
            raise Damaged(path, f"size changed: {stamp[0]} bytes, {expected['size']} when saved")
        if verified.get(name) == [*stamp, expected["sha256"]]:
            still_good[name] = verified[name]
            continue
        started = time.time_ns()
        if _checksum(path)["sha256"] != expected["sha256"]:
            raise Damaged(path, "checksum mismatch")
        if _stamp(path) == stamp and stamp[3] < started - RACY_NS:
            still_good[name] = [*stamp, expected["sha256"]]
    if still_good != verified:
        _write_verified(directory, still_good)


@contextmanager
def locked(directory: Path, exclusive: bool) -> Iterator[None]:
    """An OS lock on the index folder: savers take it exclusively (one at a time, and no folder is
    swept while another process reads or writes), loaders shared. With no index folder yet, a loader
    has nothing to lock."""
    if exclusive:
        directory.mkdir(parents=True, exist_ok=True)
    elif not directory.is_dir():
        yield
        return
    with folder_lock(directory, shared=not exclusive):
        yield


def hold(folder: Path, user: object) -> None:
    """Marks `folder` in use by this process for as long as `user` lives: another process's save does not
    sweep it (see in_use), so a process serving from a base can still save edits on top of it after
    `careerbot index` wrote a new one. POSIX record locks, which belong to the process: its own saves
    sweep what it alone used, as before."""
    try:
        handle = os.open(folder / LEASE_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a read-only index folder: nobody sweeps it either
        return
    try:
        fcntl.lockf(handle, fcntl.LOCK_SH)
    except OSError:
        os.close(handle)
        return
    weakref.finalize(user, os.close, handle)  # closing the file releases the lease


def in_use(folder: Path) -> bool:
    """Whether another process holds `folder` (see hold). Call it under the exclusive index lock, as
    leases are taken only under the index lock."""
    try:
        handle = os.open(folder / LEASE_FILE, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(handle)
    return False


def _checksum(path: Path) -> FileSum:
    with open(path, "rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
        return {"size": os.fstat(file.fileno()).st_size, "sha256": digest}


def _stamp(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_size, status.st_ino, status.st_mtime_ns, status.st_ctime_ns]


def _read_verified(directory: Path) -> dict[str, list[Any]]:
    try:
        verified = json.loads((directory / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return verified if isinstance(verified, dict) else {}


def _write_verified(directory: Path, verified: dict[str, list[Any]]) -> None:
    with suppress(OSError):  # a read-only index folder: every start checks in full
        replace_atomically(directory / VERIFIED_FILE, lambda f: f.write(json.dumps(verified).encode()))
