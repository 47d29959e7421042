"""Answering questions that arrive together with one model call, off the event loop.

While one batch is being answered in a worker thread, new questions queue up; the next batch takes all
of them (up to `max_batch`). One member alone waits for nothing extra; a busy server gets batched
model calls, which cost far less per question than one call each. No timers, no discord.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from careerbot.engine.answering import Answer

MAX_BATCH = 32


class Answering(Protocol):
    """What the batcher needs of the engine (careerbot.engine.answering.Answerer)."""

    def answer(self, question: str, min_score: float | None = None) -> Answer: ...

    def answer_many(self, questions: Sequence[str], min_score: float | None = None) -> list[Answer]: ...


@dataclass
class _Waiting:
    question: str
    min_score: float | None
    future: asyncio.Future[Answer]


class AnswerBatcher:
    def __init__(self, answerer: Callable[[], Answering], max_batch: int = MAX_BATCH) -> None:
        self._answerer = answerer  # read per batch: a reload may swap the engine
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._draining = False
        self._drainer: asyncio.Task[None] | None = None  # held, so the running drain is never collected

    async def answer(self, question: str, min_score: float | None = None) -> Answer:
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(question, min_score, future))
        if not self._draining:
            self._draining = True
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
                results = await asyncio.to_thread(self._answer_batch, batch)
                for item, result in zip(batch, results, strict=True):
                    if item.future.done():  # the asker gave up (cancelled) meanwhile
                        continue
                    if isinstance(result, BaseException):
                        item.future.set_exception(result)
                    else:
                        item.future.set_result(result)
        finally:
            self._draining = False

    def _answer_batch(self, batch: list[_Waiting]) -> list[Answer | BaseException]:
        """In the worker thread. Questions with the same threshold share one model call; any failure
        falls back to answering one by one, so one bad question fails only its own asker."""
        answerer = self._answerer()
        results: dict[int, Answer | BaseException] = {}
        for min_score in {item.min_score for item in batch}:
            group = [i for i, item in enumerate(batch) if item.min_score == min_score]
            try:
                answers = answerer.answer_many([batch[i].question for i in group], min_score)
                results.update(zip(group, answers, strict=True))
            except Exception:
                results.update((i, _attempt(answerer, batch[i])) for i in group)
        return [results[i] for i in range(len(batch))]


def _attempt(answerer: Answering, item: _Waiting) -> Answer | BaseException:
    try:
        return answerer.answer(item.question, item.min_score)
    except Exception as exc:
        return exc
