"""Ranked candidates -> one Answer: threshold, abstention, near-ties, related questions, citations.

Every front end (CLI, Discord, tests) calls `Answerer.answer` and only renders the result.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

from careerbot.config import AnsweringConfig
from careerbot.engine.compound import (
    may_have_second_part,
    question_sentences,
    second_part,
    short_answer,
)
from careerbot.engine.language import ENGLISH, language_of
from careerbot.knowledge import TOPICS, Entry, Item, KnowledgeBase, Source
from careerbot.knowledge.codec import source_to_dict
from careerbot.knowledge.models import OUT_OF_SCOPE
from careerbot.retrieval.candidate import Candidate

Confidence = Literal["high", "medium", "low", "none"]
# How far above the threshold an answer must score to be called medium / high confidence.
MEDIUM_MARGIN = 0.05
HIGH_MARGIN = 0.15
# Abstentions still suggest entries this close below the threshold: "did you mean ...?".
SUGGESTION_MARGIN = 0.1
CANDIDATES_KEPT = 10
# An uncertain reply offers this many of the best matches instead of an answer.
UNCERTAIN_CHOICES = 3
NOT_SURE = "Not sure; did you mean one of these?"

TOPIC_BLURBS = {
    "duties": "what ML engineers do day to day",
    "skills": "the maths, CS and programming skills the role takes",
    "stack": "tools and platforms (TensorFlow, PyTorch, scikit-learn, Jupyter, cloud ML)",
    "career": "demand, outlook and progression",
    "getting-started": "how to get into the field",
    "roles": "how ML engineers differ from related roles",
}


ENGLISH_ONLY = (
    "Sorry, I can only answer in English for now: my knowledge and my language model are English only. "
    "Please ask again in English."
)


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, say); the message is meant for the asker."""


class Searcher(Protocol):
    def search_many(self, questions: Sequence[str], limit: int = 10) -> list[list[Candidate]]: ...


@dataclass(frozen=True)
class Suggestion:
    id: str
    title: str
    score: float


@dataclass(frozen=True)
class FurtherAnswer:
    """A second entry answering another part of a compound question, shown shortened after the main one."""

    id: str
    title: str
    score: float
    text: str  # the entry's answer, shortened
    shortened: bool  # the entry says more than `text`
    sources: tuple[Source, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "score": round(self.score, 4),
            "text": self.text,
            "shortened": self.shortened,
            "sources": [source_to_dict(s) for s in self.sources],
        }


