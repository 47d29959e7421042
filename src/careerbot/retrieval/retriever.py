"""Question -> ranked knowledge items: embeddings (faiss) with a BM25 keyword boost."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from careerbot.knowledge import Entry, KnowledgeBase
from careerbot.retrieval.candidate import Candidate
from careerbot.retrieval.documents import Document, documents_for
from careerbot.retrieval.encoder import Encoder, Vectors
from careerbot.retrieval.index import VectorIndex
from careerbot.retrieval.lexical import LexicalIndex
from careerbot.retrieval.persistence import IndexReport, load_or_build

# Rows fetched from faiss per question before grouping by item: enough that every item in the
# candidate list is scored by its best rows.
ROWS_PER_QUERY = 256
TEXTS_PER_ITEM = 3


class Retriever:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        documents: list[Document],
        vectors: Vectors,
        encoder: Encoder,
        lexical_weight: float = 0.0,
    ) -> None:
        if len(documents) != len(vectors):
            raise ValueError(f"{len(documents)} documents but {len(vectors)} vectors")
        self._documents = documents
        self._encoder = encoder
        self._index = VectorIndex(vectors)
        self._lexical_weight = lexical_weight
        self._item_ids = [item.id for item in knowledge.items]
        self._lexical = (
            LexicalIndex([_keywords_of(knowledge, item_id) for item_id in self._item_ids])
            if lexical_weight > 0
            else None
        )

    @classmethod
    def open(
        cls,
        knowledge: KnowledgeBase,
        encoder: Encoder,
        index_dir: Path,
        lexical_weight: float = 0.0,
        show_progress: bool = False,
        rebuild: bool = False,
    ) -> tuple[Retriever, IndexReport]:
        """Loads the persisted index, embedding only texts it does not hold yet."""
        documents = documents_for(knowledge)
        vectors, report = load_or_build(index_dir, documents, encoder, show_progress, force=rebuild)
        return cls(knowledge, documents, vectors, encoder, lexical_weight), report

    def search(self, question: str, limit: int = 10) -> list[Candidate]:
        return self.search_many([question], limit)[0]

    def search_many(self, questions: Sequence[str], limit: int = 10) -> list[list[Candidate]]:
        if not questions:
            return []
        queries = self._encoder.encode_queries(questions)
        all_scores, all_rows = self._index.search(queries, ROWS_PER_QUERY)
        return [
            self._rank(question, scores, rows, limit)
            for question, scores, rows in zip(questions, all_scores, all_rows, strict=True)
        ]

    def _rank(self, question: str, scores: np.ndarray, rows: np.ndarray, limit: int) -> list[Candidate]:
        """Groups rows by item. An item ranks by the mean of its best TEXTS_PER_ITEM similarities (several
        phrasings agreeing beat one lucky match; measured on eval.yaml, see README) plus the weighted
        keyword score; its `score` stays the cosine of its single best text."""
        best: dict[str, list[tuple[float, Document]]] = {}
        for score, row in zip(scores.tolist(), rows.tolist(), strict=True):
            if row < 0:
                continue
            document = self._documents[row]
            matches = best.setdefault(document.item_id, [])
            if len(matches) < TEXTS_PER_ITEM:  # rows arrive best first
                matches.append((score, document))
        lexical = self._lexical_scores(question)
        candidates = []
        for item_id, matches in best.items():
            top_score, top_document = matches[0]
            keyword = lexical.get(item_id, 0.0)
            candidates.append(
                Candidate(
                    item_id=item_id,
                    score=top_score,
                    rank_score=sum(score for score, _ in matches) / len(matches)
                    + self._lexical_weight * keyword,
                    matched_kind=top_document.kind,
                    matched_text=top_document.text,
                    lexical=keyword,
                )
            )
        candidates.sort(key=lambda c: c.rank_score, reverse=True)
        return candidates[:limit]

    def _lexical_scores(self, question: str) -> dict[str, float]:
        if self._lexical is None:
            return {}
        scores = self._lexical.scores(question)
        return {self._item_ids[i]: float(scores[i]) for i in np.flatnonzero(scores)}


def _keywords_of(knowledge: KnowledgeBase, item_id: str) -> str:
    item = knowledge.get(item_id)
    if isinstance(item, Entry):
        return " ".join((item.question, *item.paraphrases, *item.tags, item.answer))
    # The article title and author too: members ask about "that Julieta Cura article" by name.
    return f"{item.source.title} {item.title} {item.text}" if item is not None else ""
