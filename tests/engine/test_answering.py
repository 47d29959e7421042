from __future__ import annotations

import dataclasses
import json

import pytest

from careerbot.config import Config
from careerbot.engine.answering import Answerer, QuestionError
from careerbot.engine.loading import load_engine
from tests.fakes import FakeEncoder


@pytest.fixture
def answerer(config: Config, fake_encoder: FakeEncoder) -> Answerer:
    engine, _ = load_engine(config, encoder=fake_encoder)
    return engine.answerer


def test_a_known_question_gets_its_entry_with_sources(answerer: Answerer) -> None:
    answer = answerer.answer("What is PyTorch used for?")
    assert not answer.abstained
    assert (answer.id, answer.topic, answer.title) == ("pytorch", "stack", "What is PyTorch used for?")
    assert answer.text == "PyTorch builds and trains neural networks."
    assert answer.score == pytest.approx(1.0, abs=1e-5)
    assert answer.confidence == "high"
    assert answer.sources[0].section == "a-test-article/what-the-job-involves"
    assert answer.reviewed_on is not None and answer.reviewed_on.isoformat() == "2026-11-23"


def test_related_questions_are_other_entries(answerer: Answerer) -> None:
    answer = answerer.answer("sklearn uses")
    assert answer.id == "scikit-learn"
    assert 2 <= len(answer.related) <= 3
    assert "scikit-learn" not in {s.id for s in answer.related}
    assert all(s.title for s in answer.related)


def test_an_unrelated_question_is_declined_with_what_it_can_answer(answerer: Answerer) -> None:
    answer = answerer.answer("zebra quantum lasagna")
    assert answer.abstained and answer.id is None
    assert answer.text.startswith("I don't know that one.")
    for blurb in ("what ML engineers do day to day", "how ML engineers differ from related roles"):
        assert blurb in answer.text
    assert answer.to_json()["answer"] is None


def test_a_stricter_threshold_declines_what_the_default_answers(answerer: Answerer) -> None:
    assert not answerer.answer("torch for deep learning please").abstained
    assert answerer.answer("torch for deep learning please", min_score=0.99).abstained


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_an_empty_question_gets_a_clear_message(answerer: Answerer, question: str) -> None:
    with pytest.raises(QuestionError, match="Please type a question"):
        answerer.answer(question)


def test_a_very_long_question_is_answered_on_its_first_part(answerer: Answerer) -> None:
    head = "What is PyTorch used for? " * 40  # 1,040 characters: the cut falls in here
    question = head + "sklearn uses scikit learn " * 120  # would win if the tail were read
    answer = answerer.answer(question)
    assert answer.truncated
    assert len(answer.question) <= 1000
    assert answer.question.split()[-1] in {"What", "is", "PyTorch", "used", "for?"}  # cut between words
    assert answer.id == "pytorch"


@pytest.mark.parametrize("question", ["🤖🤖🤖", "¿Qué hace un ingeniero de aprendizaje automático?", "!!!"])
def test_input_sharing_no_word_with_the_knowledge_is_declined(answerer: Answerer, question: str) -> None:
    answer = answerer.answer(question)
    assert answer.abstained and answer.id is None and answer.candidates[0].score < 0.5
    assert answer.text.startswith("I don't know that one.")


def test_near_ties_are_offered_as_did_you_mean(config: Config, fake_encoder: FakeEncoder) -> None:
    wide = dataclasses.replace(
        config, answering=dataclasses.replace(config.answering, tie_margin=1.0, min_score=0.1)
    )
    engine, _ = load_engine(wide, encoder=fake_encoder)
    answer = engine.answerer.answer("machine learning engineer data scientist")
    assert not answer.abstained
    assert answer.did_you_mean, "every candidate above the threshold is a near tie at margin 1.0"
    assert answer.confidence != "high"
    assert answer.id not in {s.id for s in answer.did_you_mean}
    assert not {s.id for s in answer.did_you_mean} & {s.id for s in answer.related}


def test_answer_many_matches_answer(answerer: Answerer) -> None:
    questions = ["mle vs ds", "how much money", "zebra quantum lasagna"]
    batched = answerer.answer_many(questions)
    assert [a.id for a in batched] == [answerer.answer(q).id for q in questions]


def test_json_shape(answerer: Answerer) -> None:
    data = json.loads(json.dumps(answerer.answer("maths for ml").to_json()))
    assert set(data) == {"question", "abstained", "answer", "related", "did_you_mean"}
    assert set(data["answer"]) >= {"id", "title", "topic", "score", "text", "sources"}
    assert data["answer"]["id"] == "math-needed"
    assert all(set(r) == {"id", "title"} for r in data["related"])


def test_a_passage_can_be_the_answer(answerer: Answerer) -> None:
    answer = answerer.answer("Gathering data, training models, shipping them to production")
    assert answer.id == "a-test-article/what-the-job-involves"
    assert answer.title == "What the job involves" and answer.topic == "duties"
    assert answer.sources[0].title == "A Test Article (Test Author)"
