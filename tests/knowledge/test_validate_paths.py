"""`careerbot validate` parses entry files with libyaml (PyYAML's C parser) where it can: the problems it
reports must be exactly those of the pure-Python loader it used before (same messages, same order), on
synthetic knowledge with every kind of fault injected and on the shipped knowledge."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from careerbot.knowledge import KnowledgeBase, validate_knowledge, yaml_lines

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from synthetic import write_knowledge  # noqa: E402

ENTRIES = 120


def entry(root: Path, number: int) -> Path:
    [path] = (root / "faq").glob(f"*/synthetic-{number:06d}.yaml")
    return path


def replace(number: int, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = entry(root, number)
        text = path.read_text(encoding="utf-8")
        assert old in text, (old, text)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def rewrite(number: int, change: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = entry(root, number)
        path.write_bytes(change(path.read_text(encoding="utf-8")).encode("utf-8"))

    return apply


def nested(levels: int) -> str:
    return "[" * levels + "x" + "]" * levels


def copy_entry(number: int, into: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = entry(root, number)
        target = root / "faq" / into / path.name
        target.write_text(path.read_text().replace(f"topic: {path.parent.name}", f"topic: {into}"))

    return apply


def near_copy(number: int, of: int) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        question = entry(root, of).read_text().split("question: ", 1)[1].split("\n", 1)[0]
        replace(number, "paraphrases:\n", f'paraphrases:\n  - {question[:-2]}s?"\n')(root)

    return apply


# Every fault the loader reports, and texts where libyaml and PyYAML could disagree (they must not).
FAULTS: list[Callable[[Path], None]] = [
    replace(1, "paraphrases:\n", "paraphrases: [unclosed\n"),
    replace(2, "topic: ", "topic: [a, b\n"),
    replace(3, "tags: [", "tags: {"),
    replace(4, "\nanswer:", "\n\tanswer:"),
    replace(5, "id: ", "  id: "),
    replace(6, "reviewed_on: 2026-11-23", "reviewed_on: 2026-02-30"),
    replace(7, "reviewed_on: 2026-11-23", "reviewed_on: " + "9" * 5000),
    replace(8, "reviewed_on: 2026-11-23", "reviewed_on: yesterday"),
    replace(9, "tags: [", "tags: &t ["),
    replace(10, "tags: [", "extra: &x [1]\ntags: ["),
    replace(11, "question: ", "question: *q\nold_question: "),
    replace(12, "answer: ", 'answer: "R&D * 2" # a plain & and * in text\nnote: '),
    replace(13, "tags: [", f"deep: {nested(8)}\ntags: ["),  # 10 levels: allowed by the parser
    replace(14, "tags: [", f"deep: {nested(9)}\ntags: ["),  # 11 levels: refused
    replace(15, "tags: [", f"deep: {nested(3000)}\ntags: ["),
    rewrite(16, lambda text: text + "---\nsecond: document\n"),
    rewrite(17, lambda text: "%YAML 1.2\n---\n" + text),
    rewrite(18, lambda text: "%YAML 2.0\n---\n" + text),
    rewrite(19, lambda text: text.replace("\n", "\r\n")),
    rewrite(20, lambda text: "\ufeff" + text),
    replace(21, 'question: "', 'question: "line\\u2028sep '),
    replace(22, "question: ", "question: \u2028"),
    replace(23, "answer: ", 'answer: "\\uFFFE" # '),
    replace(24, "answer: ", "answer: \ufffe"),
    rewrite(25, lambda text: ""),
    rewrite(26, lambda text: "# only a comment\n"),
    rewrite(27, lambda text: "- a\n- list\n"),
    rewrite(28, lambda text: "just text\n"),
    replace(29, "tags: [", "? [complex, key]\n: value\ntags: ["),
    replace(30, "tags: [", "weird: !!python/object:os.system x\ntags: ["),
    replace(31, "tags: [", "custom: !mytag x\ntags: ["),
    replace(32, "answer: ", "answer: @reserved "),
    replace(33, "answer: ", "answer: `tick "),
    replace(34, "question: ", "question: 'unterminated\n"),
    replace(35, "question:", "question:\n  |\n   block\n  bad"),
    replace(36, "topic: ", "topic: a: b: c\ntopic2: "),
    replace(37, "tags: [", "sources: []\ntags: ["),  # a duplicate key: the later one wins
    replace(38, "id: synthetic-000038\n", ""),
    replace(39, "id: synthetic-000039", "id: Synthetic_39"),
    replace(40, "paraphrases:\n", "paraphrases:\n  - 42\n  - ''\n"),
    replace(41, "  - title: Synthetic benchmark source", "  - title: x\n    url: ftp://x"),
    replace(42, "  - title: Synthetic benchmark source", "  - section: no-such-section\n    title: x"),
    replace(43, "tags: [", "tags: [" + "t, " * 30),
    replace(44, "answer: ", "answer: " + "a" * 1200 + " "),
    replace(45, "answer: ", 'answer: "\\e[31m" # '),
    replace(46, "reviewed_on: 2026-11-23", "reviewed_on: 2026-11-23 12:00:00"),
    replace(47, "tags: [", "? |\n  block key\n: v\ntags: ["),
    replace(48, "tags: [", "long: " + "word " * 300 + "\ntags: ["),
    replace(49, "tags: [", 'tags: ["a\\x41", '),
    replace(50, "answer: ", "answer: >\n  folded\n  text\nnote: "),
    replace(57, "tags: [", "<<: {extra: 1}\ntags: ["),  # a merge key
    replace(58, "tags: [", "=: value\ntags: ["),
    replace(59, "tags: [", "1: one\n2026-01-01: day\nnull: x\ntrue: y\n0x1F: z\ntags: ["),
    replace(
        60, "tags: [", "typed: [!!str 123, !!int '5', !!float '1.5', !!binary aGk=, ~, yes, 1_000]\ntags: ["
    ),
    replace(61, "tags: [", "set: !!set {a, b}\nomap: !!omap [a: 1]\ntags: ["),
    replace(62, "tags: [", "explicit: !!map {a: !!seq [b]}\ntags: ["),
    replace(63, "reviewed_on: 2026-11-23", "reviewed_on: !!str 2026-11-23"),
    replace(64, "reviewed_on: 2026-11-23", "reviewed_on: 2026-11-23\nreviewed_on: 2026-11-24"),
    copy_entry(51, "career"),
    copy_entry(52, "skills"),
    near_copy(53, of=54),
    near_copy(55, of=55),
    near_copy(56, of=57),
]


def problems_of(root: Path) -> tuple[KnowledgeBase | None, list[str]]:
    knowledge, problems = validate_knowledge(root)
    return knowledge, [str(problem) for problem in problems]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faulty") / "knowledge"
    write_knowledge(root, ENTRIES)
    for fault in FAULTS:
        fault(root)
    return root


def test_the_installed_pyyaml_parses_with_libyaml_and_libyaml_limits_nesting() -> None:
    """Without it validate still works (the pure-Python loader), about five times slower at 100k."""
    assert yaml.__with_libyaml__ and yaml_lines.LIBYAML


def test_a_plain_entry_file_is_not_scanned_by_the_pure_python_parser(
    faulty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("the pure-Python scanner read a plain file")

    monkeypatch.setattr(yaml.scanner.Scanner, "fetch_more_tokens", refuse)
    # Untouched files (those past the faults) parse; one with a fault goes to the pure-Python loader.
    located = yaml_lines.parse_located(entry(faulty, ENTRIES - 1).read_text())
    assert located.data["id"] == f"synthetic-{ENTRIES - 1:06d}"
    assert located.key_lines["reviewed_on"] == 14 and located.item_lines["paraphrases"][4] == 8
    with pytest.raises(AssertionError, match="pure-Python scanner"):
        yaml_lines.parse_located(entry(faulty, 9).read_text())  # an anchor


def test_every_fault_is_reported_as_the_pure_python_loader_reports_it(
    faulty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge, found = problems_of(faulty)
    monkeypatch.setattr(yaml_lines, "LIBYAML", False)
    reference_knowledge, reference = problems_of(faulty)
    assert knowledge is None and reference_knowledge is None
    assert found == reference
    # The faults are there to be found.
    for kind in (
        "not valid YAML: expected ',' or ']'",
        "not valid YAML: anchors and aliases",
        "not valid YAML: nested deeper than 10 levels",
        "not valid YAML: day is out of range for month",
        "not valid YAML: character U+FFFE is not allowed",
        "an entry file must be a YAML mapping of fields",
        "id: missing",
        "duplicate id 'synthetic-000052'",
        "item 1 is the same as or nearly the same as question of 'synthetic-000054'",
        "is no article passage",
    ):
        assert any(kind in line for line in found), kind
    assert len({line.split(":", 1)[0] for line in found}) >= 45


def test_every_fault_file_alone_parses_alike(faulty: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per file, the data and the lines messages cite (or the syntax error) from both parsers."""

    def parse(text: str) -> object:
        try:
            located = yaml_lines.parse_located(text)
        except yaml_lines.YamlSyntaxError as exc:
            return ("error", str(exc), exc.line)
        return (located.data, located.key_lines, located.item_lines)

    texts = [path.read_text(encoding="utf-8") for path in sorted(faulty.rglob("*.yaml"))]
    fast = [parse(text) for text in texts]
    monkeypatch.setattr(yaml_lines, "LIBYAML", False)
    assert fast == [parse(text) for text in texts]


def test_the_shipped_knowledge_loads_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "knowledge", tmp_path / "knowledge")
    fast, problems = validate_knowledge(tmp_path / "knowledge")
    monkeypatch.setattr(yaml_lines, "LIBYAML", False)
    reference, reference_problems = validate_knowledge(tmp_path / "knowledge")
    assert problems == reference_problems == []
    assert fast is not None and reference is not None
    assert fast.entries == reference.entries and len(fast.entries) > 250


def test_a_near_copy_in_shipped_knowledge_is_reported_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", root)
    first, second = sorted((root / "faq").rglob("*.yaml"))[:2]
    question = yaml.safe_load(first.read_text())["question"]
    second.write_text(second.read_text().replace("paraphrases:\n", f"paraphrases:\n  - {question}!\n"))
    _, problems = validate_knowledge(root)
    monkeypatch.setattr(yaml_lines, "LIBYAML", False)
    assert problems == validate_knowledge(root)[1]
    [problem] = problems
    assert problem.message.startswith("item 1 is the same as or nearly the same as question of")
