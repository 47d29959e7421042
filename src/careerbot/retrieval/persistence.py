"""The index on disk, so that start-up embeds nothing and parses nothing that has not changed.

    manifest.json         format, model, which of the folders below are current, and the size and
                          sha256 of each of their files (checked before anything is used: integrity)
    verified.json         which files were hashed when (integrity); savers lock the folder itself
    base-<id>/in-use.lock       held by each process serving from that base, so it is not swept
    base-<id>/            everything as of the last full build; never modified:
                            vectors.faiss, rows.npz, items.json   the base segment
                            entries.jsonl, entries.npz           the entries, one JSON line each, and
                                                                 each line's offset, id and file
                            base.npz                             file stamps, keyword statistics
    state-<id>/           what changed since: state.json (the entries changed or removed since the
                          base, and passages) and the delta segment, if any

Start-up memory-maps the vectors and decodes entries only when they are needed, so it costs about the
same at any size. An edit writes only a new state folder. Every save ends by replacing the manifest:
that one rename is the commit point, so an interrupted save leaves the previous index whole. Folders
the manifest no longer names are then deleted, under the same lock as the save. A damaged index is
never served: `load` logs which file is damaged and gives the vectors it could keep, and the caller
rebuilds and saves a new index (in new folders: nothing on disk is trusted by its name).
"""

from __future__ import annotations

import json
import logging
import mmap
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from careerbot.config import IndexConfig
from careerbot.files import replace_atomically
from careerbot.knowledge import Entry, KnowledgeBase
from careerbot.knowledge.codec import entry_from_json, entry_to_json, passage_from_json, passage_to_json
from careerbot.knowledge.snapshot import Snapshot, Stamps
from careerbot.retrieval import integrity
from careerbot.retrieval.encoder import Encoder
from careerbot.retrieval.lexical import LexicalStats
from careerbot.retrieval.retriever import Retriever, keywords_of
from careerbot.retrieval.segment import SEGMENT_FILES, Segment

log = logging.getLogger(__name__)

FORMAT_VERSION = 4  # 4: file checksums in the manifest
MANIFEST = "manifest.json"
STATE_FILE = "state.json"
DELTA = "delta"
ENTRIES = "entries.jsonl"
ENTRY_INDEX = "entries.npz"
BASE_FILE = "base.npz"
MANIFEST_KEYS = {"format", "model", "dimension", "base", "state", "files"}


@dataclass(frozen=True)
class Loaded:
    """What `load` found: the stored index, or None; and, if it was damaged, the vectors of the segments
    that were whole, so that rebuilding embeds only what was lost."""

    stored: tuple[Snapshot, Retriever] | None
    salvaged: dict[bytes, np.ndarray] = field(default_factory=dict)


def load(
    directory: Path,
    root: Path,
    encoder: Encoder,
    settings: IndexConfig,
    lexical_weight: float,
    thorough: bool = False,
) -> Loaded:
    """The stored snapshot and retriever, if there is a whole index made by this model. Damage is logged
    (one warning naming the file) and never served. `thorough` hashes every file (see integrity)."""
    with integrity.locked(directory, exclusive=False):
        try:
            manifest = _manifest(directory)
        except integrity.Damaged as damage:
            _warn(damage)
            return Loaded(None)
        if manifest is None or (manifest["format"], manifest["model"], manifest["dimension"]) != (
            FORMAT_VERSION,
            encoder.model_id,
            encoder.dimension,
        ):
            return Loaded(None)
        try:
            integrity.verify(directory, manifest["files"], thorough)
        except integrity.Damaged as damage:
            _warn(damage)
            return Loaded(None, _salvage(directory, manifest, settings))
        try:
            return Loaded(_read(directory, manifest, root, encoder, settings, lexical_weight))
        except (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError) as error:
            # whole files that cannot be read: written by a bug, not damaged on disk
            log.warning("index in %s could not be read (%s); rebuilding the index", directory, error)
            return Loaded(None)


def _warn(damage: integrity.Damaged) -> None:
    log.warning("index file %s is damaged (%s); rebuilding the index", damage.path, damage.reason)


def _manifest(directory: Path) -> dict[str, Any] | None:
    """None if there is no index (yet); raises Damaged if the manifest is unreadable or incomplete."""
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_bytes())
    except FileNotFoundError:
        if any(directory.glob("base-*")):  # folders without a manifest: it was deleted
            raise integrity.Damaged(path, "missing") from None
        return None
    except (OSError, ValueError) as error:
        raise integrity.Damaged(path, f"unreadable: {error}") from None
    if not isinstance(manifest, dict):
        raise integrity.Damaged(path, "not an index manifest")
    if manifest.get("format") != FORMAT_VERSION:
        return None  # made by another version of careerbot: rebuilt, nothing damaged
    if not manifest.keys() >= MANIFEST_KEYS or not _well_formed(manifest["files"]):
        raise integrity.Damaged(path, "incomplete")
    return manifest


