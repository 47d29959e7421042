"""Question -> ranked knowledge items: embeddings (faiss) with a BM25 keyword boost.

The texts live in two segments. The base holds everything as of the last full build and may be large
(and approximate). An edit never touches it: the edited items' base rows are marked superseded and their
current texts go into a small exact `delta` segment, so making an edit live costs time in proportion to
the edit. `careerbot index` folds the delta back into a new base.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

import numpy as np

from careerbot.config import IndexConfig
from careerbot.knowledge import Entry, Item, KnowledgeBase
from careerbot.retrieval.candidate import Candidate
from careerbot.retrieval.documents import KINDS, Document, documents_of, text_of
from careerbot.retrieval.encoder import Encoder, Vectors
from careerbot.retrieval.lexical import LexicalScorer, LexicalStats
from careerbot.retrieval.segment import Segment

# Rows fetched from faiss per question before grouping by item: enough that every item in the
# candidate list is scored by its best rows.
ROWS_PER_QUERY = 256
Key = TypeVar("Key", bound=Hashable)  # an item: its id, or its position in a segment's items


class Retriever:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        encoder: Encoder,
        base: Segment,
        lexical: LexicalStats,
        lexical_weight: float = 0.0,
        delta: Segment | None = None,
        superseded: frozenset[str] = frozenset(),
    ) -> None:
        self.knowledge = knowledge
        self.base, self.delta, self.superseded, self.lexical = base, delta, superseded, lexical
        self._encoder = encoder
        self._lexical_weight = lexical_weight
        self._keywords = LexicalScorer(
            lexical, lambda item_id: keywords_of(knowledge.get(item_id)), items=base.items
        )

    def _matched_text(self, item_id: str, kind: str, part: int) -> str:
        """A candidate's matched text, looked up when it is read (Candidate.matched_text): at 1M texts a
        search groups about a hundred items, and rebuilding each one's texts cost more than the search."""
        item = self.knowledge.get(item_id)
        return text_of(item, kind, part) if item is not None else ""

    @classmethod
    def build(
        cls,
        knowledge: KnowledgeBase,
        encoder: Encoder,
        settings: IndexConfig | None = None,
        lexical_weight: float = 0.0,
        known: Mapping[bytes, np.ndarray] | None = None,
        show_progress: bool = False,
    ) -> tuple[Retriever, int]:
        """A retriever with everything in one base segment, and how many texts were embedded (texts whose
        key is in `known` reuse that vector)."""
        documents = [document for item in knowledge.items for document in documents_of(item)]
        vectors, embedded = _embed(documents, encoder, known or {}, show_progress)
        lexical = LexicalStats.build({item.id: keywords_of(item) for item in knowledge.items})
        base = Segment.build(documents, vectors, settings, show_progress)
        return cls(knowledge, encoder, base, lexical, lexical_weight), embedded

    def changed(self, knowledge: KnowledgeBase, changed_ids: frozenset[str]) -> tuple[Retriever, int]:
        """This retriever for `knowledge`, which differs from ours only in the items `changed_ids`
        (added, edited or removed). Leaves self untouched: the live engine keeps answering with it."""
        superseded = self.superseded | changed_ids
        current = [item for i in sorted(superseded) if (item := knowledge.get(i)) is not None]
        documents = [document for item in current for document in documents_of(item)]
        known = self.delta.vectors_by_key() if self.delta is not None else {}
        vectors, embedded = _embed(documents, self._encoder, known, False)
        lexical = self.lexical.changed(
            removed={i: keywords_of(item) for i in changed_ids if (item := self.knowledge.get(i))},
            added={i: keywords_of(item) for i in changed_ids if (item := knowledge.get(i))},
        )
        delta = Segment.build(documents, vectors) if documents else None
        retriever = Retriever(
            knowledge, self._encoder, self.base, lexical, self._lexical_weight, delta, superseded
        )
        return retriever, embedded

    def known_vectors(self) -> dict[bytes, np.ndarray]:
        """Every stored vector by text key, for a rebuild that embeds only new texts."""
        known = self.base.vectors_by_key()
        if self.delta is not None:
            known.update(self.delta.vectors_by_key())
        return known

    def search(self, question: str, limit: int = 10) -> list[Candidate]:
        return self.search_many([question], limit)[0]

    def search_many(self, questions: Sequence[str], limit: int = 10) -> list[list[Candidate]]:
        if not questions:
            return []
        queries = self._encoder.encode_queries(questions)
        if self.delta is None and not self.superseded and len(self.base) and limit > 0:
            all_scores, all_rows = self.base.index.search(queries, ROWS_PER_QUERY)
            # Rows taken by index, not by zipping the arrays: numpy's row iterator, cold right after the
            # model call, cost about 0.02 ms of each answer.
            return [
                self._rank_rows(question, all_scores[number], all_rows[number], limit)
                for number, question in enumerate(questions)
            ]
        found = [self._hits(self.base, queries, skip=self.superseded)]
        if self.delta is not None:
            found.append(self._hits(self.delta, queries, skip=frozenset()))
        return [
            self._rank(question, _best_first(per_segment), limit)
            for question, per_segment in zip(questions, zip(*found, strict=True), strict=True)
        ]

    @staticmethod
    def _hits(
        segment: Segment, queries: Vectors, skip: frozenset[str]
    ) -> list[list[tuple[float, str, str, int]]]:
        """Per query: (score, item id, kind, part) of its best rows, leaving out items in `skip`."""
        if not len(segment):
            return [[] for _ in queries]
        all_scores, all_rows = segment.index.search(queries, ROWS_PER_QUERY)
        return [
            _rows_of(segment, scores, rows, skip) for scores, rows in zip(all_scores, all_rows, strict=True)
        ]

    def _rank(self, question: str, hits: list[tuple[float, str, str, int]], limit: int) -> list[Candidate]:
        """Groups rows by item. An item ranks by the mean of its best two similarities (several
        phrasings agreeing beat one lucky match; measured on the dev set, see README) plus the weighted
        keyword score; its `score` stays the cosine of its single best text."""
        best, second = _best_two_rows([hit[1] for hit in hits])  # hits arrive best first
        weight = self._lexical_weight
        lexical = self._keywords.scores(question, best) if weight > 0 else {}
        negated = _negated_rank_scores(
            [hits[place][0] for place in best.values()],
            [hits[place][0] if (place := second.get(item_id)) is not None else None for item_id in best],
            [lexical.get(item_id, 0.0) for item_id in best],
            weight,
        )
        texts = self._matched_text
        # Sorted as (-rank score, item id), so that ties come in the same order every time.
        ranked = sorted(zip(negated, best, strict=True))
        return [
            Candidate(
                item_id=item_id,
                score=hits[best[item_id]][0],
                rank_score=-negated,
                matched_kind=hits[best[item_id]][2],
                lexical=lexical.get(item_id, 0.0),
                matched_part=hits[best[item_id]][3],
                texts=texts,
            )
            for negated, item_id in ranked[:limit]
        ]

    def _rank_rows(self, question: str, scores: np.ndarray, rows: np.ndarray, limit: int) -> list[Candidate]:
        """`_rank` of one question's faiss rows when the base segment is all there is (no edits since the
        build), grouped on the segment's item positions (small ints) instead of (score, id, kind, part)
        tuples keyed by id strings: right after the model call, touching each row's id string was a cache
        miss, and numpy grouping cost more still (each numpy routine's first call after the model call is
        slow). The same candidates to the last bit; only the kept ones are made into Candidates."""
        segment = self.base
        if segment.index.approximate:  # -1: fewer rows than asked, which an exact index never gives
            scores, rows = scores[rows >= 0], rows[rows >= 0]
        row_items = segment.row_item[rows].tolist()
        best, second = _best_two_rows(row_items)
        similarities = scores.tolist()
        positions = list(best)
        weight = self._lexical_weight
        lexical = self._keywords.scores_at(question, positions) if weight > 0 else [0.0] * len(positions)
        negated = _negated_rank_scores(
            [similarities[place] for place in best.values()],
            [similarities[place] if (place := second.get(item)) is not None else None for item in positions],
            lexical,
            weight,
        )
        cut = sorted(negated)[limit - 1] if len(negated) > limit else math.inf
        items = segment.items
        kept = sorted(
            (value, items[item], item, keywords)
            for value, item, keywords in zip(negated, positions, lexical, strict=True)
            if value <= cut
        )[:limit]
        best_rows = rows[[best[item] for _, _, item, _ in kept]]
        texts = self._matched_text
        return [
            Candidate(
                item_id=item_id,
                score=similarities[best[item]],
                rank_score=-value,
                matched_kind=KINDS[kind],
                lexical=keywords,
                matched_part=part,
                texts=texts,
            )
            for (value, item_id, item, keywords), kind, part in zip(
                kept, segment.row_kind[best_rows].tolist(), segment.row_part[best_rows].tolist(), strict=True
            )
        ]


