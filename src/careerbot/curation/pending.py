"""Members' questions and votes kept in the process while the shared database is away, to be written, in
order and with their own times, once it answers again (careerbot.curation.postgres).

A queued question has no id from the database yet, but its answer's buttons need one: it gets a
provisional id (negative, so never a real one), mapped to the real id when it is written. A vote on a
question still queued is queued against the provisional id, which is resolved when both are written (the
question first: the queue keeps the order)."""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass

from careerbot.curation.store import Asked

log = logging.getLogger(__name__)

LIMIT = 10_000  # items kept per process; beyond it the oldest go (one log line per outage)


@dataclass(frozen=True)
class Question:
    provisional_id: int
    asked_at: float
    question: str
    answer_id: str | None
    score: float
    abstained: bool
    channel_kind: str


@dataclass(frozen=True)
class Vote:
    given_at: float
    asked_id: int  # real, or a queued question's provisional id
    answer_id: str
    helpful: bool


class Pending:
    def __init__(self, limit: int = LIMIT) -> None:
        self.items: deque[Question | Vote] = deque()
        self.limit = limit
        self._last_provisional = 0
        self._written: OrderedDict[int, int] = OrderedDict()  # provisional id -> real id, newest last
        self._dropping_logged = False

    def __len__(self) -> int:
        return len(self.items)

    def question(
        self, asked_at: float, question: str, answer_id: str | None, score: float, abstained: bool, kind: str
    ) -> int:
        """Queues it; its provisional id."""
        self._last_provisional -= 1
        self._add(Question(self._last_provisional, asked_at, question, answer_id, score, abstained, kind))
        return self._last_provisional

    def vote(self, given_at: float, asked_id: int, answer_id: str, helpful: bool) -> None:
        self._add(Vote(given_at, asked_id, answer_id, helpful))

    def _add(self, item: Question | Vote) -> None:
        if len(self.items) >= self.limit:
            self.items.popleft()
            if not self._dropping_logged:
                log.warning(
                    "the database has been away for %d questions and votes: dropping the oldest", self.limit
                )
                self._dropping_logged = True
        self.items.append(item)

    def real_id(self, asked_id: int) -> int | None:
        """The database's id for `asked_id` (itself when it is real); None while queued or if dropped."""
        return asked_id if asked_id > 0 else self._written.get(asked_id)

    def queued(self, provisional_id: int) -> Asked | None:
        for item in self.items:
            if isinstance(item, Question) and item.provisional_id == provisional_id:
                return Asked(provisional_id, item.question, item.answer_id, item.score, item.abstained)
        return None

    def written(self, count: int, real_ids: dict[int, int]) -> None:
        """The first `count` items are in the database; `real_ids` maps their provisional ids."""
        for _ in range(count):
            self.items.popleft()
        self._written.update(real_ids)
        while len(self._written) > self.limit:  # buttons older than that many queued questions: forgotten
            self._written.popitem(last=False)
        self._dropping_logged = False
