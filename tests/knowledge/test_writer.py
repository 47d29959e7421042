from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from careerbot.files import folder_lock
from careerbot.knowledge import load_knowledge, loader
from careerbot.knowledge.changes import ChangeConflict, ChangeRejected
from careerbot.knowledge.codec import entry_text
from careerbot.knowledge.snapshot import refresh
from careerbot.knowledge.writer import KnowledgeWriter
from tests.conftest import NEW


def test_a_new_entry_is_validated_written_and_loads(knowledge_dir: Path) -> None:
    change = KnowledgeWriter(knowledge_dir).save(NEW, expected=None)
    assert change.before is None and change.path == knowledge_dir / "faq" / "stack" / "jupyter.yaml"
    assert yaml.safe_load(change.path.read_text())["question"] == "What is Jupyter for?"
    assert load_knowledge(knowledge_dir).get("jupyter") is not None
    assert change.path.read_text().startswith("id: jupyter\n")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"topic": "cooking"}, "unknown topic 'cooking'"),
        ({"paraphrases": ["one"]}, "at least 3 needed"),
        ({"question": "What is PyTorch used for?"}, "the same as or nearly the same as question of"),
        ({"id": "pytorch"}, "exists already"),
    ],
)
def test_an_invalid_change_is_refused_and_nothing_is_written(
    knowledge_dir: Path, changes: dict[str, Any], message: str
) -> None:
    before = {p: p.read_text() for p in knowledge_dir.rglob("*.yaml")}
    with pytest.raises(ChangeRejected) as caught:
        KnowledgeWriter(knowledge_dir).save({**NEW, **changes}, expected=None)
    assert message in str(caught.value)
    assert {p: p.read_text() for p in knowledge_dir.rglob("*.yaml")} == before


def test_an_edit_over_a_version_it_did_not_see_is_refused_with_the_difference(knowledge_dir: Path) -> None:
    writer = KnowledgeWriter(knowledge_dir)
    path = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    seen = path.read_text()
    path.write_text(seen.replace("PyTorch builds and trains neural networks.", "Edited by hand."))
    edited = {**yaml.safe_load(seen), "answer": "My edit."}
    with pytest.raises(ChangeConflict) as caught:
        writer.save(edited, expected=seen)
    assert "-answer: PyTorch builds and trains neural networks." in caught.value.diff
    assert "+answer: Edited by hand." in caught.value.diff
    assert "Edited by hand." in path.read_text()


def test_two_moderators_editing_at_once_cannot_both_win(knowledge_dir: Path) -> None:
    writer = KnowledgeWriter(knowledge_dir)
    path = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    seen = path.read_text()
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def edit(answer: str) -> None:
        start.wait()
        try:
            writer.save({**yaml.safe_load(seen), "answer": answer}, expected=seen)
            outcomes.append(answer)
        except ChangeConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(answer,)) for answer in ("Mine.", "Theirs.")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("conflict") == 1 and len(outcomes) == 2
    [winner] = [o for o in outcomes if o != "conflict"]
    assert yaml.safe_load(path.read_text())["answer"] == winner


def test_changing_the_topic_moves_the_file(knowledge_dir: Path) -> None:
    writer = KnowledgeWriter(knowledge_dir)
    old = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    seen = old.read_text()
    change = writer.save({**yaml.safe_load(seen), "topic": "skills"}, expected=seen, old_path=old)
    assert not old.exists() and change.path == knowledge_dir / "faq" / "skills" / "pytorch.yaml"
    assert load_knowledge(knowledge_dir).get("pytorch").topic == "skills"  # type: ignore[union-attr]


def test_remove_and_restore(knowledge_dir: Path) -> None:
    writer = KnowledgeWriter(knowledge_dir)
    path = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    seen = path.read_text()
    removed = writer.remove("pytorch", expected=seen)
    assert not path.exists() and removed.after is None
    writer.restore("pytorch", path, seen, expected=None)
    assert path.read_text() == seen
    with pytest.raises(ChangeRejected, match="no entry with id 'nope'"):
        writer.remove("nope", expected="")


def test_entry_text_round_trips(knowledge_dir: Path) -> None:
    entry = load_knowledge(knowledge_dir).entries[0]
    again = yaml.safe_load(entry_text(entry))
    assert again["id"] == entry.id and again["paraphrases"] == list(entry.paraphrases)


WRITER_LOOP = """
import sys
from pathlib import Path
from careerbot.files import write_text_atomically
target, versions = Path(sys.argv[1]), [sys.argv[2] * 200_000, sys.argv[3] * 200_000]
print("ready", flush=True)
i = 0
while True:
    write_text_atomically(target, versions[i % 2])
    i += 1
"""