def _best_two_rows(row_items: list[Key]) -> tuple[dict[Key, int], dict[Key | None, int]]:
    """Each item's best and second-best row (places in `row_items`, whose rows arrive best first): the
    two rows its rank score averages. Made by dict() in C from the rows taken backwards,
    so that each item's first row is the one a dict keeps; a loop over every row cost 0.03 ms more."""
    backwards = range(len(row_items) - 1, -1, -1)
    best = dict(zip(reversed(row_items), backwards, strict=True))
    others: list[Key | None] = list(row_items)
    for place in best.values():
        others[place] = None  # taken: the best row of its item
    return best, dict(zip(reversed(others), backwards, strict=True))  # (and None, never asked for)


def _negated_rank_scores(
    best: Sequence[float], second: Sequence[float | None], keywords: Sequence[float], weight: float
) -> list[float]:
    """Each item's rank score, negated so that an ascending sort puts the best first: the mean of its best
    and second-best similarities (several phrasings agreeing beat one lucky match; only the best when just
    one of its texts is among the rows) plus `weight` x its keyword score. Two, not three, since the FAQ
    grew to 233 entries: on the dev set hit@1 0.789 against 0.776 (README). Both ranking paths call it, one
    call per question, not per item: a call per item cost 0.02 ms of the answer."""
    return [
        -((first + other) / 2 + weight * keyword) if other is not None else -(first + weight * keyword)
        for first, other, keyword in zip(best, second, keywords, strict=True)
    ]


