"""Where entries live, for ids that come from Discord and so are never trusted as paths.

An id must match the entry id pattern, and every file touched must be faq/<topic>/<id>.yaml for real
(resolved, symlinks followed) inside the knowledge folder. Anything else is "no entry with id ...", and
nothing is read or written.
"""

from __future__ import annotations

from pathlib import Path

from careerbot.knowledge.changes import ChangeRejected
from careerbot.knowledge.disk import MAX_ENTRY_BYTES, read_text
from careerbot.knowledge.faq_file import ID_PATTERN
from careerbot.knowledge.models import FOLDERS
from careerbot.knowledge.problems import Problem

# A file name holds at most 255 bytes, ".yaml" included; ids are ASCII, so characters are bytes.
MAX_ID_CHARS = 250


def is_entry_id(text: str) -> bool:
    return len(text) <= MAX_ID_CHARS and ID_PATTERN.fullmatch(text) is not None


class EntryPaths:
    """The entry files under the knowledge folder `root`, found and read only where entries belong."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, entry_id: str, topic: str) -> Path:
        """Where entry `entry_id` of `topic` lives; ChangeRejected for an id or topic that cannot be one."""
        if not is_entry_id(entry_id):
            message = f"{_shown(entry_id)} must be lowercase letters and digits joined by '-'"
            raise self.rejected("id", message)
        if topic not in FOLDERS:
            raise self.rejected("topic", f"unknown topic {_shown(topic)} (topics: {', '.join(FOLDERS)})")
        path = self.root / "faq" / topic / f"{entry_id}.yaml"
        if self.entry_file(entry_id, path) is None:
            raise self.rejected("id", f"faq/{topic}/{entry_id}.yaml is outside the knowledge")
        return path

    def entry_file(self, entry_id: str, path: Path) -> Path | None:
        """`path`, if it is where entry `entry_id` belongs: faq/<topic>/<id>.yaml under the knowledge
        folder, still there once resolved (no symlink leads out). None otherwise."""
        topic = path.parent.name
        if not is_entry_id(entry_id) or topic not in FOLDERS:
            return None
        relative = Path("faq", topic, f"{entry_id}.yaml")
        if path != self.root / relative:
            return None
        try:
            inside = path.resolve() == self.root.resolve() / relative
        except (OSError, RuntimeError):  # a symlink loop, a name the system refuses
            return None
        return path if inside else None

    def locate(self, entry_id: str) -> Path | None:
        """The file of the existing entry `entry_id`; None for any id that is not one (malformed, a
        path, unknown, or a file that resolves outside the knowledge folder)."""
        if not is_entry_id(entry_id):
            return None
        # One look per topic folder: listing the folders (a glob) takes a second at 100k entries.
        for topic in FOLDERS:
            path = self.entry_file(entry_id, self.root / "faq" / topic / f"{entry_id}.yaml")
            try:
                if path is not None and path.is_file():
                    return path
            except OSError:
                continue
        return None

    def current(self, entry_id: str) -> tuple[Path, str] | None:
        """An existing entry's file and its text as they are on disk now."""
        path = self.locate(entry_id)
        text = self.read(path) if path else None
        return (path, text) if path and text is not None else None

    def read(self, path: Path) -> str | None:
        """The file's text; None if there is none. A file that cannot be knowledge (a link, a pipe, too
        large, not UTF-8) is never read into memory: ChangeRejected naming it."""
        if not path.exists() and not path.is_symlink():
            return None
        text = read_text(path, MAX_ENTRY_BYTES)
        if isinstance(text, Problem):
            raise ChangeRejected([text], invalid=False)
        return text

    def no_such_entry(self, entry_id: str) -> ChangeRejected:
        return self.rejected("id", f"no entry with id {_shown(entry_id)}")

    def rejected(self, field: str, message: str) -> ChangeRejected:
        """A refusal that is not the change's fault (see ChangeRejected.invalid)."""
        return ChangeRejected([Problem(self.root / "faq", None, field, message)], invalid=False)


def _shown(text: str) -> str:
    """Untrusted text, quoted and clipped for a message (an id can be 10,000 characters or hold NULs)."""
    return repr(text if len(text) <= 60 else text[:60] + "...")
