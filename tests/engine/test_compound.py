"""Compound questions: the main answer, then a short second part from another entry (issue 11)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import pytest

from careerbot.cli.render import render_answer, render_eval
from careerbot.config import AnsweringConfig, Config
from careerbot.engine.answering import Answerer
from careerbot.engine.compound import question_sentences, short_answer
from careerbot.engine.evaluation import evaluate
from careerbot.engine.loading import load_engine
from careerbot.knowledge.eval_file import EvalCase
from careerbot.retrieval.candidate import Candidate
from tests.engine.test_answering import FixedSearcher
from tests.fakes import FakeEncoder

COMPOUND = "What is PyTorch used for? How much do ML engineers earn?"


def answerer_with(config: Config, fake_encoder: FakeEncoder, **answering: object) -> Answerer:
    changed = dataclasses.replace(config, answering=dataclasses.replace(config.answering, **answering))
    return load_engine(changed, encoder=fake_encoder)[0].answerer


def test_a_compound_question_gets_the_main_answer_then_a_short_second_part(
    config: Config, fake_encoder: FakeEncoder
) -> None:
    on = answerer_with(config, fake_encoder, further_answers=True, further_min_score=0.6)
    off = answerer_with(config, fake_encoder, further_answers=False)
    answer = on.answer(COMPOUND)
    assert answer.id == off.answer(COMPOUND).id == "salary"  # the main answer does not change
    data = json.loads(json.dumps(answer.to_json()))
    assert data["further_answers"] == [
        {
            "id": "pytorch",
            "title": "What is PyTorch used for?",
            "score": pytest.approx(answer.further[0].score, abs=1e-4),
            "text": "PyTorch builds and trains neural networks.",
            "shortened": False,
            "sources": [{"title": "A Test Article", "section": "a-test-article/what-the-job-involves"}],
        }
    ]
    assert answer.further[0].score >= 0.6
    assert "pytorch" not in {s.id for s in (*answer.related, *answer.did_you_mean)}, "not offered twice"


def test_the_terminal_shows_the_second_part_after_the_main_answer(
    config: Config, fake_encoder: FakeEncoder
) -> None:
    on = answerer_with(config, fake_encoder, further_answers=True, further_min_score=0.6)
    text = render_answer(on.answer(COMPOUND))
    main = text.index("It depends on country and seniority.")
    second = text.index("also, for another part of your question: What is PyTorch used for?  [pytorch]")
    assert main < second < text.index("PyTorch builds and trains neural networks.")
    assert text.count("source: A Test Article") == 2  # the second part names its own source


def test_no_second_part_when_the_setting_is_off(config: Config, fake_encoder: FakeEncoder) -> None:
    off = answerer_with(config, fake_encoder, further_answers=False, further_min_score=0.6)
    answer = off.answer(COMPOUND)
    assert answer.further == () and answer.to_json()["further_answers"] == []
    assert "another part of your question" not in render_answer(answer)


def test_a_one_sentence_question_gets_no_second_part(config: Config, fake_encoder: FakeEncoder) -> None:
    on = answerer_with(config, fake_encoder, further_answers=True, further_min_score=0.0)
    assert on.answer("pytorch or sklearn, and how much money?").further == ()


def hit(item_id: str, score: float, rank: float | None = None) -> Candidate:
    return Candidate(item_id, score, score if rank is None else rank, "question", 0.0)


POST = "I do deep learning. What is PyTorch used for? What is scikit-learn used for?"
SENTENCES = ["What is PyTorch used for?", "What is scikit-learn used for?"]


def fixed(knowledge_answerer: Answerer, sklearn_sentence: list[Candidate], **settings: object) -> Answerer:
    found = {
        POST: [hit("pytorch", 0.80), hit("scikit-learn", 0.75), hit("salary", 0.5)],
        SENTENCES[0]: [hit("pytorch", 0.9), hit("scikit-learn", 0.6)],
        SENTENCES[1]: sklearn_sentence,
    }
    config = AnsweringConfig(**{"min_score": 0.5, "further_answers": True, **settings})  # type: ignore[arg-type]
    return Answerer(knowledge_answerer.knowledge, FixedSearcher(found), config)


@pytest.fixture
def answerer(config: Config, fake_encoder: FakeEncoder) -> Answerer:
    return load_engine(config, encoder=fake_encoder)[0].answerer


@pytest.mark.parametrize(
    ("sklearn_sentence", "second"),
    [
        ([hit("scikit-learn", 0.9), hit("pytorch", 0.6)], ["scikit-learn"]),  # a different ask
        # Near-duplicates: the main entry ranks about as high on the other sentence too.
        ([hit("scikit-learn", 0.9), hit("pytorch", 0.89)], []),
        ([hit("pytorch", 0.9), hit("scikit-learn", 0.85)], []),  # the main entry answers both
    ],
)
def test_the_second_entry_must_answer_a_sentence_the_main_entry_does_not(
    answerer: Answerer, sklearn_sentence: list[Candidate], second: list[str]
) -> None:
    answer = fixed(answerer, sklearn_sentence).answer(POST)
    assert answer.id == "pytorch"
    assert [f.id for f in answer.further] == second


def test_the_thresholds_come_from_the_settings(answerer: Answerer) -> None:
    different = [hit("scikit-learn", 0.9), hit("pytorch", 0.6)]
    assert fixed(answerer, different, further_min_score=0.76).answer(POST).further == ()  # 0.75 < 0.76
    assert fixed(answerer, different, further_within=2, further_min_score=0.7).answer(POST).further
    assert fixed(answerer, different, further_sentence_margin=0.5).answer(POST).further == ()


def test_the_eval_counts_second_parts_and_how_many_are_expected(answerer: Answerer) -> None:
    right = EvalCase(POST, ("pytorch", "scikit-learn"))
    wrong = EvalCase(POST, ("pytorch",))
    different = [hit("scikit-learn", 0.9), hit("pytorch", 0.6)]
    on = evaluate(fixed(answerer, different), [right, wrong])
    off = evaluate(fixed(answerer, different, further_answers=False), [right, wrong])
    assert (on.further_shown, on.further_right, on.further_precision) == (2, 1, 0.5)
    assert (off.further_shown, off.further_right) == (0, 0)
    assert on.hit_at_1 == off.hit_at_1 == 1.0
    assert on.as_dict()["further_precision"] == 0.5
    assert "further answers at 0.50: 1 of 2 second parts are an expected entry (50%)" in render_eval([on])
    assert "further answers" not in render_eval([off])


def test_question_sentences_are_the_asks_of_a_longer_post() -> None:
    assert question_sentences("What is PyTorch used for?") == []
    assert question_sentences("I code. Is ML hard? Pay! What about pay?") == [
        "Is ML hard?",
        "What about pay?",
    ]


def test_the_short_answer_keeps_whole_lines_or_cuts_at_a_sentence() -> None:
    lines = "First line.\n- a point\n" + "x " * 400
    assert short_answer(lines, 40) == ("First line.\n- a point", True)
    assert short_answer("Short.", 40) == ("Short.", False)
    long_line = "One sentence here. " + "word " * 100
    assert short_answer(long_line, 45) == ("One sentence here.", True)
    text, shortened = short_answer("word " * 100, 60)
    assert shortened and text.endswith("…") and len(text) <= 61


class RecordingSearcher(FixedSearcher):
    def __init__(self, found: dict[str, list[Candidate]]) -> None:
        super().__init__(found)
        self.calls: list[list[str]] = []

    def search_many(self, questions: Sequence[str], limit: int = 10) -> list[list[Candidate]]:
        self.calls.append(list(questions))
        return super().search_many(questions, limit)


def test_sentences_are_searched_only_when_a_second_part_could_follow(answerer: Answerer) -> None:
    found = {
        POST: [hit("pytorch", 0.80), hit("scikit-learn", 0.75)],
        "Plain. What about pay?": [hit("salary", 0.80), hit("pytorch", 0.3)],  # no runner-up high enough
        SENTENCES[0]: [hit("pytorch", 0.9)],
        SENTENCES[1]: [hit("scikit-learn", 0.9)],
    }
    searcher = RecordingSearcher(found)
    on = Answerer(answerer.knowledge, searcher, AnsweringConfig(min_score=0.5, further_answers=True))
    on.answer_many([POST, "Plain. What about pay?"])
    # The posts in one call; the one post that could have a second part has its sentences in another.
    assert searcher.calls == [[POST, "Plain. What about pay?"], SENTENCES]
    searcher.calls.clear()
    Answerer(answerer.knowledge, searcher, AnsweringConfig(min_score=0.5)).answer(POST)
    assert searcher.calls == [[POST]], "off: nothing searched beyond the post"