def _best_first(
    per_segment: Iterable[list[tuple[float, str, str, int]]],
) -> list[tuple[float, str, str, int]]:
    """One question's hits from every segment, best first (equal scores keep their order)."""
    return sorted(itertools.chain.from_iterable(per_segment), key=operator.itemgetter(0), reverse=True)


def keywords_of(item: Item | None) -> str:
    if isinstance(item, Entry):
        return " ".join((item.question, *item.paraphrases, *item.tags, item.answer))
    # The article title and author too: members ask about "that Julieta Cura article" by name.
    return f"{item.source.title} {item.title} {item.text}" if item is not None else ""


def _rows_of(
    segment: Segment, scores: np.ndarray, rows: np.ndarray, skip: frozenset[str]
) -> list[tuple[float, str, str, int]]:
    """(score, item id, kind, part) of one query's rows, leaving out -1 (no hit) and items in `skip`.
    Looked up with numpy for all rows at once: row by row it was a third of the ranking's time."""
    found = rows >= 0
    rows = rows[found]
    items = segment.items
    hits = zip(
        scores[found].tolist(),
        [items[i] for i in segment.row_item[rows].tolist()],
        [KINDS[k] for k in segment.row_kind[rows].tolist()],
        segment.row_part[rows].tolist(),
        strict=True,
    )
    return [hit for hit in hits if hit[1] not in skip] if skip else list(hits)


def _embed(
    documents: list[Document], encoder: Encoder, known: Mapping[bytes, np.ndarray], show_progress: bool
) -> tuple[Vectors, int]:
    keys = [document.key for document in documents]
    missing = list(dict.fromkeys(key for key in keys if key not in known))
    text_of = {document.key: document.text for document in documents}
    fresh = dict(known)
    if missing:
        vectors = encoder.encode_documents([text_of[key] for key in missing], show_progress=show_progress)
        fresh.update(zip(missing, vectors, strict=True))
    stacked = np.zeros((len(documents), encoder.dimension), dtype=np.float32)
    for row, key in enumerate(keys):
        stacked[row] = fresh[key]
    return stacked, len(missing)
