"""Three careerbot processes on one PostgreSQL, each with its own knowledge folder (tests.curation.node
run as `python -m tests.curation.node`): an edit through one is answered by the others, a conflict across
processes is refused, a process killed with SIGKILL and started again catches up, and the database
restarted under them is reconnected to by itself. Waits are bounded polls, not timing assertions."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.curation.node import copy_knowledge
from tests.postgres import Cluster

PROJECT = Path(__file__).resolve().parents[2]
REPLY_SECONDS = 120.0  # start-up loads the engine; generous, since the machine may be busy


class Process:
    """One node process, spoken to one line at a time."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder = url, folder
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "tests.curation.node", url, str(folder)],
            cwd=PROJECT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
        )
        assert self.reply() == {"ready": True}

    def reply(self) -> dict[str, Any]:
        assert self.popen.stdout is not None
        ready, _, _ = select.select([self.popen.stdout], [], [], REPLY_SECONDS)
        assert ready, f"no reply from the process in {self.folder}"
        line = self.popen.stdout.readline()
        assert line, f"the process in {self.folder} ended"
        return dict(json.loads(line))

    def say(self, command: str) -> dict[str, Any]:
        assert self.popen.stdin is not None
        self.popen.stdin.write(command + "\n")
        self.popen.stdin.flush()
        return self.reply()

    def answer(self, question: str) -> str | None:
        return self.say(f"ask {question}")["answer"]

    def until_answered(self, question: str, expected: str, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while (answer := self.answer(question)) != expected:
            assert time.monotonic() < deadline, f"{self.folder.name} still answers {answer!r}"
            time.sleep(0.05)

    def stop(self) -> None:
        """Ends it as an operator would (stdin closed, the node closes its store), or kills it."""
        assert self.popen.stdin is not None and self.popen.stdout is not None
        if not self.popen.stdin.closed:
            try:
                self.popen.stdin.close()
            except BrokenPipeError:  # it was killed
                pass
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.popen.stdout.close()


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

    # a conflict across processes: p1 and p2 edit scikit-learn from the same version; one is refused
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
        assert p1.say("record pytorch uses") == {"asked": 0}  # not recorded, said in the log
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
