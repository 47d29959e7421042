"""Compound questions: a post that asks two things gets its main answer and a short second part.

The rule, measured on the dev set (see bot.toml, [answering] further_*): another FAQ entry among the
whole post's best `further_within` scores at least `further_min_score` on the post, and is the best
match of one of the post's question sentences, ahead of the main entry there by
`further_sentence_margin` in the ranking. That sentence is the part the main entry does not answer;
near-duplicates of the main entry rank about as high as it on every sentence, so they never qualify.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from careerbot.config import AnsweringConfig
from careerbot.retrieval.candidate import Candidate

# The second part is a glimpse, not the whole entry: its first lines up to about this many characters.
SHORT_ANSWER_CHARS = 300
SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
ELLIPSIS = "…"


def question_sentences(text: str) -> list[str]:
    """The sentences of a post that ask something (end with "?"), when it has more than one sentence;
    [] otherwise, since a one-sentence post is its own only question."""
    sentences = [s for s in SENTENCE_END.split(text.strip()) if s]
    if len(sentences) < 2:
        return []
    return [s for s in sentences if s.endswith("?")]


def may_have_second_part(candidates: Sequence[Candidate], config: AnsweringConfig) -> bool:
    """Whether the post's own ranking leaves room for a second part, before its sentences are searched
    (on dev, 64 of 236 English posts have such a runner-up; the others cost no extra search)."""
    return any(c.score >= config.further_min_score for c in candidates[1 : config.further_within])


def second_part(
    candidates: Sequence[Candidate],
    per_sentence: Sequence[Sequence[Candidate]],
    is_entry: set[str] | frozenset[str],
    config: AnsweringConfig,
) -> Candidate | None:
    """The candidate that answers another part of the post than candidates[0] does, if one does."""
    if not per_sentence:
        return None
    main = candidates[0]
    for candidate in candidates[1 : config.further_within]:
        if candidate.item_id not in is_entry or candidate.score < config.further_min_score:
            continue
        if any(_tops_sentence(candidate, main, found, config) for found in per_sentence):
            return candidate
    return None


def _tops_sentence(
    candidate: Candidate, main: Candidate, found: Sequence[Candidate], config: AnsweringConfig
) -> bool:
    if not found or found[0].item_id != candidate.item_id:
        return False
    # The main entry's ranking on this sentence; below the kept candidates it is far behind.
    main_rank = next((c.rank_score for c in found if c.item_id == main.item_id), float("-inf"))
    return found[0].rank_score - main_rank >= config.further_sentence_margin


def short_answer(text: str, limit: int = SHORT_ANSWER_CHARS) -> tuple[str, bool]:
    """The answer's first lines within `limit` characters (the first line cut at a sentence or word
    boundary if it alone is longer), and whether anything was left out."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    kept: list[str] = []
    for line in lines:
        if sum(len(k) + 1 for k in kept) + len(line) > limit:
            break
        kept.append(line)
    if kept:
        return "\n".join(kept), len(kept) < len(lines)
    first = lines[0] if lines else ""
    head = first[:limit]
    sentence_end = max(head.rfind(". "), head.rfind("? "), head.rfind("! "))
    if sentence_end >= limit // 3:
        return head[: sentence_end + 1], True
    return head.rsplit(" ", 1)[0].rstrip(",;:") + ELLIPSIS, True