def test_a_writer_killed_midway_leaves_the_old_file_or_the_new_never_a_torn_one(tmp_path: Path) -> None:
    target = tmp_path / "entry.yaml"
    versions = {"a" * 200_000, "b" * 200_000}
    for attempt in range(5):
        with subprocess.Popen(
            [sys.executable, "-c", WRITER_LOOP, str(target), "a", "b"], stdout=subprocess.PIPE, text=True
        ) as process:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
            time.sleep(0.05 + 0.03 * attempt)  # somewhere in the middle of some write
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        assert target.read_text() in versions
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "entry.yaml"]
    assert all(name.startswith(".entry.yaml.") and name.endswith(".tmp") for name in leftovers)


def test_with_a_snapshot_a_change_is_checked_against_files_changed_since(
    knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot spares reading every file, yet an entry pulled from git meanwhile still counts."""
    snapshot = refresh(knowledge_dir, None).snapshot
    pulled = {**NEW, "id": "notebooks", "question": "What are notebooks for?", "paraphrases": ["a", "b", "c"]}
    KnowledgeWriter(knowledge_dir).save(pulled, expected=None)
    parsed: list[Path] = []
    real = loader.parse_entry_file
    monkeypatch.setattr(loader, "parse_entry_file", lambda p, t=None: parsed.append(p) or real(p, t))
    writer = KnowledgeWriter(knowledge_dir, lambda: snapshot)
    with pytest.raises(ChangeRejected, match=r"'What are notebooks for\?' ~ 'What are notebooks for\?'"):
        writer.save({**NEW, "paraphrases": ["What are notebooks for?", "jupyter lab", "x"]}, expected=None)
    assert sorted(p.name for p in parsed) == ["jupyter.yaml", "notebooks.yaml"]
    assert not (knowledge_dir / "faq" / "stack" / "jupyter.yaml").exists()


# One careerbot process editing pytorch: on "read" it reads the entry, on "go N" it saves its edit over
# what it read, and says whether it saved or met a conflict.
RACER = """
import pathlib, sys
import yaml
from careerbot.knowledge.changes import ChangeConflict
from careerbot.knowledge.writer import KnowledgeWriter
root, name = pathlib.Path(sys.argv[1]), sys.argv[2]
writer, path = KnowledgeWriter(root), root / "faq" / "stack" / "pytorch.yaml"
for line in sys.stdin:
    if line.startswith("read"):
        seen = path.read_text()
        print("ready", flush=True)
    else:
        answer = f"{name} {line.split()[1]}."
        try:
            writer.save({**yaml.safe_load(seen), "answer": answer}, expected=seen)
            print(f"saved {answer}", flush=True)
        except ChangeConflict:
            print("conflict", flush=True)
"""


def test_two_processes_editing_the_same_version_cannot_both_win(knowledge_dir: Path) -> None:
    path = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    with contextlib.ExitStack() as stack:  # closing their input ends them
        racers = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", RACER, str(knowledge_dir), name],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
            for name in ("Mine", "Theirs")
        ]
        for round_number in range(8):
            for racer in racers:
                assert racer.stdin is not None and racer.stdout is not None
                racer.stdin.write("read\n")
                racer.stdin.flush()
                assert racer.stdout.readline().strip() == "ready"
            for racer in racers:  # both start from the same version, as close together as can be
                assert racer.stdin is not None
                racer.stdin.write(f"go {round_number}\n")
                racer.stdin.flush()
            outcomes = sorted(racer.stdout.readline().strip() for racer in racers if racer.stdout)
            assert outcomes[0] == "conflict" and outcomes[1].startswith("saved "), outcomes
            assert yaml.safe_load(path.read_text())["answer"] == outcomes[1].removeprefix("saved ")


def test_a_writer_that_cannot_get_the_knowledge_is_refused_and_writes_nothing(knowledge_dir: Path) -> None:
    path = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    seen = path.read_text()
    writer = KnowledgeWriter(knowledge_dir, lock_timeout=0.1)
    with folder_lock(knowledge_dir, timeout=1), pytest.raises(ChangeRejected, match="still being written"):
        writer.save({**yaml.safe_load(seen), "answer": "Mine."}, expected=seen)
    assert path.read_text() == seen
    writer.save({**yaml.safe_load(seen), "answer": "Mine."}, expected=seen)  # once free, it saves
    assert yaml.safe_load(path.read_text())["answer"] == "Mine."