@dataclass(frozen=True)
class Answer:
    question: str  # as answered: cleaned and, if it was very long, cut
    abstained: bool
    text: str
    id: str | None = None
    title: str | None = None
    topic: str | None = None
    score: float = 0.0
    confidence: Confidence = "none"
    sources: tuple[Source, ...] = ()
    reviewed_on: date | None = None
    related: tuple[Suggestion, ...] = ()
    did_you_mean: tuple[Suggestion, ...] = ()
    truncated: bool = False
    candidates: tuple[Candidate, ...] = ()
    language: str = ENGLISH  # another code: not answered, the reply says careerbot answers in English
    declined_by: str | None = None  # the out-of-scope entry whose answer is the reply, when one matched
    # The best match was in the band where it is usually wrong: no answer, only "did you mean" choices.
    # Also `abstained`, so nothing counts it as answered; `score` is the best match's.
    uncertain: bool = False
    # Compound questions: entries answering the other parts of the question (answering.further_answers).
    further: tuple[FurtherAnswer, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of `careerbot ask --json`."""
        return {
            "question": self.question,
            "abstained": self.abstained,
            "answer": None
            if self.abstained
            else {
                "id": self.id,
                "title": self.title,
                "topic": self.topic,
                "score": round(self.score, 4),
                "confidence": self.confidence,
                "text": self.text,
                "sources": [source_to_dict(s) for s in self.sources],
                "reviewed_on": self.reviewed_on.isoformat() if self.reviewed_on else None,
            },
            "related": [{"id": s.id, "title": s.title} for s in self.related],
            "did_you_mean": [{"id": s.id, "title": s.title} for s in self.did_you_mean],
            "language": self.language,
            "uncertain": self.uncertain,
            "further_answers": [further.to_json() for further in self.further],
        }


class Answerer:
    def __init__(self, knowledge: KnowledgeBase, searcher: Searcher, config: AnsweringConfig) -> None:
        self.knowledge = knowledge
        self._searcher = searcher
        self._config = config

    @property
    def threshold(self) -> float:
        return self._config.min_score

    def answer(self, question: str, min_score: float | None = None) -> Answer:
        return self.answer_many([question], min_score)[0]

    def answer_many(self, questions: Sequence[str], min_score: float | None = None) -> list[Answer]:
        """Answers several questions with one batched model call. `min_score` overrides the threshold
        (passive answers in Discord use a stricter one). Raises QuestionError for an empty question."""
        cleaned = [self._clean(question) for question in questions]
        languages = [language_of(text) for text, _ in cleaned]
        english = [
            text for (text, _), language in zip(cleaned, languages, strict=True) if language == ENGLISH
        ]
        found_english = self._searcher.search_many(english, limit=CANDIDATES_KEPT) if english else []
        found = iter(found_english)
        per_sentence = iter(self._search_sentences(english, found_english))
        threshold = self._config.min_score if min_score is None else min_score
        return [
            self._decide(text, truncated, next(found), threshold, next(per_sentence))
            if language == ENGLISH
            else Answer(text, True, ENGLISH_ONLY, truncated=truncated, language=language)
            for (text, truncated), language in zip(cleaned, languages, strict=True)
        ]

    def _search_sentences(
        self, posts: list[str], found: list[list[Candidate]]
    ) -> list[list[list[Candidate]]]:
        """With further answers on: the question sentences of each post that could have a second part,
        searched in one model call apart from the posts' (batched with a long post, short sentences are
        padded to its length: on dev posts, 2.9x the time of the post's search alone; apart, 1.6x)."""
        if not self._config.further_answers:
            return [[] for _ in posts]
        sentences = [
            question_sentences(post) if may_have_second_part(candidates, self._config) else []
            for post, candidates in zip(posts, found, strict=True)
        ]
        flat = [sentence for parts in sentences for sentence in parts]
        results = self._searcher.search_many(flat, limit=CANDIDATES_KEPT) if flat else []
        return _split(results, [len(parts) for parts in sentences])

    def _clean(self, question: str) -> tuple[str, bool]:
        text = " ".join(question.split())
        if not text:
            raise QuestionError("Please type a question: the message was empty.")
        limit = self._config.max_question_chars
        if len(text) <= limit:
            return text, False
        cut = text[:limit]
        # Cut at a word boundary so the model never sees half a word.
        return (cut.rsplit(" ", 1)[0] if " " in cut else cut), True

    def _decide(
        self,
        question: str,
        truncated: bool,
        candidates: list[Candidate],
        threshold: float,
        per_sentence: list[list[Candidate]],
    ) -> Answer:
        kept = tuple(candidates)
        if candidates and candidates[0].score >= threshold and self._declines(candidates[0].item_id):
            return self._decline_as_out_of_scope(question, truncated, candidates, threshold)
        candidates = [c for c in candidates if not self._declines(c.item_id)]
        if not candidates or candidates[0].score < threshold:
            near = [c for c in candidates[:3] if c.score >= threshold - SUGGESTION_MARGIN]
            return Answer(
                question=question,
                abstained=True,
                text=self._decline_text(),
                score=candidates[0].score if candidates else 0.0,
                did_you_mean=tuple(self._suggestion(c) for c in near),
                truncated=truncated,
                candidates=kept,
            )
        top = candidates[0]
        if self._uncertain(candidates):
            return Answer(
                question=question,
                abstained=True,
                text=NOT_SURE,
                score=top.score,
                did_you_mean=tuple(self._suggestion(c) for c in candidates[:UNCERTAIN_CHOICES]),
                truncated=truncated,
                candidates=kept,
                uncertain=True,
            )
        item = self._item(top.item_id)
        further = self._further(candidates, per_sentence)
        shown = {f.id for f in further}
        ties = [
            c
            for c in candidates[1:4]
            if c.score >= threshold
            and top.rank_score - c.rank_score <= self._config.tie_margin
            and c.item_id not in shown
        ]
        tie_ids = {c.item_id for c in ties} | shown
        return Answer(
            question=question,
            abstained=False,
            text=item.answer if isinstance(item, Entry) else item.text,
            id=item.id,
            title=item.title,
            topic=item.topic,
            score=top.score,
            confidence=self._confidence(top.score, threshold),
            sources=item.sources,
            reviewed_on=item.reviewed_on if isinstance(item, Entry) else None,
            related=self._related(item, [c for c in candidates[1:] if c.item_id not in tie_ids]),
            did_you_mean=tuple(self._suggestion(c) for c in ties),
            truncated=truncated,
            candidates=kept,
            further=further,
        )

    def _further(
        self, candidates: list[Candidate], per_sentence: list[list[Candidate]]
    ) -> tuple[FurtherAnswer, ...]:
        """The second part of a compound question's reply: another FAQ entry answering another of its
        question sentences (engine.compound), shortened, with its sources."""
        if not per_sentence:  # further answers off, or a post of one question: skip the look-ups below
            return ()
        entries = {c.item_id for c in candidates if isinstance(self.knowledge.get(c.item_id), Entry)}
        chosen = second_part(candidates, per_sentence, entries - self._out_of_scope, self._config)
        if chosen is None:
            return ()
        entry = self._item(chosen.item_id)
        assert isinstance(entry, Entry)  # second_part picks entries only
        text, shortened = short_answer(entry.answer)
        return (FurtherAnswer(entry.id, entry.title, chosen.score, text, shortened, entry.sources),)

    def _decline_as_out_of_scope(
        self, question: str, truncated: bool, candidates: list[Candidate], threshold: float
    ) -> Answer:
        """The best match is an out-of-scope entry: its answer says why careerbot declines and where to
        ask instead. Real entries that match nearly as well are still offered."""
        top = candidates[0]
        entry = self._item(top.item_id)
        near = [
            c
            for c in candidates[1:4]
            if not self._declines(c.item_id)
            and c.score >= threshold
            and top.rank_score - c.rank_score <= self._config.tie_margin
        ]
        return Answer(
            question=question,
            abstained=True,
            text=entry.answer if isinstance(entry, Entry) else entry.text,
            score=top.score,
            did_you_mean=tuple(self._suggestion(c) for c in near),
            truncated=truncated,
            candidates=tuple(candidates),
            declined_by=top.item_id,
        )

    def _uncertain(self, candidates: list[Candidate]) -> bool:
        """The best match is in the band where the dev set showed it is usually wrong: a score in
        [uncertain_from, uncertain_below) with the runner-up within uncertain_margin in the ranking."""
        top = candidates[0]
        margin = top.rank_score - candidates[1].rank_score if len(candidates) > 1 else 1.0
        band = self._config.uncertain_from <= top.score < self._config.uncertain_below
        return band and margin < self._config.uncertain_margin

    def _declines(self, item_id: str) -> bool:
        return item_id in self._out_of_scope

    @functools.cached_property
    def _out_of_scope(self) -> frozenset[str]:
        """The out-of-scope entries' ids, read from the topic index without decoding any entry."""
        return frozenset(self.knowledge.ids_in(OUT_OF_SCOPE))

    def _related(self, item: Item, rest: list[Candidate]) -> tuple[Suggestion, ...]:
        """The next-best FAQ entries; if retrieval finds too few, entries on the same topic."""
        wanted = self._config.related
        # Suggestions for the first `wanted` entries only, not for every candidate then cut, each entry
        # looked up once.
        entries = ((c, found) for c in rest if isinstance(found := self.knowledge.get(c.item_id), Entry))
        related = [
            Suggestion(c.item_id, found.title, c.score) for c, found in itertools.islice(entries, wanted)
        ]
        taken = {item.id, *(s.id for s in related)}
        for entry_id in self.knowledge.ids_in(item.topic):
            if len(related) >= min(wanted, 2):
                break
            if entry_id not in taken:
                related.append(Suggestion(entry_id, self._item(entry_id).title, 0.0))
        return tuple(related)

    def _confidence(self, score: float, threshold: float) -> Confidence:
        """From the score alone, so a higher score never reads as less sure; near-ties show as
        "did you mean" instead of lowering the label."""
        if score >= threshold + HIGH_MARGIN:
            return "high"
        return "medium" if score >= threshold + MEDIUM_MARGIN else "low"

    def _suggestion(self, candidate: Candidate) -> Suggestion:
        return Suggestion(candidate.item_id, self._item(candidate.item_id).title, candidate.score)

    def _item(self, item_id: str) -> Item:
        item = self.knowledge.get(item_id)
        if item is None:  # the index and the knowledge come from the same load; this is a bug
            raise LookupError(f"the index names {item_id!r}, which the knowledge base does not hold")
        return item

    def _decline_text(self) -> str:
        present = [topic for topic in TOPICS if self.knowledge.ids_in(topic)]
        lines = "\n".join(f"- {TOPIC_BLURBS[topic]}" for topic in present)
        return f"I don't know that one. I can answer questions about the machine learning engineer role:\n{lines}"


def _split(found: list[list[Candidate]], sizes: list[int]) -> list[list[list[Candidate]]]:
    """The sentence searches back into one list per question, `sizes[i]` sentences for question i."""
    parts, start = [], 0
    for size in sizes:
        parts.append(found[start : start + size])
        start += size
    return parts
