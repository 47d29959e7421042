from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from careerbot.config import Config
from careerbot.engine.answering import Answer, Answerer, QuestionError
from careerbot.engine.batching import AnswerBatcher
from careerbot.engine.loading import load_engine
from tests.fakes import FakeEncoder

pytestmark = pytest.mark.asyncio


class CountingAnswerer:
    """The real answerer, recording the size of every batch it is asked."""

    def __init__(self, answerer: Answerer) -> None:
        self.inner = answerer
        self.batches: list[int] = []

    def answer_many(self, questions: Sequence[str], min_score: float | None = None) -> list[Answer]:
        self.batches.append(len(questions))
        return self.inner.answer_many(questions, min_score)

    def answer(self, question: str, min_score: float | None = None) -> Answer:
        return self.inner.answer(question, min_score)


@pytest.fixture
def counting(config: Config) -> CountingAnswerer:
    engine, _ = load_engine(config, encoder=FakeEncoder())
    return CountingAnswerer(engine.answerer)


async def test_concurrent_questions_share_model_calls_and_each_gets_its_answer(
    counting: CountingAnswerer,
) -> None:
    batcher = AnswerBatcher(lambda: counting)
    questions = ["sklearn uses", "pytorch uses", "mle vs ds", "maths for ml"] * 10
    answers = await asyncio.gather(*(batcher.answer(q) for q in questions))
    assert [a.id for a in answers] == ["scikit-learn", "pytorch", "vs-data-scientist", "math-needed"] * 10
    assert sum(counting.batches) == 40 and len(counting.batches) < 40
    assert max(counting.batches) <= 32


async def test_one_bad_question_fails_only_its_asker(counting: CountingAnswerer) -> None:
    batcher = AnswerBatcher(lambda: counting)
    results: list[Any] = await asyncio.gather(
        batcher.answer("sklearn uses"),
        batcher.answer("   "),
        batcher.answer("pytorch uses"),
        return_exceptions=True,
    )
    assert results[0].id == "scikit-learn" and results[2].id == "pytorch"
    assert isinstance(results[1], QuestionError)


async def test_thresholds_are_kept_per_question(counting: CountingAnswerer) -> None:
    batcher = AnswerBatcher(lambda: counting)
    lenient, strict = await asyncio.gather(
        batcher.answer("torch for deep learning please"),
        batcher.answer("torch for deep learning please", 0.99),
    )
    assert not lenient.abstained and strict.abstained
