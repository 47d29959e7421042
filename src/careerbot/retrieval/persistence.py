"""The index on disk, so that start-up embeds nothing and parses nothing that has not changed.

    manifest.json         format, model, and which of the folders below are current
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
the manifest no longer names are then deleted.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from careerbot.config import IndexConfig
from careerbot.files import replace_atomically
from careerbot.knowledge import Entry, KnowledgeBase
from careerbot.knowledge.codec import entry_from_json, entry_to_json, passage_from_json, passage_to_json
from careerbot.knowledge.snapshot import Snapshot, Stamps
from careerbot.retrieval.encoder import Encoder
from careerbot.retrieval.lexical import LexicalStats
from careerbot.retrieval.retriever import Retriever, keywords_of
from careerbot.retrieval.segment import ITEMS_FILE, Segment

FORMAT_VERSION = 3
MANIFEST = "manifest.json"
STATE_FILE = "state.json"
DELTA = "delta"
ENTRIES = "entries.jsonl"
ENTRY_INDEX = "entries.npz"
BASE_FILE = "base.npz"


def load(
    directory: Path, root: Path, encoder: Encoder, settings: IndexConfig, lexical_weight: float
) -> tuple[Snapshot, Retriever] | None:
    """The stored snapshot and retriever, or None if there is no whole index made by this model."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        if (manifest.get("format"), manifest.get("model"), manifest.get("dimension")) != (
            FORMAT_VERSION,
            encoder.model_id,
            encoder.dimension,
        ):
            return None
        base_dir, state_dir = directory / manifest["base"], directory / manifest["state"]
        base = Segment.load(base_dir, settings)
        if base.index.dimension != encoder.dimension:
            return None
        state = json.loads((state_dir / STATE_FILE).read_text(encoding="utf-8"))
        stored = _StoredEntries(base_dir, root)
        with np.load(base_dir / BASE_FILE, allow_pickle=False) as arrays:
            stamps = dict(
                zip(
                    arrays["paths"].tolist(),
                    zip(arrays["sizes"].tolist(), arrays["mtimes"].tolist(), strict=True),
                    strict=True,
                )
            )
            lexical = LexicalStats.from_arrays(arrays)
        knowledge, stamps, lexical = stored.with_changes(state, stamps, lexical)
        delta = Segment.load(state_dir / DELTA) if state["has_delta"] else None
        superseded = frozenset(state["superseded"])
        retriever = Retriever(knowledge, encoder, base, lexical, lexical_weight, delta, superseded)
    except (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError):  # faiss: RuntimeError
        return None
    return Snapshot(knowledge, stamps), retriever


