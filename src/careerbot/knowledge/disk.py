"""The knowledge folder on disk: which files it holds, and reading one without trusting it.

One listing serves `careerbot validate`, `careerbot index`, the engine's load and the snapshot's change
scan, so they all see the same files and apply the same rules:
- only regular files are read: a symbolic link (dangling, or pointing anywhere, inside the folder or
  out) is refused with a message naming it, as are pipes and devices (reading a pipe or /dev/zero
  would never end). Copy the file in instead of linking it: what is reviewed is what is served;
- a file larger than its kind's limit is refused before it is read (see the limits below);
- the text must be UTF-8 without control characters (NUL, ESC, ...): they would reach terminals and
  Discord as they are, and YAML refuses them anyway. Problems name the line.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from careerbot.knowledge.problems import Problem

Stamps = dict[str, tuple[int, int]]  # path relative to the knowledge folder, with "/" -> (size, mtime ns)
WATCHED = ("faq", "articles")  # eval/ is not knowledge the bot answers from

# A valid entry is at most about 25 KB (a 100-character question, 50 paraphrases of 400, a 1,000-character
# answer, tags and sources): 256 KiB leaves room for comments and layout, and bounds what one bad file
# costs to parse. Articles hold many passages of up to 1,000 characters; an eval set grows with questions.
MAX_ENTRY_BYTES = 256 * 1024
MAX_ARTICLE_BYTES = 1024 * 1024
MAX_EVAL_BYTES = 4 * 1024 * 1024

# C0 controls except tab, line feed and carriage return; DEL; C1 controls.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Listing:
    stamps: Stamps  # every file under faq/ and articles/ that is not a folder: links and pipes too
    problems: tuple[Problem, ...]  # folders that could not be listed


def list_files(root: Path, entering: Callable[[str], None] | None = None) -> Listing:
    """Stamps from lstat: a link is listed (and later refused) as itself, never followed, so a dangling
    or far-pointing link neither stops the scan nor hides the files after it. `entering` is called with
    each folder (relative, with "/") before it is listed (careerbot.knowledge.watch watches it then)."""
    stamps: Stamps = {}
    problems: list[Problem] = []
    pending = list(WATCHED)  # relative folders; plain strings, as pathlib costs seconds at 100k files
    while pending:
        folder = pending.pop()
        try:
            if entering is not None:
                entering(folder)
            with os.scandir(os.path.join(root, folder)) as found:
                for item in found:
                    relative = f"{folder}/{item.name}"
                    try:
                        if item.is_dir(follow_symlinks=False):
                            pending.append(relative)
                        else:
                            info = item.stat(follow_symlinks=False)
                            stamps[relative] = (info.st_size, info.st_mtime_ns)
                    except FileNotFoundError:  # removed while listed
                        continue
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(Problem(root / folder, None, None, f"cannot list the folder: {exc.strerror}"))
    return Listing(stamps, tuple(problems))


def is_listed(path: Path) -> bool:
    """Whether list_files lists this path: anything but a folder, a link whatever it points to."""
    try:
        return not stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def read_text(path: Path, limit: int) -> str | Problem:
    """The file's text, or the problem that stops it being read. Opened without following a link and
    without waiting for a pipe's writer; checked to be a regular file before a byte is read."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        handle = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _refused(path, "is a symbolic link", "copy the file here instead of linking it")
        return Problem(path, None, None, f"cannot read: {exc.strerror}")
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            return _refused(path, "is not a regular file", "a pipe, device or socket is never read")
        if info.st_size > limit:
            return _too_large(path, info.st_size, limit)
        data = file.read(limit + 1)  # the file may have grown since fstat
    if len(data) > limit:
        return _too_large(path, len(data), limit)
    return decode(path, data)


def decode(path: Path, data: bytes) -> str | Problem:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Problem(path, line, None, f"not valid UTF-8 (byte {data[exc.start]:#04x})")
    return check_text(path, text) or text


def check_text(path: Path, text: str, limit: int | None = None) -> Problem | None:
    """For text that does not come from a file (a change not yet written): the same rules."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate: no file can hold it as UTF-8
        return Problem(path, text.count("\n", 0, exc.start) + 1, None, "not valid UTF-8 (a lone surrogate)")
    if limit is not None and size > limit:
        return _too_large(path, size, limit)
    found = CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return Problem(
        path, line, None, f"control character U+{ord(found.group()):04X} at column {column} is not allowed"
    )


def _refused(path: Path, what: str, advice: str) -> Problem:
    return Problem(path, None, None, f"{what}: not read (knowledge files are regular files: {advice})")


def _too_large(path: Path, size: int, limit: int) -> Problem:
    return Problem(path, None, None, f"is {size:,} bytes; the limit is {limit // 1024} KiB: not read")
