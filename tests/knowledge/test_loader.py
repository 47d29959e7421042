from __future__ import annotations

from pathlib import Path

import pytest

from careerbot.knowledge import KnowledgeError, load_knowledge, validate_knowledge
from tests.conftest import write_entry


def problems_of(root: Path) -> list[str]:
    knowledge, problems = validate_knowledge(root)
    assert knowledge is None, "bad knowledge must not load"
    return [str(p) for p in problems]


def test_loads_entries_and_passages(knowledge_dir: Path) -> None:
    knowledge = load_knowledge(knowledge_dir)
    assert len(knowledge.entries) == 6
    assert [p.id for p in knowledge.passages] == [
        "a-test-article/what-the-job-involves",
        "a-test-article/the-usual-stack",
    ]
    pytorch = knowledge.get("pytorch")
    assert pytorch is not None and pytorch.topic == "stack"
    assert pytorch.paraphrases[0] == "pytorch uses"
    passage = knowledge.get("a-test-article/the-usual-stack")
    assert passage is not None and passage.topic == "stack" and "scikit-learn" in passage.text


def test_yaml_syntax_error_names_file_and_line(knowledge_dir: Path) -> None:
    path = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    lines = path.read_text().splitlines()
    lines[3] = "  - [unclosed"
    path.write_text("\n".join(lines))
    [problem] = problems_of(knowledge_dir)
    assert problem.startswith(f"{path}:4:") and "not valid YAML" in problem, problem


@pytest.mark.parametrize(
    ("old", "new", "field", "line", "message"),
    [
        ("topic: stack", "topic: cooking", "topic", 8, "unknown topic 'cooking'"),
        ("topic: stack", "topic: skills", "topic", 8, "does not match the folder 'stack'"),
        ("id: pytorch", "id: py-torch", "id", 1, "must match the file name"),
        ("id: pytorch", "id: PyTorch", "id", 1, "lowercase"),
        ("reviewed_on: 2026-11-23", "reviewed_on: last week", "reviewed_on", 13, "must be a date"),
        (
            "answer: PyTorch builds and trains neural networks.",
            "answer: " + "x" * 1001,
            "answer",
            7,
            "1001 characters; the limit is 1000",
        ),
        ("question: What is PyTorch used for?", "question: ''", "question", 2, "non-empty text"),
        ("tags: [stack]", "tags: stack", "tags", 9, "must be a list"),
        ("  - title: A Test Article", "  - url: https://example.org", "sources", 11, "non-empty title"),
        ("reviewed_on: 2026-11-23", "reviewed_on: 2026-11-23\nowner: me", "owner", 14, "unknown field"),
    ],
)
def test_bad_field_names_file_line_and_field(
    knowledge_dir: Path, old: str, new: str, field: str, line: int, message: str
) -> None:
    path = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    path.write_text(path.read_text().replace(old, new))
    [problem] = problems_of(knowledge_dir)
    assert problem.startswith(f"{path}:{line}: {field}: "), problem
    assert message in problem


def test_missing_field_and_too_few_paraphrases(knowledge_dir: Path) -> None:
    path = write_entry(
        knowledge_dir, "stack/jupyter", "What is Jupyter for?", ["notebooks?", "jupyter lab"], "x"
    )
    path.write_text(
        path.read_text().replace(
            "sources:\n  - title: A Test Article\n    section: a-test-article/what-the-job-involves\n", ""
        )
    )
    found = problems_of(knowledge_dir)
    assert any("jupyter.yaml:1: sources: missing" in p for p in found), found


def test_too_few_paraphrases(knowledge_dir: Path) -> None:
    write_entry(knowledge_dir, "stack/jupyter", "What is Jupyter for?", ["notebooks?", "jupyter lab"], "x")
    [problem] = problems_of(knowledge_dir)
    assert "jupyter.yaml:3: paraphrases: has 2 item(s); at least 3 needed" in problem


def test_duplicate_id_across_topics(knowledge_dir: Path) -> None:
    write_entry(
        knowledge_dir, "skills/pytorch", "Do I need PyTorch skills?", ["a b c", "d e f", "g h i"], "x"
    )
    found = problems_of(knowledge_dir)
    assert any("duplicate id 'pytorch'" in p for p in found), found


def test_near_identical_phrasings_across_entries(knowledge_dir: Path) -> None:
    write_entry(
        knowledge_dir,
        "stack/torch-uses",
        "Where is torch used?",
        ["What is PyTorch used for!", "torch in industry", "torch users"],
        "x",
    )
    [problem] = problems_of(knowledge_dir)
    assert (
        "torch-uses.yaml:4: paraphrases: item 1 is the same as or nearly the same as question of 'pytorch'"
        in problem
    )


def test_unknown_article_section_in_sources(knowledge_dir: Path) -> None:
    path = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    path.write_text(path.read_text().replace("a-test-article/what-the-job-involves", "a-test-article/nope"))
    [problem] = problems_of(knowledge_dir)
    assert problem.startswith(f"{path}:11: sources: item 1: section 'a-test-article/nope'")


def test_article_section_without_topic_mark(knowledge_dir: Path) -> None:
    path = knowledge_dir / "articles" / "a-test-article.md"
    path.write_text(path.read_text().replace("<!-- topic: stack -->\n", ""))
    found = problems_of(knowledge_dir)
    assert any(p.startswith(f"{path}:12: topic:") for p in found), found


def test_load_raises_with_every_problem(knowledge_dir: Path) -> None:
    (knowledge_dir / "faq" / "stack" / "pytorch.yaml").write_text("just a string")
    (knowledge_dir / "faq" / "roles" / "vs-data-scientist.yaml").write_text("id: [")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(knowledge_dir)
    assert len(caught.value.problems) == 2
    assert "2 problem(s)" in str(caught.value)


def test_missing_folder(tmp_path: Path) -> None:
    assert "does not exist" in problems_of(tmp_path / "nowhere")[0]
