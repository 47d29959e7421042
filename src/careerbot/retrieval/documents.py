"""The texts that get embedded: each phrasing of an entry, its answer, and each article passage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from careerbot.knowledge import Entry, Item

KINDS = ("question", "paraphrase", "answer", "passage")


@dataclass(frozen=True)
class Document:
    item_id: str
    kind: str  # one of KINDS
    text: str
    part: int = 0  # which paraphrase

    @property
    def key(self) -> bytes:
        """Identifies the embedded text, so an unchanged text keeps its vector across rebuilds."""
        return hashlib.sha256(f"{self.kind}\0{self.text}".encode()).digest()


def documents_of(item: Item) -> list[Document]:
    if isinstance(item, Entry):
        return [
            Document(item.id, "question", item.question),
            *(Document(item.id, "paraphrase", text, i) for i, text in enumerate(item.paraphrases)),
            Document(item.id, "answer", text_of(item, "answer")),
        ]
    return [Document(item.id, "passage", text_of(item, "passage"))]


def text_of(item: Item, kind: str, part: int = 0) -> str:
    """The text of `item`'s document of this kind and part ("" if it has none), without making the
    others: an answer looks up the matched text of each of its ten candidates."""
    if isinstance(item, Entry) and kind == "paraphrase":
        return item.paraphrases[part] if 0 <= part < len(item.paraphrases) else ""
    if part != 0:
        return ""
    if isinstance(item, Entry):
        return (
            item.question
            if kind == "question"
            else f"{item.question} {item.answer}"
            if kind == "answer"
            else ""
        )
    return f"{item.title}. {item.text}" if kind == "passage" else ""