def save(directory: Path, root: Path, snapshot: Snapshot, retriever: Retriever, model_id: str) -> None:
    """Writes the state, and the base too unless it is on disk already (as after an edit): an edit
    writes only what changed since the base."""
    directory.mkdir(parents=True, exist_ok=True)
    base_name = retriever.base.saved_as
    if base_name is None or not (directory / base_name).is_dir():
        if retriever.superseded:
            raise ValueError("a base with edits on top must have been saved before")
        base_name = _save_base(directory, snapshot, retriever)
    state_name = f"state-{secrets.token_hex(6)}"
    state_dir = directory / state_name
    state_dir.mkdir()
    if retriever.delta is not None:
        retriever.delta.save(state_dir / DELTA)
    knowledge = snapshot.knowledge
    changed = [item for i in sorted(retriever.superseded) if isinstance(item := knowledge.get(i), Entry)]
    state: dict[str, Any] = {
        "passages": [passage_to_json(p, root) for p in knowledge.passages],
        "changed": [entry_to_json(entry) for entry in changed],
        "stamps": {entry.file: snapshot.stamps[entry.file] for entry in changed},
        "superseded": sorted(retriever.superseded),
        "has_delta": retriever.delta is not None,
    }
    replace_atomically(state_dir / STATE_FILE, lambda f: f.write(json.dumps(state).encode()))
    manifest = {
        "format": FORMAT_VERSION,
        "model": model_id,
        "dimension": retriever.base.index.dimension,
        "approximate": retriever.base.index.approximate,
        "base": base_name,
        "state": state_name,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    replace_atomically(directory / MANIFEST, lambda f: f.write(json.dumps(manifest, indent=2).encode()))
    for stale in [*directory.glob("base-*"), *directory.glob("state-*"), *directory.glob("data-*")]:
        if stale.name not in (base_name, state_name):
            shutil.rmtree(stale, ignore_errors=True)


def _save_base(directory: Path, snapshot: Snapshot, retriever: Retriever) -> str:
    """Only for a retriever with no edits on top of its base: the snapshot is what it was built from."""
    entries = snapshot.knowledge.entries
    lines = [json.dumps(entry_to_json(entry)).encode() + b"\n" for entry in entries]
    digest = hashlib.sha256(retriever.base.fingerprint().encode())
    for line in lines:
        digest.update(line)
    extra: dict[str, Any] = {
        "paths": np.array(list(snapshot.stamps), dtype=np.str_),
        "sizes": np.array([size for size, _ in snapshot.stamps.values()], dtype=np.int64),
        "mtimes": np.array([mtime for _, mtime in snapshot.stamps.values()], dtype=np.int64),
        **retriever.lexical.to_arrays(),
    }
    for name in sorted(extra):
        digest.update(extra[name].tobytes())
    name = f"base-{digest.hexdigest()[:16]}"
    folder = directory / name
    if not (folder / ITEMS_FILE).is_file():  # else saved before; ITEMS_FILE is written last
        folder.mkdir(parents=True, exist_ok=True)
        replace_atomically(folder / ENTRIES, lambda f: f.writelines(lines))
        offsets = np.cumsum([0, *map(len, lines)], dtype=np.int64)
        ids = np.array([entry.id for entry in entries], dtype=np.str_)
        files = np.array([entry.file for entry in entries], dtype=np.str_)
        replace_atomically(folder / ENTRY_INDEX, lambda f: np.savez(f, offsets=offsets, ids=ids, files=files))
        replace_atomically(folder / BASE_FILE, lambda f: np.savez(f, **extra))
        retriever.base.save(folder)
    retriever.base.saved_as = name
    return name


class _StoredEntries:
    """A base's entries file: decoded one line at a time, on demand."""

    def __init__(self, base_dir: Path, root: Path) -> None:
        self._root = root
        with np.load(base_dir / ENTRY_INDEX, allow_pickle=False) as index:
            self._offsets, self.ids, self.files = index["offsets"], index["ids"].tolist(), index["files"]
        with open(base_dir / ENTRIES, "rb") as file:
            self._lines = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) if self._offsets[-1] else b""
        if len(self._lines) != self._offsets[-1] or len(self.ids) + 1 != len(self._offsets):
            raise ValueError(f"{base_dir / ENTRIES} does not match its index")

    def read(self, line: int) -> Entry:
        data = json.loads(self._lines[self._offsets[line] : self._offsets[line + 1]])
        return entry_from_json(data, self._root)

    def with_changes(
        self, state: dict[str, Any], stamps: Stamps, lexical: LexicalStats
    ) -> tuple[KnowledgeBase, Stamps, LexicalStats]:
        """The knowledge, file stamps and keyword statistics: the base's, with the state's changes."""
        changed = {entry.id: entry for entry in (entry_from_json(e, self._root) for e in state["changed"])}
        superseded = set(state["superseded"])
        line_of = {self.ids[line]: line for line in range(len(self.ids))} if superseded else {}
        current = dict(stamps) if superseded else stamps
        for entry_id in superseded & line_of.keys():
            current.pop(str(self.files[line_of[entry_id]]), None)
        for path, stamp in state["stamps"].items():
            current[path] = (stamp[0], stamp[1])
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
        return knowledge, current, lexical
