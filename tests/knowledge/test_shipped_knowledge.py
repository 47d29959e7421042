"""Every knowledge file that ships loads and meets the content rules."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rapidfuzz import fuzz, process

from careerbot.knowledge import TOPICS, validate_knowledge
from careerbot.knowledge.eval_file import judged_key, load_eval, load_judgments
from careerbot.knowledge.models import OUT_OF_SCOPE

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def test_every_shipped_file_is_valid() -> None:
    knowledge, problems = validate_knowledge(KNOWLEDGE)
    assert problems == []
    assert knowledge is not None
    assert len(knowledge.entries) >= 200
    assert set(Counter(entry.topic for entry in knowledge.entries)) == {*TOPICS, OUT_OF_SCOPE}
    assert all(len(entry.paraphrases) >= 3 for entry in knowledge.entries)
    assert len(knowledge.passages) >= 3


def test_the_regression_set_is_labelled_and_not_copied() -> None:
    knowledge, _ = validate_knowledge(KNOWLEDGE)
    assert knowledge is not None
    cases, problems = load_eval(KNOWLEDGE / "eval" / "regression.yaml", knowledge)
    assert problems == []
    assert sum(case.in_scope for case in cases) >= 80
    assert sum(not case.in_scope for case in cases) >= 15


@pytest.mark.parametrize(("name", "size"), [("dev", 250), ("test", 150)])
def test_the_real_question_sets_are_sourced_and_hold_hard_negatives(name: str, size: int) -> None:
    knowledge, _ = validate_knowledge(KNOWLEDGE)
    assert knowledge is not None
    cases, problems = load_eval(KNOWLEDGE / "eval" / f"{name}.yaml", knowledge)
    assert problems == []
    assert len(cases) >= size
    assert all(case.source for case in cases)
    assert sum(not case.in_scope for case in cases) >= 0.15 * len(cases)
    assert len({case.question for case in cases}) == len(cases)


def test_no_question_is_in_both_dev_and_test() -> None:
    knowledge, _ = validate_knowledge(KNOWLEDGE)
    assert knowledge is not None
    dev, _ = load_eval(KNOWLEDGE / "eval" / "dev.yaml", knowledge)
    test, _ = load_eval(KNOWLEDGE / "eval" / "test.yaml", knowledge)
    # One post restated twice (found on two mirror sites, say) must not sit on both sides.
    closest = process.cdist(
        [c.question for c in dev], [c.question for c in test], scorer=fuzz.ratio, workers=1
    )
    assert closest.max() < 85


def test_every_test_question_was_judged_blind_on_a_reply_careerbot_can_give() -> None:
    knowledge, _ = validate_knowledge(KNOWLEDGE)
    assert knowledge is not None
    cases, _ = load_eval(KNOWLEDGE / "eval" / "test.yaml", knowledge)
    judgments = load_judgments(KNOWLEDGE / "eval" / "judged" / "test.yaml")
    assert {judged_key(c.question) for c in cases} == set(judgments)
    assert all(j.reply == "declined" or knowledge.get(j.reply) is not None for j in judgments.values())
