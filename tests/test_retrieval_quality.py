"""Retrieval quality on the real model over the shipped knowledge. These gate on the eval figures.

They load sentence-transformers (about 6 s) and embed the knowledge once per session into a
temporary index; everything else in the suite runs on the fake encoder.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from careerbot.answering import Answerer
from careerbot.config import load_config
from careerbot.engine import open_engine
from careerbot.evaluation import EvalReport, evaluate
from careerbot.knowledge.eval_file import load_eval

pytestmark = pytest.mark.model
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    config = load_config(REPO / "bot.toml")
    config = dataclasses.replace(
        config, index=dataclasses.replace(config.index, dir=tmp_path_factory.mktemp("index"))
    )
    answerer, report = open_engine(config)
    assert not report.loaded and report.embedded == report.documents
    return answerer


@pytest.fixture(scope="session")
def report(engine: Answerer) -> EvalReport:
    cases, problems = load_eval(REPO / "knowledge" / "eval.yaml", engine.knowledge)
    assert problems == []
    return evaluate(engine, cases)


def test_ranking_meets_the_goals(report: EvalReport) -> None:
    assert report.hit_at_1 >= 0.85, report.as_dict()
    assert report.hit_at_3 >= 0.95, report.as_dict()


def test_abstention_meets_the_goals(report: EvalReport) -> None:
    assert report.decline_recall >= 0.90, report.as_dict()
    assert report.false_decline <= 0.05, report.as_dict()


@pytest.mark.parametrize(
    ("question", "expected"),
    [("sklearn", "scikit-learn"), ("azure", "azure-ml"), ("k8s?", "docker-kubernetes")],
)
def test_bare_keywords_find_their_entry(engine: Answerer, question: str, expected: str) -> None:
    answer = engine.answer(question)
    assert [c.item_id for c in answer.candidates[:3]].count(expected) == 1, answer.candidates[:3]


@pytest.mark.parametrize("question", ["🤖🔥💯", "Wie wird man Machine-Learning-Ingenieur?", "a" * 4000, "?!"])
def test_odd_input_answers_or_declines(engine: Answerer, question: str) -> None:
    answer = engine.answer(question)
    assert answer.abstained or answer.id is not None
