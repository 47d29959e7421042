"""Several processes on one PostgreSQL, built in one test (tests.curation.node) so each step is taken in
a known order: an edit reaches the others' folders and engines, the database refuses the second of two
edits from the same version, a process that was down catches up, and the database going away refuses
edits whole while members are still answered. tests/curation/test_processes.py does it with real
processes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from careerbot.curation.postgres import PURGE_LOCK, PostgresStore
from careerbot.curation.propagation import recover
from careerbot.curation.reports import knowledge_stats
from careerbot.knowledge.changes import ChangeConflict, ChangeRejected
from tests.curation.node import Node, copy_knowledge
from tests.postgres import Cluster, execute

PYTORCH = "PyTorch builds and trains neural networks."


@pytest.fixture
def url(postgres: Cluster) -> str:
    return postgres.new_database()


@pytest.fixture
def start(url: str, knowledge_dir: Path, tmp_path: Path) -> Iterator[Callable[[str], Node]]:
    """Starts the process whose folder is tmp_path/NAME (copying the knowledge the first time)."""
    nodes: list[Node] = []

    def start_node(name: str) -> Node:
        folder = tmp_path / name
        if not folder.exists():
            copy_knowledge(knowledge_dir, folder)
        nodes.append(Node.start(url, folder))
        return nodes[-1]

    yield start_node
    for node in nodes:
        node.close()


def eventually(attempt: Callable[[], object], seconds: float = 60.0) -> None:
    """Tries until `attempt` stops being refused for want of the database (after a restart, the pool's
    next try to reconnect may be seconds away)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            attempt()
            return
        except ChangeRejected as refused:
            if "database" not in str(refused) or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def test_an_edit_in_one_process_reaches_the_others_files_and_answers(start: Callable[[str], Node]) -> None:
    a, b, c = start("a"), start("b"), start("c")
    a.edit("pytorch", "Edited in process a.")
    assert b.answer_of("pytorch") == PYTORCH  # not yet applied
    assert b.follower.catch_up() == 1 and c.follower.catch_up() == 1
    for node in (b, c):
        assert node.answer_of("pytorch") == "Edited in process a."
        assert "Edited in process a." in (node.folder / "knowledge/faq/stack/pytorch.yaml").read_text()
    assert [r.moderator_name for r in c.store.history("pytorch")] == ["mod"]  # one history, any process
    # nothing applied twice: not by the process that made it, nor again by the others
    assert a.follower.catch_up() == 0 and b.follower.catch_up() == 0


def test_two_moderators_editing_one_entry_in_two_processes_one_is_refused_with_the_difference(
    start: Callable[[str], Node],
) -> None:
    a, b = start("a"), start("b")
    a.edit("pytorch", "First, through a.")
    # b's file still holds the version both moderators started from: only the database can tell
    with pytest.raises(ChangeConflict) as refused:
        b.edit("pytorch", "Second, through b.")
    assert (
        "-answer: PyTorch builds" in refused.value.diff and "+answer: First, through a." in refused.value.diff
    )
    assert "revision #" in refused.value.diff and "Second" not in refused.value.diff
    assert (
        b.answer_of("pytorch") == PYTORCH
        and "Second" not in (b.folder / "knowledge/faq/stack/pytorch.yaml").read_text()
    )
    b.follower.catch_up()  # once b has a's change, b's moderator can edit on top of it
    b.edit("pytorch", "Second, through b, on top of a's.")
    a.follower.catch_up()
    assert a.answer_of("pytorch") == "Second, through b, on top of a's."
    assert [r.after is not None and "Second" in r.after for r in a.store.history("pytorch")] == [True, False]


def test_a_process_that_was_down_catches_up_at_start_up(
    start: Callable[[str], Node], url: str, tmp_path: Path
) -> None:
    a, down = start("a"), start("down")
    down.close()
    a.edit("pytorch", "Edited while the other was down.")
    a.edit("pytorch", "Edited twice while the other was down.")
    restarted = start("down")  # recover() at start-up applied both, in order
    assert restarted.answer_of("pytorch") == "Edited twice while the other was down."
    assert restarted.follower.catch_up() == 0
    assert recover(tmp_path / "down" / "knowledge", url) == []  # and remembered it had


