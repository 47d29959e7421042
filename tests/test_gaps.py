from __future__ import annotations

from careerbot.gaps import group_gaps
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
