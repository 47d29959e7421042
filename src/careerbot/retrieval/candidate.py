"""A ranked search result. Kept apart from the retriever so that answering needs no faiss import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


def no_text(item_id: str, kind: str, part: int) -> str:
    """The matched text of a candidate made without the knowledge at hand (in tests): none."""
    return ""


@dataclass(frozen=True)
class Candidate:
    item_id: str
    score: float  # cosine similarity of the best-matching text: what thresholds compare against
    rank_score: float  # what orders candidates: mean of the item's best text scores plus the keyword boost
    matched_kind: str  # question | paraphrase | answer | passage
    lexical: float  # keyword score, scaled so the best item for this question is 1
    matched_part: int = 0  # which paraphrase matched
    # Gives the matched text from (item id, kind, part) when it is read. Only `ask --explain` shows it,
    # and looking it up for every candidate of every answer cost about 0.015 ms: a cache miss or two per
    # item right after the model call. The retriever's knowledge never changes, so reading it later
    # gives the text the search matched.
    texts: Callable[[str, str, int], str] = field(default=no_text, repr=False, compare=False)

    @property
    def matched_text(self) -> str:
        return self.texts(self.item_id, self.matched_kind, self.matched_part)