def test_stats_gaps_and_votes_are_one_view_whichever_process_serves_them(
    start: Callable[[str], Node],
) -> None:
    a, b = start("a"), start("b")
    asked = a.store.record_question("capital of peru", None, 0.1, True, "slash")
    answered = b.store.record_question("pytorch uses", "pytorch", 0.9, False, "slash")
    b.store.record_feedback(answered, "pytorch", helpful=True)
    assert asked and b.store.gaps(0.5) == a.store.gaps(0.5) == ["capital of peru"]
    stats = {
        f.name: f.value for f in knowledge_stats(a.live.answerer.knowledge, a.store, 365, date(2026, 11, 29))
    }
    assert stats["Most asked"] == "pytorch: 1" and stats["Votes (helpful / not)"] == "pytorch: 1 / 0"


def test_the_retention_sweep_runs_in_one_process_at_a_time(url: str) -> None:
    store = PostgresStore(url, "node")
    store.record_question("old question", None, 0.1, True, "slash")
    execute(url, "UPDATE asked SET asked_at = asked_at - 100 * 86400")
    with psycopg.connect(url, autocommit=True) as sweeping:  # another process is sweeping
        sweeping.execute("SELECT pg_advisory_lock(%s)", (PURGE_LOCK,))
        assert store.purge(90) == 0 and execute(url, "SELECT COUNT(*) FROM asked") == [(1,)]
        # released here, not when the connection closes: the server ends that session a moment later
        sweeping.execute("SELECT pg_advisory_unlock(%s)", (PURGE_LOCK,))
    assert store.purge(90) == 1 and execute(url, "SELECT COUNT(*) FROM asked") == [(0,)]
    store.close()


def test_while_the_database_is_down_edits_are_refused_whole_and_members_still_answered(
    start: Callable[[str], Node], postgres: Cluster
) -> None:
    a, b = start("a"), start("b")
    before = (a.folder / "knowledge/faq/stack/pytorch.yaml").read_text()
    postgres.stop()
    try:
        assert a.live.answerer.answer("pytorch uses").id == "pytorch"
        assert (
            a.store.record_question("pytorch uses", "pytorch", 0.9, False, "slash") < 0
        )  # kept until the database is back (provisional id), no error
        with pytest.raises(ChangeRejected, match="database"):
            a.edit("pytorch", "Made while the database was down.")
        assert (a.folder / "knowledge/faq/stack/pytorch.yaml").read_text() == before
        assert a.answer_of("pytorch") == PYTORCH
    finally:
        postgres.start()
    eventually(lambda: a.edit("pytorch", "Made once it was back."))  # the pool reconnects by itself
    assert b.follower.catch_up() == 1 and b.answer_of("pytorch") == "Made once it was back."


