"""A searchable set of embedded texts: the vector index plus, per row, which item and text it holds.

Rows are numpy arrays rather than objects, so a segment of 700k texts loads in milliseconds and the
text itself is looked up in the knowledge only for the few rows a search returns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from careerbot.config import IndexConfig
from careerbot.files import replace_atomically
from careerbot.retrieval.documents import KINDS, Document
from careerbot.retrieval.encoder import Vectors
from careerbot.retrieval.index import VectorIndex

ROWS_FILE = "rows.npz"
ITEMS_FILE = "items.json"
VECTORS_FILE = "vectors.faiss"
SEGMENT_FILES = (VECTORS_FILE, ROWS_FILE, ITEMS_FILE)


@dataclass(eq=False)
class Segment:
    """Immutable in use; `saved_as` and `saved_files` alone are set, once the segment is on disk."""

    index: VectorIndex
    items: list[str]  # the distinct item ids, which row_item points into
    row_item: np.ndarray  # int32
    row_kind: np.ndarray  # int8, into KINDS
    row_part: np.ndarray  # int16: which paraphrase
    keys: np.ndarray  # 32-byte text keys (Document.key), to reuse vectors when rebuilding
    saved_as: str | None = None  # the index folder's sub-folder holding it
    saved_files: dict[str, Any] = field(default_factory=dict)  # that sub-folder's files: checksums

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        vectors: Vectors,
        settings: IndexConfig | None = None,
        show_progress: bool = False,
    ) -> Segment:
        if len(documents) != len(vectors):
            raise ValueError(f"{len(documents)} documents but {len(vectors)} vectors")
        position: dict[str, int] = {}
        for document in documents:
            position.setdefault(document.item_id, len(position))
        return cls(
            index=VectorIndex.build(vectors, settings, show_progress),
            items=list(position),
            row_item=np.fromiter((position[d.item_id] for d in documents), np.int32, len(documents)),
            row_kind=np.fromiter((KINDS.index(d.kind) for d in documents), np.int8, len(documents)),
            row_part=np.fromiter((d.part for d in documents), np.int16, len(documents)),
            keys=np.array([d.key for d in documents], dtype="S32"),
        )

    def __len__(self) -> int:
        return len(self.row_item)

    def row(self, row: int) -> tuple[str, str, int]:
        """The item id, kind of text and paraphrase number of a row."""
        return self.items[self.row_item[row]], KINDS[self.row_kind[row]], int(self.row_part[row])

    def vectors_by_key(self) -> dict[bytes, np.ndarray]:
        return dict(zip(self.keys.tolist(), self.index.vectors(), strict=True)) if len(self) else {}

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.index.save(folder / VECTORS_FILE)
        replace_atomically(
            folder / ROWS_FILE,
            lambda f: np.savez(f, item=self.row_item, kind=self.row_kind, part=self.row_part, keys=self.keys),
        )
        replace_atomically(folder / ITEMS_FILE, lambda f: f.write(json.dumps(self.items).encode()))

    @classmethod
    def load(cls, folder: Path, settings: IndexConfig | None = None) -> Segment:
        """Raises OSError or ValueError if the folder is not a whole segment."""
        index = VectorIndex.load(folder / VECTORS_FILE, settings)
        items = json.loads((folder / ITEMS_FILE).read_text(encoding="utf-8"))
        with np.load(folder / ROWS_FILE, allow_pickle=False) as rows:
            segment = cls(index, items, rows["item"], rows["kind"], rows["part"], rows["keys"], folder.name)
        if not len(segment) == len(index) == len(segment.keys) or (
            len(segment) and int(segment.row_item.max()) >= len(items)
        ):
            raise ValueError(f"{folder}: rows and vectors disagree")
        return segment
