"""Entry ids typed in Discord are not paths: anything that is not an existing entry inside knowledge/faq
is "no entry", and nothing is shown, written or deleted (issue 9, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from careerbot.curation.curator import Moderator
from careerbot.knowledge.changes import ChangeRejected
from careerbot.knowledge.entry_paths import EntryPaths
from careerbot.knowledge.writer import KnowledgeWriter
from tests.conftest import write_entry

MOD = Moderator(7, "mod")
PASSAGE_ID = "a-test-article/what-the-job-involves"  # how article passage ids look (knowledge/models.py)


@pytest.fixture
def bait(knowledge_dir: Path, tmp_path: Path) -> dict[str, Path]:
    return plant_bait(knowledge_dir, tmp_path)


def plant_bait(knowledge_dir: Path, tmp_path: Path) -> dict[str, Path]:
    """Files a crafted id could reach: eval.yaml in the knowledge folder, a file outside it, and an
    entry-looking symlink in faq/ that points outside. Each holds a valid entry's text."""
    scratch = tmp_path / "scratch"
    eval_file = knowledge_dir / "eval.yaml"
    eval_file.write_text(
        write_entry(scratch, "stack/eval", "Eval?", ["e1 x", "e2 y", "e3 z"], "E.").read_text()
    )
    outside = tmp_path / "elsewhere" / "x.yaml"
    outside.parent.mkdir()
    outside.write_text(
        write_entry(scratch, "stack/evil", "Evil?", ["v1 x", "v2 y", "v3 z"], "V.").read_text()
    )
    link = knowledge_dir / "faq" / "stack" / "evil.yaml"
    link.symlink_to(outside)
    return {"eval": eval_file, "outside": outside, "link": link}


def bad_ids(bait: dict[str, Path]) -> list[str]:
    return [
        str(bait["outside"].with_suffix("")),  # absolute
        str(bait["eval"].with_suffix("")),
        "../../eval",
        "..",
        "../stack/pytorch",
        "stack/pytorch",
        "faq/stack/pytorch",
        "..%2f..%2feval",
        "%2E%2E%2F%2E%2E%2Feval",
        "pytorch%2F",
        "pytorch\x00",
        "\x00../../eval",
        "a" * 10_000,
        "pytorch" + "-x" * 5_000,
        PASSAGE_ID,
        "PyTorch",
        "pytorch\n",
        " pytorch",
        "pytorch.yaml",
        "",
        "evil",  # the symlink: a well-formed id whose file resolves outside the knowledge folder
    ]


def everything(root: Path) -> dict[Path, bytes]:
    """Every file under root but the database and index (symlinks as where they point), to show that
    nothing changed."""
    return {
        p: (str(p.readlink()).encode() if p.is_symlink() else p.read_bytes())
        for p in root.rglob("*")
        if p.is_file()
    }


def test_the_writer_shows_and_touches_nothing_for_an_id_that_is_not_an_entry(
    knowledge_dir: Path, bait: dict[str, Path], tmp_path: Path
) -> None:
    writer = KnowledgeWriter(knowledge_dir)
    before = everything(tmp_path)
    for entry_id in bad_ids(bait):
        assert writer.current(entry_id) is None, entry_id[:80]
        assert writer.locate(entry_id) is None, entry_id[:80]
        with pytest.raises(ChangeRejected, match="no entry with id"):
            writer.remove(entry_id, expected=bait["eval"].read_text())
        with pytest.raises(ChangeRejected, match="no entry with id"):
            writer.remove(entry_id, expected=bait["outside"].read_text())
        with pytest.raises(ChangeRejected):
            writer.save({"id": entry_id, "topic": "stack", "question": "q"}, expected=None)
    assert everything(tmp_path) == before
    assert bait["eval"].exists() and bait["outside"].exists() and bait["link"].is_symlink()


def test_the_message_names_a_long_or_binary_id_briefly(knowledge_dir: Path) -> None:
    with pytest.raises(ChangeRejected) as caught:
        KnowledgeWriter(knowledge_dir).remove("a" * 10_000 + "\x00", expected="")
    assert len(str(caught.value)) < 200 and "\x00" not in str(caught.value)


def test_paths_given_to_the_writer_must_be_entry_files_inside_the_knowledge(
    knowledge_dir: Path, bait: dict[str, Path], tmp_path: Path
) -> None:
    writer = KnowledgeWriter(knowledge_dir)
    before = everything(tmp_path)
    pytorch = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    seen = pytorch.read_text()
    for path in (
        bait["eval"],
        bait["outside"],
        bait["link"],
        knowledge_dir / "faq" / "stack" / ".." / ".." / "eval.yaml",
    ):
        with pytest.raises(ChangeRejected, match="no entry with id"):
            writer.restore("pytorch", path, None, expected=path.read_text())
        with pytest.raises(ChangeRejected, match="no entry with id"):
            writer.save({"id": "pytorch", "topic": "stack"}, expected=path.read_text(), old_path=path)
    with pytest.raises(ChangeRejected, match="no entry with id"):  # a real entry's file, another id
        writer.restore("eval", pytorch, None, expected=seen)
    assert everything(tmp_path) == before


def test_a_topic_folder_linked_outside_holds_no_entries(knowledge_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "duties-elsewhere"
    (knowledge_dir / "faq" / "duties").rename(elsewhere)
    (knowledge_dir / "faq" / "duties").symlink_to(elsewhere)
    writer = KnowledgeWriter(knowledge_dir)
    assert writer.locate("typical-day") is None and writer.locate("pytorch") is not None
    with pytest.raises(ChangeRejected, match="no entry with id"):
        writer.remove("typical-day", expected=(elsewhere / "typical-day.yaml").read_text())
    assert (elsewhere / "typical-day.yaml").exists()


def test_entry_paths_alone_find_and_read_only_real_entries(
    knowledge_dir: Path, bait: dict[str, Path]
) -> None:
    """The confinement works without the writer's lock or change logic (careerbot.knowledge.entry_paths)."""
    paths = EntryPaths(knowledge_dir)
    pytorch = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    assert paths.current("pytorch") == (pytorch, pytorch.read_text())
    assert paths.path_of("new-entry", "skills") == knowledge_dir / "faq" / "skills" / "new-entry.yaml"
    for entry_id in bad_ids(bait):
        assert paths.locate(entry_id) is None and paths.current(entry_id) is None, entry_id[:80]
    with pytest.raises(ChangeRejected, match="unknown topic 'nope'"):
        paths.path_of("pytorch", "nope")
    with pytest.raises(ChangeRejected, match=r"faq/stack/evil\.yaml is outside the knowledge"):
        paths.path_of("evil", "stack")
