"""Running a child process for which a read-only folder is read-only, even when the tests run as root
(root ignores file permissions: chmod alone proves nothing there)."""

from __future__ import annotations

import ctypes
import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

PR_CAPBSET_DROP = 24
# The capabilities that let root read, write and chmod files whatever their permissions.
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3


def _drop_root_powers() -> None:
    """Runs in the child before exec: what is dropped from the bounding set is gone after exec."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_unprivileged(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """subprocess.run, in a child that file permissions apply to."""
    preexec: Callable[[], None] | None = _drop_root_powers if os.geteuid() == 0 else None
    try:
        return subprocess.run(args, preexec_fn=preexec, capture_output=True, text=True, **kwargs)
    except subprocess.SubprocessError as error:  # no CAP_SETPCAP: cannot drop root's powers here
        pytest.skip(f"cannot run a child that file permissions apply to: {error}")


@contextmanager
def read_only(*folders: Path) -> Iterator[None]:
    """The folders (not what is in them) read-only for the duration; made writable again after, so
    that pytest can clean up."""
    modes = {folder: folder.stat().st_mode for folder in folders}
    try:
        for folder in folders:
            folder.chmod(stat.S_IMODE(modes[folder]) & ~0o222)
        yield
    finally:
        for folder, mode in modes.items():
            folder.chmod(stat.S_IMODE(mode))
