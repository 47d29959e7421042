"""Keyword scores (BM25) for the short keyword questions embeddings miss.

The keyword score only ever re-ranks items the vector search already found, so it is computed for
those candidates alone, from corpus statistics (document frequencies, lengths) that an edit updates in
time proportional to the edited entry. The formula is bm25s's default (Lucene: k1 1.5, b 0.75) with
its tokenisation and English stop words; a test checks the scores against bm25s itself.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

K1 = 1.5
B = 0.75
# Up to this many items each item's term counts are kept once computed (the shipped knowledge: about 300
# items, a few hundred KB): a question then costs a dictionary look-up per candidate, not a pass over its
# text (3.4 ms of a 12 ms answer). Above it (1M texts: 143k items) few candidates repeat between
# questions, so the counts are not kept and only the question's terms are counted in each text.
KEEP_COUNTS_UP_TO = 20_000
_WORD = re.compile(r"(?u)\b\w\w+\b")
# bm25s's English stop words (bm25s.stopwords.STOPWORDS_EN; a test checks they are the same), written
# out because importing bm25s imports scipy: 0.4 s of every start-up, for 33 words.
_STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
    "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
    "will", "with",
))  # fmt: skip


@lru_cache(maxsize=65536)  # candidates repeat across questions; texts are immutable, so caching is safe
def _term_counts(text: str) -> Counter[str]:
    return Counter(tokenize(text))


def tokenize(text: str) -> list[str]:
    return [word for word in _WORD.findall(text.lower()) if word not in _STOPWORDS]


def question_terms(question: str) -> list[str]:
    """The question's distinct terms in the order they first occur: the order its BM25 shares are added
    in, the same in every process."""
    return list(dict.fromkeys(tokenize(question)))


@dataclass(frozen=True)
class LexicalStats:
    """How many items hold each term, and each item's length in terms."""

    document_frequency: Mapping[str, int]
    lengths: Mapping[str, int]  # item id -> number of terms
    total_length: int

    @classmethod
    def build(cls, texts: Mapping[str, str]) -> LexicalStats:
        frequency: Counter[str] = Counter()
        lengths = {}
        for item_id, text in texts.items():
            counts = _term_counts(text)
            frequency.update(counts.keys())
            lengths[item_id] = sum(counts.values())
        return cls(frequency, lengths, sum(lengths.values()))

    def changed(self, removed: Mapping[str, str], added: Mapping[str, str]) -> LexicalStats:
        """These statistics with the `removed` items' texts taken out and the `added` ones put in."""
        frequency = Counter(self.document_frequency)
        lengths = dict(self.lengths)
        for item_id, text in removed.items():
            frequency.subtract(_term_counts(text).keys())
            lengths.pop(item_id, None)
        for item_id, text in added.items():
            counts = _term_counts(text)
            frequency.update(counts.keys())
            lengths[item_id] = sum(counts.values())
        return LexicalStats(+frequency, lengths, sum(lengths.values()))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """For np.savez: arrays load far faster than JSON at 100k items."""
        return {
            "terms": np.array(list(self.document_frequency), dtype=np.str_),
            "frequencies": np.fromiter(self.document_frequency.values(), np.int64),
            "items": np.array(list(self.lengths), dtype=np.str_),
            "lengths": np.fromiter(self.lengths.values(), np.int64),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> LexicalStats:
        lengths = dict(zip(arrays["items"].tolist(), arrays["lengths"].tolist(), strict=True))
        frequency = dict(zip(arrays["terms"].tolist(), arrays["frequencies"].tolist(), strict=True))
        return cls(frequency, lengths, sum(lengths.values()))


class LexicalScorer:
    """BM25 of a question's candidate items. An item is known by its position in `items` (the base
    segment's item list, so that a search's rows give positions without an id look-up) or, for an item
    not in it, by its id; ids met that way get the next free positions."""

    def __init__(self, stats: LexicalStats, text_of: Callable[[str], str], items: Sequence[str] = ()) -> None:
        self._stats = stats
        self._text_of = text_of
        count = len(stats.lengths)
        self._average_length = stats.total_length / count if count else 1.0
        self._count = count
        self._ids = list(items)
        self._position: dict[str, int] | None = None  # id -> position, made when an id is first given
        # Up to KEEP_COUNTS_UP_TO items, each item's term counts are kept once it has been a candidate, as
        # posting lists over positions (term -> the positions holding it, and how often), and, once a
        # question asks for the term, as arrays of positions and of the term's share of each one's BM25
        # (shares depend on the item and the corpus statistics alone): a question then costs one array
        # addition per term (0.28 ms of dictionary look-ups per question before, most of them cache misses
        # right after the model call). A scorer belongs to one retriever, whose knowledge never changes:
        # an edit makes a new one, which learns the items again as they come up.
        self._keep = count <= KEEP_COUNTS_UP_TO
        self._seen: set[int] = set()  # positions learnt (a set: one C call tells whether all candidates are)
        self._norms = np.zeros(len(self._ids))
        self._postings: dict[str, tuple[list[int], list[int]]] = {}
        self._shares: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # made from the postings when asked for
        # Members' answers (the batcher's thread) and a moderator's (/kb gaps, an edit's check) may search
        # the same retriever at once: one learning an item while another reads the half-filled postings
        # would score that item without some of its words.
        self._lock = threading.Lock()

    def scores(self, question: str, item_ids: Iterable[str]) -> dict[str, float]:
        """BM25 of each given item, scaled so the best of them is 1; items matching no word are left out."""
        ids = list(item_ids)
        if not self._keep:
            return self._scaled(self._read_scores(self._question_idf(question), ids))
        with self._lock:
            positions = [self._position_of(item_id) for item_id in ids]
        scores = self.scores_at(question, positions)
        return {item_id: score for item_id, score in zip(ids, scores, strict=True) if score > 0}

    def scores_at(self, question: str, positions: Sequence[int]) -> list[float]:
        """`scores` of the items at these positions, in their order (0.0 where no word matched)."""
        if not self._keep:
            ids = [self._ids[position] for position in positions]
            scaled = self._scaled(self._read_scores(self._question_idf(question), ids))
            return [scaled.get(item_id, 0.0) for item_id in ids]
        raw = self._kept_scores(question, positions)
        best = max(raw, default=0.0)
        return [score / best for score in raw] if best > 0 else [0.0] * len(positions)

    def _question_idf(self, question: str) -> dict[str, float]:
        """The question's terms that some item holds, with their idf, in the order they first occur (a
        set's order would change with each process's string hashing, and with it the sums' last bits)."""
        terms = question_terms(question)
        if not terms or not self._count:
            return {}
        return {
            term: self._idf(df) for term in terms if (df := self._stats.document_frequency.get(term, 0)) > 0
        }

    @staticmethod
    def _scaled(raw: Mapping[str, float]) -> dict[str, float]:
        best = max(raw.values(), default=0.0)
        return {item_id: score / best for item_id, score in raw.items() if score > 0} if best > 0 else {}

    def _idf(self, document_frequency: int) -> float:
        return math.log(1 + (self._count - document_frequency + 0.5) / (document_frequency + 0.5))

    def _norm(self, item_id: str) -> float:
        length = self._stats.lengths.get(item_id, 0)
        return K1 * ((1 - B) + B * length / self._average_length)

    def _position_of(self, item_id: str) -> int:
        if self._position is None:
            self._position = {item_id: position for position, item_id in enumerate(self._ids)}
        position = self._position.get(item_id)
        if position is None:
            position = self._position[item_id] = len(self._ids)
            self._ids.append(item_id)
            self._norms = np.append(self._norms, 0.0)
        return position

    def _kept_scores(self, question: str, positions: Sequence[int]) -> list[float]:
        """The raw BM25 of the items at `positions`, from the posting lists. Each item's shares are added
        term by term in the order `_read_scores` adds them (`_question_idf`'s), starting from 0.0, and each
        share is computed with the same float64 operations: the scores are equal to the last bit (a
        last-bit difference could reorder near-tied candidates)."""
        with self._lock:
            # Once every item is learnt (the shipped knowledge, soon after start), no candidate is new.
            if len(self._seen) < len(self._ids) and not self._seen.issuperset(positions):
                self._learn([position for position in positions if position not in self._seen])
            terms = question_terms(question) if self._count else []
            found = [shares for term in terms if (shares := self._shares_of(term)) is not None]
            count = len(self._ids)
        if not found:
            return [0.0] * len(positions)
        # One bincount over every term's shares, not an addition per term (a few numpy calls fewer, about
        # 0.005-0.01 ms): it adds each item's shares in the order given, term by term from 0.0, so the sums
        # are the same to the bit.
        # The share arrays are never changed once made, so they are read outside the lock.
        where = np.concatenate([places for places, _ in found])
        total = np.bincount(where, np.concatenate([shares for _, shares in found]), count)
        raw: list[float] = total[np.array(positions, dtype=np.intp)].tolist()
        return raw

    def _learn(self, positions: list[int]) -> None:
        """Adds these items' term counts to the posting lists."""
        for position in positions:
            if position in self._seen:  # the same item twice among the candidates
                continue
            item_id = self._ids[position]
            self._seen.add(position)
            self._norms[position] = self._norm(item_id)
            for term, found in _term_counts(self._text_of(item_id)).items():
                where, counts = self._postings.setdefault(term, ([], []))
                where.append(position)
                counts.append(found)
                self._shares.pop(term, None)

    def _shares_of(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The positions of the learnt items holding `term`, and its share of each one's BM25: idf * count
        / (norm + count), as `_read_scores` computes it. None for a term no item holds."""
        shares = self._shares.get(term)
        if shares is None:
            posting = self._postings.get(term)
            frequency = self._stats.document_frequency.get(term, 0)
            if posting is None or frequency <= 0:
                return None
            where, found = np.array(posting[0], dtype=np.intp), np.array(posting[1], dtype=float)
            shares = self._shares[term] = (where, self._idf(frequency) * found / (self._norms[where] + found))
        return shares

    def _read_scores(self, idf: Mapping[str, float], item_ids: Iterable[str]) -> dict[str, float]:
        # Only the question's terms are counted, in one regular-expression pass per text: at 1M texts
        # a question has about 250 candidate items, and tokenising each whole text took most of the
        # answer's time. `\bterm\b` matches exactly the tokens `tokenize` would give equal to term.
        if not idf:
            return {}
        pattern = re.compile(r"(?u)\b(?:" + "|".join(map(re.escape, idf)) + r")\b")
        raw = {}
        for item_id in item_ids:
            counts = Counter(pattern.findall(self._text_of(item_id).lower()))
            norm = self._norm(item_id)
            score = 0.0
            # A plain loop with .get: a Counter's [] on a missing term is slow.
            for term, weight in idf.items():
                if found := counts.get(term):
                    score += weight * found / (norm + found)
            raw[item_id] = score
        return raw
