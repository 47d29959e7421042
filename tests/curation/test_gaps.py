from __future__ import annotations

from careerbot.curation.gaps import group_gaps
from careerbot.knowledge.faq_file import MAX_PARAPHRASE_CHARS
from tests.fakes import FakeEncoder


def test_alike_questions_form_one_group_counted_by_asks() -> None:
    questions = [
        "leetcode for ml interviews?",
        "what's the capital of peru",
        "do ml interviews need leetcode",
        "leetcode for ml interviews?",
        "best pizza in town",
    ]
    groups = group_gaps(questions, FakeEncoder())
    assert groups[0].example == "leetcode for ml interviews?"
    assert groups[0].count == 3 and len(groups[0].wordings) == 2
    assert {g.example for g in groups[1:]} == {"what's the capital of peru", "best pizza in town"}
    assert group_gaps(["  ", ""], FakeEncoder()) == []


def test_grouping_survives_any_stored_question() -> None:
    stored = [
        "leetcode for ml interviews?",
        "",
        "   \t ",
        "x" * 100_000,
        "leetcode \ud800 for ml interviews?",  # bytes that were not UTF-8, kept as a lone surrogate
        "\U0001f916\U0001f914",
        "\x00",
        "what\x00 is \x1b[31m mlops",
    ]
    groups = group_gaps(stored, FakeEncoder(), limit=10)
    wordings = [wording for group in groups for wording in group.wordings]
    assert "leetcode for ml interviews?" in wordings and "what is [31m mlops" in wordings
    for wording in wordings:  # each can be shown, embedded, saved, and made a paraphrase
        wording.encode("utf-8")
        assert wording.strip() and wording.isprintable() and len(wording) <= MAX_PARAPHRASE_CHARS
    assert sum(group.count for group in groups) == 5  # empty, blank, NUL-only: no question; 2 are alike
