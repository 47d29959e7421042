"""Writing a file so that readers, and a process killed midway, see the old file or the new, never half;
and holding a folder for one writer at a time, across processes."""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

LOCK_POLL_SECONDS = 0.02


def replace_atomically(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Writes beside the target (same folder, so the same filesystem), flushes to disk, then renames
    over the target: rename is atomic on POSIX."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_text_atomically(target: Path, text: str) -> None:
    replace_atomically(target, lambda file: file.write(text.encode("utf-8")))


@contextmanager
def folder_lock(folder: Path, timeout: float | None = None, shared: bool = False) -> Iterator[None]:
    """Holds an OS lock (flock) on the folder itself: exclusive, or `shared` with other shared holders.
    With `timeout`, waits at most that many seconds (then TimeoutError); without, as long as it takes.
    Locking the folder, not a file in it, creates nothing: no lock file in git, and it works in a folder
    careerbot may not write. The kernel drops the lock when the process dies, so a crash never leaves it
    held. Two opens in one process are two locks, so threads exclude each other too."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    try:
        if timeout is None:
            fcntl.flock(handle, mode)
        else:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise TimeoutError(f"{folder} is locked by another writer") from None
                    time.sleep(LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(handle)  # releases the lock
