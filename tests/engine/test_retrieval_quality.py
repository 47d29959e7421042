"""Retrieval quality on the real model over the shipped knowledge. These gate on the eval figures.

They load sentence-transformers (about 6 s) and embed the knowledge once per session into a
temporary index; everything else in the suite runs on the fake encoder.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from careerbot.config import load_config
from careerbot.engine.answering import Answerer
from careerbot.engine.evaluation import EvalReport, evaluate
from careerbot.engine.loading import load_engine
from careerbot.knowledge.eval_file import load_eval, load_judgments

pytestmark = pytest.mark.model
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    config = load_config(REPO / "bot.toml")
    config = dataclasses.replace(
        config, index=dataclasses.replace(config.index, dir=tmp_path_factory.mktemp("index"))
    )
    engine, report = load_engine(config)
    assert not report.loaded and report.embedded == report.documents
    return engine.answerer


def figures(answerer: Answerer, name: str) -> EvalReport:
    cases, problems = load_eval(REPO / "knowledge" / "eval" / f"{name}.yaml", answerer.knowledge)
    assert problems == []
    return evaluate(
        answerer, cases, judgments=load_judgments(REPO / "knowledge" / "eval" / "judged" / f"{name}.yaml")
    )


@pytest.fixture(scope="session")
def test_split(answerer: Answerer) -> EvalReport:
    return figures(answerer, "test")


@pytest.fixture(scope="session")
def report(answerer: Answerer) -> EvalReport:
    return figures(answerer, "regression")


# Issue 11's goals, on the frozen test split of real people's questions (settings as shipped):
# hit@1 >= 0.85, hit@3 >= 0.95, out-of-scope declined >= 90 % with in-scope declined <= 5 %.
# Measured (README): hit@1 0.579, hit@3 0.738, out-of-scope declined 71.4 %, in-scope declined 2.8 %;
# judged blind, 45.8 % of the in-scope replies relevant. (Before the 38 entries written from dev's second
# collection: hit@1 0.607, hit@3 0.766, in-scope declined 0.9 %, 47.7 % relevant; the change is 2-3
# questions, inside the noise of 107, and was not undone: that would be choosing content on test.)
# The floors sit a little under the measured figures, so a regression fails CI; the strict xfail says the
# goals are open and fails once they are met, so that the floors get raised.
TEST_FLOOR = {"hit@1": 0.56, "hit@3": 0.72, "declined out": 0.68, "declined in": 0.05}
TEST_GOAL = {"hit@1": 0.85, "hit@3": 0.95, "declined out": 0.90, "declined in": 0.05}


def short_of(report: EvalReport, bar: dict[str, float]) -> list[str]:
    """The figures of `report` that miss `bar`: the rates below it, in-scope declines above it."""
    rates = {"hit@1": report.hit_at_1, "hit@3": report.hit_at_3, "declined out": report.decline_recall}
    missed = [f"{name} {value:.3f} < {bar[name]}" for name, value in rates.items() if value < bar[name]]
    if report.false_decline > bar["declined in"]:
        missed.append(f"declined in {report.false_decline:.3f} > {bar['declined in']}")
    return missed


def test_real_questions_hold_their_measured_floor(test_split: EvalReport) -> None:
    assert short_of(test_split, TEST_FLOOR) == [], test_split.as_dict()


def test_the_judged_replies_are_the_replies_careerbot_gives(test_split: EvalReport) -> None:
    # eval/judged/test.yaml judges the replies of one version; a change to any reply must be judged again.
    assert test_split.judged == 107 and test_split.changed == 0, test_split.as_dict()


@pytest.mark.xfail(
    strict=True, reason="issue 11 goals not met (blocked): test split hit@1 0.579, hit@3 0.738, 71 % declined"
)
def test_real_questions_meet_the_goals(test_split: EvalReport) -> None:
    assert short_of(test_split, TEST_GOAL) == []
    assert test_split.judged_relevant >= 0.90 and test_split.judged_wrong <= 0.03


# The team's regression set, relabelled for the new entries: hit@1 0.801, hit@3 0.919, out-of-scope
# declined 100 % (91.4 % with the 64 entries before issue 11; 88.6 % before the last 9 out-of-scope kinds).
REGRESSION_FLOOR = {"hit@1": 0.79, "hit@3": 0.90, "declined out": 0.85, "declined in": 0.05}


def test_the_regression_set_holds_its_measured_floor(report: EvalReport) -> None:
    assert short_of(report, REGRESSION_FLOOR) == [], report.as_dict()


@pytest.mark.parametrize(
    ("question", "expected"),
    [("sklearn", "scikit-learn"), ("azure", "azure-ml"), ("k8s?", "docker-kubernetes")],
)
def test_bare_keywords_find_their_entry(answerer: Answerer, question: str, expected: str) -> None:
    answer = answerer.answer(question)
    assert [c.item_id for c in answer.candidates[:3]].count(expected) == 1, answer.candidates[:3]


@pytest.mark.parametrize("question", ["🤖🔥💯", "a" * 4000, "?!"])
def test_input_with_no_question_in_it_is_declined(answerer: Answerer, question: str) -> None:
    answer = answerer.answer(question)
    assert answer.abstained and answer.id is None
    assert answer.text.startswith("I don't know that one.")


def test_a_question_not_in_english_is_told_careerbot_answers_in_english(answerer: Answerer) -> None:
    answer = answerer.answer("Wie wird man Machine-Learning-Ingenieur?")
    assert answer.abstained and answer.language == "de" and "English" in answer.text


def test_every_question_not_in_english_in_the_regression_set_is_told_so(report: EvalReport) -> None:
    assert report.not_english == 3 and report.told_english == 1.0, report.as_dict()
