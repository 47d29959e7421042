"""The texts that get embedded: each phrasing of an entry, its answer, and each article passage."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from careerbot.knowledge import KnowledgeBase


@dataclass(frozen=True)
class Document:
    item_id: str
    kind: str  # question | paraphrase | answer | passage
    text: str

    @property
    def key(self) -> str:
        """Identifies the embedded text, so an unchanged text keeps its vector across rebuilds."""
        return hashlib.sha256(f"{self.kind}\0{self.text}".encode()).hexdigest()


def documents_for(knowledge: KnowledgeBase) -> list[Document]:
    documents: list[Document] = []
    for entry in knowledge.entries:
        documents.append(Document(entry.id, "question", entry.question))
        documents += [Document(entry.id, "paraphrase", text) for text in entry.paraphrases]
        documents.append(Document(entry.id, "answer", f"{entry.question} {entry.answer}"))
    for passage in knowledge.passages:
        documents.append(Document(passage.id, "passage", f"{passage.title}. {passage.text}"))
    return documents


def content_hash(model_id: str, documents: list[Document]) -> str:
    payload = json.dumps([model_id, [[d.item_id, d.kind, d.text] for d in documents]], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()