def test_the_database_going_away_between_the_record_and_the_done_puts_the_files_back(
    start: Callable[[str], Node], postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = start("a"), start("b")
    path = a.folder / "knowledge/faq/stack/pytorch.yaml"
    before = path.read_text()
    finish = PostgresStore.finish_revision

    def database_stops_first(store: PostgresStore, revision_id: int) -> None:
        assert "Half done." in path.read_text()  # the files are written by now
        postgres.stop()
        finish(store, revision_id)

    monkeypatch.setattr(PostgresStore, "finish_revision", database_stops_first)
    try:
        with pytest.raises(ChangeRejected, match="went away before the change was recorded"):
            a.edit("pytorch", "Half done.")
    finally:
        postgres.start()
    monkeypatch.undo()
    assert path.read_text() == before and a.answer_of("pytorch") == PYTORCH
    assert b.follower.catch_up() == 0 and b.store.history("pytorch") == []
    eventually(lambda: a.edit("pytorch", "Whole."))  # the refused change's row is dropped: it blocks nothing
    assert execute(a.store._pg.url, "SELECT COUNT(*) FROM revisions") == [(1,)]
    assert b.follower.catch_up() == 1 and b.answer_of("pytorch") == "Whole."


def test_a_change_cut_short_by_a_kill_is_dropped_if_unwritten_and_published_if_written(
    start: Callable[[str], Node], url: str, tmp_path: Path
) -> None:
    a, b = start("a"), start("b")
    folder = tmp_path / "a" / "knowledge"
    pytorch, salary = folder / "faq/stack/pytorch.yaml", folder / "faq/career/salary.yaml"
    a.close()  # as if killed: a recorded two changes, wrote the files of the second only
    unwritten = PostgresStore(url, a.store.node)
    old_pytorch, old_salary = pytorch.read_text(), salary.read_text()
    new_salary = old_salary.replace("It depends on country and seniority.", "Written before the kill.")
    unwritten.begin_revision("pytorch", "faq/stack/pytorch.yaml", None, 7, "mod", "edit", old_pytorch, "x")
    unwritten.begin_revision(
        "salary", "faq/career/salary.yaml", None, 7, "mod", "edit", old_salary, new_salary
    )
    salary.write_text(new_salary)
    unwritten.close()
    said = recover(folder, url)  # a's start-up
    assert [line.split(" (")[0] for line in said] == [
        "dropped the interrupted edit of entry 'pytorch' by mod",
        "finished the interrupted edit of entry 'salary' by mod",
    ]
    assert pytorch.read_text() == old_pytorch and b.store.history("pytorch") == []
    assert b.follower.catch_up() == 1 and b.answer_of("salary") == "Written before the kill."


def test_questions_and_votes_made_while_the_database_is_down_are_written_in_order_once_it_is_back(
    url: str, postgres: Cluster
) -> None:
    store = PostgresStore(url, "node")
    before = store.record_question("asked before", "pytorch", 0.9, False, "slash")
    postgres.stop()
    try:
        down_started = time.time()
        first = store.record_question("asked while down", "pytorch", 0.8, False, "slash")
        store.record_feedback(first, "pytorch", helpful=True)  # on a question still queued
        store.record_feedback(before, "pytorch", helpful=False)  # on one written before
        second = store.record_question("asked while down, declined", None, 0.1, True, "mention")
        queued = store.asked(first)  # what the member's buttons look up
        assert first < 0 and second < 0 and first != second
        assert queued is not None and (queued.question, queued.answer_id) == ("asked while down", "pytorch")
    finally:
        postgres.start()
    back = time.time()
    deadline = time.monotonic() + 60
    while (after := store.record_question("asked after", "pytorch", 0.9, False, "slash")) < 0:
        assert time.monotonic() < deadline  # the pool's next try to reconnect may be seconds away
        time.sleep(0.2)
    asked = execute(url, "SELECT id, question, asked_at, channel_kind FROM asked ORDER BY id")
    assert [row[1] for row in asked[:3]] == ["asked before", "asked while down", "asked while down, declined"]
    assert {row[1] for row in asked[3:]} == {"asked after"} and asked[-1][0] == after
    assert all(down_started <= row[2] < back for row in asked[1:3])  # their own times, not the flush's
    assert asked[2][3] == "mention"
    written_first = store.asked(first)  # the buttons' provisional id now finds the written question
    assert written_first is not None and written_first.id == asked[1][0]
    votes = execute(url, "SELECT asked_id, answer_id, helpful FROM feedback ORDER BY id")
    assert votes == [(asked[1][0], "pytorch", 1), (before, "pytorch", 0)]
    store.record_feedback(first, "pytorch", helpful=False)  # a later click on the same buttons
    assert execute(url, "SELECT asked_id FROM feedback ORDER BY id DESC LIMIT 1") == [(asked[1][0],)]
    assert store.write_pending() == 0  # nothing left to write twice
    store.close()
