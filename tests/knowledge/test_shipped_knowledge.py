"""Every knowledge file that ships loads and meets the content rules."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from careerbot.knowledge import TOPICS, validate_knowledge
from careerbot.knowledge.eval_file import load_eval

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def test_every_shipped_file_is_valid() -> None:
    knowledge, problems = validate_knowledge(KNOWLEDGE)
    assert problems == []
    assert knowledge is not None
    assert len(knowledge.entries) >= 60
    assert set(Counter(entry.topic for entry in knowledge.entries)) == set(TOPICS)
    assert all(len(entry.paraphrases) >= 3 for entry in knowledge.entries)
    assert len(knowledge.passages) >= 3


def test_eval_set_is_labelled_and_not_copied() -> None:
    knowledge, _ = validate_knowledge(KNOWLEDGE)
    assert knowledge is not None
    cases, problems = load_eval(KNOWLEDGE / "eval.yaml", knowledge)
    assert problems == []
    assert sum(case.in_scope for case in cases) >= 80
    assert sum(not case.in_scope for case in cases) >= 15
