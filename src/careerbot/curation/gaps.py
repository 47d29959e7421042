"""The gap queue: what members asked that careerbot could not answer well, grouped so that one new
entry (or one new paraphrase) closes a whole group. No discord here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from careerbot.knowledge.faq_file import MAX_PARAPHRASE_CHARS, UNPRINTABLE
from careerbot.retrieval.encoder import Encoder

# Questions this alike (cosine) are one need asked in different words.
SAME_NEED = 0.75


@dataclass(frozen=True)
class Gap:
    wordings: tuple[str, ...]  # distinct wordings, the most recent first
    count: int  # how many times the group was asked

    @property
    def example(self) -> str:
        return self.wordings[0]


def group_gaps(questions: Sequence[str], encoder: Encoder, limit: int = 5) -> list[Gap]:
    """Greedy grouping, newest first: each question joins the first group whose first question it
    resembles. Largest groups first. Stored questions are members' text, kept as typed: each is made
    usable as a paraphrase first (see `usable_wording`); one that leaves nothing is skipped."""
    asked = Counter(wording for q in questions if (wording := usable_wording(q)))
    distinct = list(asked)  # Counter keeps first-seen order: newest first
    if not distinct:
        return []
    vectors = encoder.encode_queries(distinct)
    groups: list[list[int]] = []
    for i in range(len(distinct)):
        for group in groups:
            if float(np.dot(vectors[i], vectors[group[0]])) >= SAME_NEED:
                group.append(i)
                break
        else:
            groups.append([i])
    gaps = [
        Gap(tuple(distinct[i] for i in group), sum(asked[distinct[i]] for i in group)) for group in groups
    ]
    return sorted(gaps, key=lambda gap: gap.count, reverse=True)[:limit]


def usable_wording(question: object) -> str:
    """A stored question as a wording a moderator can read and make a paraphrase of: characters an
    entry may not hold (control characters, lone surrogates from bytes that were not UTF-8) become
    spaces, runs of spaces one, and it is cut (at a word) to a paraphrase's length. Empty if nothing
    is left."""
    if not isinstance(question, str):
        return ""
    text = " ".join(UNPRINTABLE.sub(" ", question).split())
    if len(text) <= MAX_PARAPHRASE_CHARS:
        return text
    cut = text[:MAX_PARAPHRASE_CHARS]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut
