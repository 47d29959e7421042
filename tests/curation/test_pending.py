"""The queue of members' questions and votes kept while the shared database is away: bounded, oldest
dropped first with one log line per outage, provisional ids mapped once written."""

from __future__ import annotations

import logging

import pytest

from careerbot.curation.pending import Pending, Question, Vote


def test_a_full_queue_drops_the_oldest_and_says_so_once_per_outage(caplog: pytest.LogCaptureFixture) -> None:
    pending = Pending(limit=2)
    with caplog.at_level(logging.WARNING):
        ids = [pending.question(float(n), f"q{n}", None, 0.1, True, "slash") for n in range(3)]
        pending.vote(3.0, ids[2], "pytorch", True)
    assert [type(item) for item in pending.items] == [Question, Vote]
    assert pending.queued(ids[0]) is None and pending.queued(ids[1]) is None
    queued = pending.queued(ids[2])
    assert queued is not None and queued.question == "q2"
    assert [r.message for r in caplog.records].count(
        "the database has been away for 2 questions and votes: dropping the oldest"
    ) == 1
    pending.written(2, {ids[2]: 41})
    assert len(pending) == 0 and pending.real_id(ids[2]) == 41 and pending.real_id(7) == 7
    assert pending.real_id(ids[0]) is None  # dropped: its buttons find nothing
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # the next outage says it again
        for n in range(3):
            pending.question(float(n), "again", None, 0.1, True, "slash")
    assert len(caplog.records) == 1
