"""Keyword scores (BM25) for the short keyword questions embeddings miss.

The keyword score only ever re-ranks items the vector search already found, so it is computed for
those candidates alone, from corpus statistics (document frequencies, lengths) that an edit updates in
time proportional to the edited entry. The formula is bm25s's default (Lucene: k1 1.5, b 0.75) with
its tokenisation and English stop words; a test checks the scores against bm25s itself.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
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
    def __init__(self, stats: LexicalStats, text_of: Callable[[str], str]) -> None:
        self._stats = stats
        self._text_of = text_of
        count = len(stats.lengths)
        self._average_length = stats.total_length / count if count else 1.0
        self._count = count
        # Up to KEEP_COUNTS_UP_TO items, the items seen so far as candidates, by term: term -> item id ->
        # the term's share of the item's BM25 (a posting list; it depends on the item and the corpus
        # statistics alone). A question's term then touches only the candidates holding it, with one
        # addition each. A scorer belongs to one retriever, whose knowledge never changes: an edit makes
        # a new one.
        self._postings: dict[str, dict[str, float]] | None = {} if count <= KEEP_COUNTS_UP_TO else None
        self._seen: set[str] = set()

    def scores(self, question: str, item_ids: Iterable[str]) -> dict[str, float]:
        """BM25 of each given item, scaled so the best of them is 1; items matching no word are left out."""
        terms = set(tokenize(question))
        if not terms or not self._count:
            return {}
        idf = {
            term: self._idf(df) for term in terms if (df := self._stats.document_frequency.get(term, 0)) > 0
        }
        if not idf:
            return {}
        raw = (
            self._kept_scores(idf, item_ids)
            if self._postings is not None
            else self._read_scores(idf, item_ids)
        )
        best = max(raw.values(), default=0.0)
        return {item_id: score / best for item_id, score in raw.items() if score > 0} if best > 0 else {}

    def _idf(self, document_frequency: int) -> float:
        return math.log(1 + (self._count - document_frequency + 0.5) / (document_frequency + 0.5))

    def _norm(self, item_id: str) -> float:
        length = self._stats.lengths.get(item_id, 0)
        return K1 * ((1 - B) + B * length / self._average_length)

    def _read_scores(self, idf: Mapping[str, float], item_ids: Iterable[str]) -> dict[str, float]:
        # Only the question's terms are counted, in one regular-expression pass per text: at 1M texts
        # a question has about 250 candidate items, and tokenising each whole text took most of the
        # answer's time. `\bterm\b` matches exactly the tokens `tokenize` would give equal to term.
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

    def _kept_scores(self, idf: Mapping[str, float], item_ids: Iterable[str]) -> dict[str, float]:
        """The same sums from the posting lists: each share is computed as `_read_scores` computes it and
        added term by term in the same order, so the scores are equal to the last bit."""
        assert self._postings is not None
        postings, frequency = self._postings, self._stats.document_frequency
        candidates = item_ids.keys() if isinstance(item_ids, Mapping) else set(item_ids)
        for item_id in candidates - self._seen:
            self._seen.add(item_id)
            norm = self._norm(item_id)
            for term, found in _term_counts(self._text_of(item_id)).items():
                weight = self._idf(frequency.get(term, 0))
                postings.setdefault(term, {})[item_id] = weight * found / (norm + found)
        raw: dict[str, float] = {}
        get = raw.get
        for term in idf:
            posting = postings.get(term)
            if not posting:
                continue
            # Walk the shorter side: a rare term's few items, or the candidates for a common one.
            if len(posting) < len(candidates):
                for item_id, share in posting.items():
                    if item_id in candidates:
                        raw[item_id] = get(item_id, 0.0) + share
            else:
                for item_id in candidates:
                    if item_id in posting:
                        raw[item_id] = get(item_id, 0.0) + posting[item_id]
        return raw
