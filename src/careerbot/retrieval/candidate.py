"""A ranked search result. Kept apart from the retriever so that answering needs no faiss import."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    item_id: str
    score: float  # cosine similarity of the best-matching text: what thresholds compare against
    rank_score: float  # what orders candidates: mean of the item's best text scores plus the keyword boost
    matched_kind: str  # question | paraphrase | answer | passage
    matched_text: str
    lexical: float  # keyword score, scaled so the best item for this question is 1
