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
from careerbot.knowledge.eval_file import load_eval

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


@pytest.fixture(scope="session")
def report(answerer: Answerer) -> EvalReport:
    cases, problems = load_eval(REPO / "knowledge" / "eval" / "regression.yaml", answerer.knowledge)
    assert problems == []
    return evaluate(answerer, cases)


# The goals for ranking are hit@1 >= 0.85 and hit@3 >= 0.95; measured: 0.816 and 0.941 (see the
# README). The floor below guards what has been reached; the xfail test says the goal is still open, and,
# being strict, fails once the goal is met so that the floor gets raised.
RANKING_FLOOR = {"hit@1": 0.80, "hit@3": 0.93}
RANKING_GOAL = {"hit@1": 0.85, "hit@3": 0.95}


def test_ranking_holds_its_measured_floor(report: EvalReport) -> None:
    assert report.hit_at_1 >= RANKING_FLOOR["hit@1"], report.as_dict()
    assert report.hit_at_3 >= RANKING_FLOOR["hit@3"], report.as_dict()


@pytest.mark.xfail(strict=True, reason="ranking goal not met yet: hit@1 0.816, hit@3 0.941 measured")
def test_ranking_meets_the_goal(report: EvalReport) -> None:
    assert report.hit_at_1 >= RANKING_GOAL["hit@1"] and report.hit_at_3 >= RANKING_GOAL["hit@3"]


def test_abstention_meets_the_goals(report: EvalReport) -> None:
    assert report.decline_recall >= 0.90, report.as_dict()
    assert report.false_decline <= 0.05, report.as_dict()


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
