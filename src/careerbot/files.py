"""Writing a file so that readers, and a process killed midway, see the old file or the new, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


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