def _well_formed(files: object) -> bool:
    return isinstance(files, dict) and all(
        isinstance(s, dict) and isinstance(s.get("size"), int) and isinstance(s.get("sha256"), str)
        for s in files.values()
    )


def _read(
    directory: Path,
    manifest: dict[str, Any],
    root: Path,
    encoder: Encoder,
    settings: IndexConfig,
    lexical_weight: float,
) -> tuple[Snapshot, Retriever]:
    base_dir, state_dir = directory / manifest["base"], directory / manifest["state"]
    base = Segment.load(base_dir, settings)
    base.saved_files = _files_of(manifest, manifest["base"])
    integrity.hold(base_dir, base)
    state = json.loads((state_dir / STATE_FILE).read_text(encoding="utf-8"))
    stored = _StoredEntries(base_dir, root)
    with np.load(base_dir / BASE_FILE, allow_pickle=False) as arrays:
        lexical = LexicalStats.from_arrays(arrays)
    knowledge, lexical = stored.with_changes(state, lexical)
    delta = Segment.load(state_dir / DELTA) if state["has_delta"] else None
    superseded = frozenset(state["superseded"])
    retriever = Retriever(knowledge, encoder, base, lexical, lexical_weight, delta, superseded)
    # The file stamps are read when first compared (a reload), not before the first answer: at 1M
    # texts they are 140k Python tuples. The base folder is never modified, and held while in use.
    return Snapshot(knowledge, lambda: stored.stamps(state)), retriever


def _salvage(directory: Path, manifest: dict[str, Any], settings: IndexConfig) -> dict[bytes, np.ndarray]:
    """The vectors of each segment of a damaged index whose own files are whole."""
    known: dict[bytes, np.ndarray] = {}
    for folder in (manifest["base"], f"{manifest['state']}/{DELTA}"):
        names = [f"{folder}/{name}" for name in SEGMENT_FILES]
        if all(name in manifest["files"] for name in names):
            try:
                integrity.verify(directory, {name: manifest["files"][name] for name in names})
                known.update(Segment.load(directory / folder, settings).vectors_by_key())
            except (integrity.Damaged, OSError, ValueError, RuntimeError):
                pass  # this segment's texts are embedded again
    return known


def _files_of(manifest: dict[str, Any], folder: str) -> dict[str, integrity.FileSum]:
    return {name: s for name, s in manifest["files"].items() if name.startswith(folder + "/")}


class BaseMissing(ValueError):
    """A retriever with edits on top of a base that is no longer on disk (another process replaced it)."""


def save(directory: Path, root: Path, snapshot: Snapshot, retriever: Retriever, model_id: str) -> None:
    """Writes the state, and the base too unless it is on disk already (as after an edit): an edit
    writes only what changed since the base. Under the index lock, so a second saver waits: otherwise
    each would delete the folders the other's manifest names."""
    with integrity.locked(directory, exclusive=True):
        base = retriever.base
        if base.saved_as is None or not (directory / base.saved_as).is_dir():
            if retriever.superseded:
                raise BaseMissing(f"the index base {base.saved_as} under {directory} was deleted")
            _save_base(directory, snapshot, retriever)
        assert base.saved_as is not None
        state_name = f"state-{secrets.token_hex(6)}"
        _save_state(directory / state_name, root, snapshot, retriever)
        manifest = {
            "format": FORMAT_VERSION,
            "model": model_id,
            "dimension": base.index.dimension,
            "approximate": base.index.approximate,
            "base": base.saved_as,
            "state": state_name,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": {**base.saved_files, **integrity.checksums(directory, state_name)},
        }
        replace_atomically(directory / MANIFEST, lambda f: f.write(json.dumps(manifest, indent=2).encode()))
        for stale in [*directory.glob("base-*"), *directory.glob("state-*"), *directory.glob("data-*")]:
            if stale.name not in (base.saved_as, state_name) and not integrity.in_use(stale):
                shutil.rmtree(stale, ignore_errors=True)


def _save_state(folder: Path, root: Path, snapshot: Snapshot, retriever: Retriever) -> None:
    folder.mkdir()
    if retriever.delta is not None:
        retriever.delta.save(folder / DELTA)
    knowledge = snapshot.knowledge
    changed = [item for i in sorted(retriever.superseded) if isinstance(item := knowledge.get(i), Entry)]
    state: dict[str, Any] = {
        "passages": [passage_to_json(p, root) for p in knowledge.passages],
        "changed": [entry_to_json(entry) for entry in changed],
        "stamps": {entry.file: snapshot.stamps[entry.file] for entry in changed},
        "superseded": sorted(retriever.superseded),
        "has_delta": retriever.delta is not None,
    }
    replace_atomically(folder / STATE_FILE, lambda f: f.write(json.dumps(state).encode()))


