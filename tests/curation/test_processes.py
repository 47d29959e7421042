"""Three careerbot processes on one PostgreSQL, each with its own knowledge folder (tests.curation.node
run as `python -m tests.curation.node`): an edit through one is answered by the others, a conflict across
processes is refused, a process killed with SIGKILL and started again catches up, and the database
restarted under them is reconnected to by itself. Waits are bounded polls, not timing assertions."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.curation.node import NodeProcess as Process
from tests.curation.node import copy_knowledge
from tests.postgres import Cluster


@pytest.fixture
def processes(postgres: Cluster, knowledge_dir: Path, tmp_path: Path) -> Iterator[list[Process]]:
    url = postgres.new_database()
    started = [Process(url, copy_knowledge(knowledge_dir, tmp_path / name)) for name in ("p0", "p1", "p2")]
    yield started
    for process in started:
        process.stop()


def test_three_processes_edit_conflict_kill_and_database_restart(
    processes: list[Process], postgres: Cluster
) -> None:
    p0, p1, p2 = processes
    # an edit through one process is answered by the others
    assert p0.say("edit pytorch Edited through p0.")["ok"]
    p1.until_answered("pytorch uses", "Edited through p0.")
    p2.until_answered("pytorch uses", "Edited through p0.")
    assert "Edited through p0." in (p2.folder / "knowledge/faq/stack/pytorch.yaml").read_text()

    # a conflict across processes: p1 and p2 edit scikit-learn from the same version; one is refused (by
    # the database, or by p2's file if p2 applied p1's change first: with the difference either way)
    assert p1.say("open scikit-learn")["opened"] and p2.say("open scikit-learn")["opened"]
    first, second = p1.say("edit scikit-learn From p1."), p2.say("edit scikit-learn From p2.")
    assert first["ok"] and not second["ok"] and "+answer: From p1." in second["conflict"]
    p0.until_answered("sklearn uses", "From p1.")
    p2.until_answered("sklearn uses", "From p1.")

    # p2 killed (SIGKILL); an edit meanwhile; p2 started again catches up
    p2.popen.send_signal(signal.SIGKILL)
    p2.stop()
    assert p0.say("edit math-needed Edited while p2 was dead.")["ok"]
    processes[2] = p2 = Process(p2.url, p2.folder)
    assert p2.answer("maths for ml") == "Edited while p2 was dead."  # at start-up, before answering
    assert p2.answer("sklearn uses") == "From p1."

    # the database restarted: members are answered throughout, edits refused meanwhile, then work again
    postgres.stop()
    try:
        assert p1.answer("pytorch uses") == "Edited through p0."
        assert p1.say("record pytorch uses")["asked"] < 0  # kept, written once the database is back
        refused = p1.say("edit typical-day Edited while the database was down.")
        assert not refused["ok"] and "database" in refused["refused"]
    finally:
        postgres.start()
    deadline = time.monotonic() + 60
    while not (edited := p1.say("edit typical-day Edited once the database was back."))["ok"]:
        assert "database" in edited["refused"] and time.monotonic() < deadline
        time.sleep(0.2)
    p0.until_answered("day in the life", "Edited once the database was back.")
    p2.until_answered("day in the life", "Edited once the database was back.")
    assert p0.say("record capital of peru")["asked"] > 0
