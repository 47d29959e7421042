"""One careerbot process's curation side on a shared PostgreSQL: its own copy of the knowledge, a live
engine on the fake encoder, its store, curator and follower. The tests build several in one test
(`Node.start`), or run each as a separate process (`python -m tests.curation.node URL FOLDER`), which
reads one command per line on stdin and answers one JSON line on stdout:

    ask QUESTION            -> {"id": answered entry id or null, "answer": its text}
    open ENTRY_ID           -> {"opened": true}: the entry's text now is what its next edit starts from
                               (a moderator's form); else an edit starts from the file as it is then
    edit ENTRY_ID ANSWER    -> {"ok": true, "revision": n} | {"ok": false, "conflict": diff} | {"ok": false, "refused": why}
    record QUESTION         -> {"asked": id (0: not recorded)}
    wait ENTRY_ID ANSWER    -> {"at": time.monotonic() when the live engine first serves ANSWER for it}
    rss                     -> {"rss_mb": resident memory}

With --real-model (benchmarks/bench_propagation.py) the engine runs on the packaged model instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from careerbot.config import config_from_mapping
from careerbot.curation.curator import Curator, Moderator
from careerbot.curation.postgres import PostgresStore
from careerbot.curation.propagation import RevisionFollower, open_store, recover
from careerbot.engine.live import LiveEngine
from careerbot.engine.loading import load_engine
from careerbot.knowledge.changes import ChangeConflict, ChangeRejected
from careerbot.knowledge.codec import entry_fields
from careerbot.knowledge.writer import KnowledgeWriter
from careerbot.retrieval.encoder import Encoder
from tests.fakes import FakeEncoder


@dataclass
class Node:
    folder: Path
    live: LiveEngine
    store: PostgresStore
    curator: Curator
    follower: RevisionFollower

    @classmethod
    def start(cls, url: str, folder: Path, follow: bool = False, encoder: Encoder | None = None) -> Node:
        """Start-up as `careerbot run` does it: recover and catch up, load, then open the store (with
        `follow`, applying other processes' changes in a thread as they come)."""
        knowledge = folder / "knowledge"
        recover(knowledge, url)
        config = config_from_mapping(
            {"knowledge": {"dir": str(knowledge)}, "index": {"dir": str(folder / "index")}}, base_dir=folder
        )
        encoder = encoder or FakeEncoder()
        engine, _ = load_engine(config, encoder=encoder)
        live = LiveEngine(config, encoder, engine)
        store = open_store(url, knowledge, live if follow else None)
        assert isinstance(store, PostgresStore)
        curator = Curator(KnowledgeWriter(knowledge, live.snapshot), store, live)
        return cls(folder, live, store, curator, RevisionFollower(store, KnowledgeWriter(knowledge), live))

    def close(self) -> None:
        self.live.flush()
        self.store.close()

    def answer_of(self, entry_id: str) -> str:
        entry = self.live.answerer.knowledge.get(entry_id)
        return str(getattr(entry, "answer", ""))

    def edit(
        self, entry_id: str, answer: str, moderator: str = "mod", started_from: str | None = None
    ) -> int:
        """Changes the entry's answer from `started_from` (default: what this process's file holds now);
        the revision's id."""
        current = self.curator.writer.current(entry_id)
        assert current is not None
        current = (current[0], started_from or current[1])
        fields = entry_fields(current[1]) or {}
        fields = {key: value for key, value in fields.items() if key not in ("id", "reviewed_on")}
        outcome = self.curator.edit(
            entry_id, {**fields, "answer": answer}, current[1], Moderator(7, moderator)
        )
        return outcome.revision_id


def copy_knowledge(source: Path, folder: Path) -> Path:
    """A process's own folder holding a copy of the knowledge."""
    shutil.copytree(source, folder / "knowledge")
    return folder


PROJECT = Path(__file__).resolve().parents[2]
REPLY_SECONDS = 120.0  # start-up loads the engine; generous, since the machine may be busy


class NodeProcess:
    """One node run as a process of its own (`python -m tests.curation.node`), spoken to a line at a time."""

    def __init__(self, url: str, folder: Path, *options: str, start_seconds: float = REPLY_SECONDS) -> None:
        self.url, self.folder = url, folder
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "tests.curation.node", url, str(folder), *options],
            cwd=PROJECT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
        )
        assert self.reply(start_seconds) == {"ready": True}

    def reply(self, seconds: float = REPLY_SECONDS) -> dict[str, Any]:
        assert self.popen.stdout is not None
        ready, _, _ = select.select([self.popen.stdout], [], [], seconds)
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
            with contextlib.suppress(BrokenPipeError):  # it was killed
                self.popen.stdin.close()
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.popen.stdout.close()


def serve(node: Node) -> None:
    opened: dict[str, str] = {}
    for line in sys.stdin:
        command, _, rest = line.strip().partition(" ")
        reply: dict[str, Any]
        if command == "ask":
            answer = node.live.answerer.answer(rest)
            reply = {"id": answer.id, "answer": node.answer_of(answer.id) if answer.id else None}
        elif command == "open":
            current = node.curator.writer.current(rest)
            opened[rest] = current[1] if current else ""
            reply = {"opened": current is not None}
        elif command == "edit":
            entry_id, _, text = rest.partition(" ")
            try:
                reply = {
                    "ok": True,
                    "revision": node.edit(entry_id, text, started_from=opened.pop(entry_id, None)),
                }
            except ChangeConflict as conflict:
                reply = {"ok": False, "conflict": conflict.diff}
            except ChangeRejected as refused:
                reply = {"ok": False, "refused": str(refused)}
        elif command == "wait":
            entry_id, _, text = rest.partition(" ")
            while node.answer_of(entry_id) != text:
                time.sleep(0.002)
            reply = {"at": time.monotonic()}
        elif command == "rss":
            pages = int(Path("/proc/self/statm").read_text().split()[1])
            reply = {"rss_mb": pages * os.sysconf("SC_PAGE_SIZE") / 2**20}
        elif command == "record":
            reply = {"asked": node.store.record_question(rest, None, 0.1, True, "slash")}
        else:
            reply = {"error": f"unknown command {command!r}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    encoder = None
    if "--real-model" in sys.argv:
        from careerbot.config import ModelConfig
        from careerbot.retrieval.torch_encoder import SentenceTransformerEncoder

        encoder = SentenceTransformerEncoder(ModelConfig())
    started = Node.start(sys.argv[1], Path(sys.argv[2]), follow=True, encoder=encoder)
    print(json.dumps({"ready": True}), flush=True)
    serve(started)
    started.close()