def _save_base(directory: Path, snapshot: Snapshot, retriever: Retriever) -> None:
    """Only for a retriever with no edits on top of its base: the snapshot is what it was built from.
    Always a new folder: one on disk may be damaged, and its name says nothing of its content."""
    entries = snapshot.knowledge.entries
    lines = [json.dumps(entry_to_json(entry)).encode() + b"\n" for entry in entries]
    extra: dict[str, Any] = {
        "paths": np.array(list(snapshot.stamps), dtype=np.str_),
        "sizes": np.array([size for size, _ in snapshot.stamps.values()], dtype=np.int64),
        "mtimes": np.array([mtime for _, mtime in snapshot.stamps.values()], dtype=np.int64),
        **retriever.lexical.to_arrays(),
    }
    name = f"base-{secrets.token_hex(8)}"
    folder = directory / name
    folder.mkdir()
    replace_atomically(folder / ENTRIES, lambda f: f.writelines(lines))
    offsets = np.cumsum([0, *map(len, lines)], dtype=np.int64)
    ids = np.array([entry.id for entry in entries], dtype=np.str_)
    files = np.array([entry.file for entry in entries], dtype=np.str_)
    replace_atomically(folder / ENTRY_INDEX, lambda f: np.savez(f, offsets=offsets, ids=ids, files=files))
    replace_atomically(folder / BASE_FILE, lambda f: np.savez(f, **extra))
    retriever.base.save(folder)
    retriever.base.saved_as, retriever.base.saved_files = name, integrity.checksums(directory, name)
    integrity.hold(folder, retriever.base)


class _StoredEntries:
    """A base's entries file: decoded one line at a time, on demand."""

    def __init__(self, base_dir: Path, root: Path) -> None:
        self._root, self._base_dir = root, base_dir
        with np.load(base_dir / ENTRY_INDEX, allow_pickle=False) as index:
            self._offsets, self.ids, self.files = index["offsets"], index["ids"].tolist(), index["files"]
        with open(base_dir / ENTRIES, "rb") as file:
            self._lines = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) if self._offsets[-1] else b""
        if len(self._lines) != self._offsets[-1] or len(self.ids) + 1 != len(self._offsets):
            raise ValueError(f"{base_dir / ENTRIES} does not match its index")

    def read(self, line: int) -> Entry:
        data = json.loads(self._lines[self._offsets[line] : self._offsets[line + 1]])
        return entry_from_json(data, self._root)

    def stamps(self, state: dict[str, Any]) -> Stamps:
        """The file stamps: the base's, with the state's changes."""
        with np.load(self._base_dir / BASE_FILE, allow_pickle=False) as arrays:
            paths, sizes, mtimes = arrays["paths"], arrays["sizes"], arrays["mtimes"]
        stamps = dict(zip(paths.tolist(), zip(sizes.tolist(), mtimes.tolist(), strict=True), strict=True))
        superseded = set(state["superseded"])
        for line, entry_id in enumerate(self.ids if superseded else ()):
            if entry_id in superseded:
                stamps.pop(str(self.files[line]), None)
        for path, stamp in state["stamps"].items():
            stamps[path] = (stamp[0], stamp[1])
        return stamps

    def with_changes(
        self, state: dict[str, Any], lexical: LexicalStats
    ) -> tuple[KnowledgeBase, LexicalStats]:
        """The knowledge and keyword statistics: the base's, with the state's changes."""
        changed = {entry.id: entry for entry in (entry_from_json(e, self._root) for e in state["changed"])}
        superseded = set(state["superseded"])
        line_of = {self.ids[line]: line for line in range(len(self.ids))} if superseded else {}
        lexical = lexical.changed(
            removed={i: keywords_of(self.read(line_of[i])) for i in superseded & line_of.keys()},
            added={i: keywords_of(entry) for i, entry in changed.items()},
        )
        order = [(line, i) for line, i in enumerate(self.ids) if i not in superseded]
        order += [(-1, i) for i in changed]
        topics = [changed[i].topic if line < 0 else str(self.files[line]).split("/")[1] for line, i in order]

        def read(position: int) -> Entry:
            line, entry_id = order[position]
            return changed[entry_id] if line < 0 else self.read(line)

        passages = [passage_from_json(p, self._root) for p in state["passages"]]
        knowledge = KnowledgeBase.deferred([i for _, i in order], topics, read, passages)
        return knowledge, lexical
