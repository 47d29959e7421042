"""Out-of-scope entries (faq/out-of-scope/): asks careerbot declines, with a reason that says where to ask."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from careerbot.config import Config
from careerbot.engine.answering import Answerer
from careerbot.engine.loading import load_engine
from careerbot.knowledge import load_knowledge
from careerbot.knowledge.titles import TitleIndex
from tests.conftest import write_entry
from tests.fakes import FakeEncoder

REASON = "I can't debug code or setups; ask on the library's forum with the full error."


@pytest.fixture
def answerer(config: Config, knowledge_dir: Path, fake_encoder: FakeEncoder) -> Answerer:
    write_entry(
        knowledge_dir,
        "out-of-scope/debugging-errors",
        "Fixing an error in my code or install",
        ["cuda error when installing pytorch", "traceback fix my error", "module not found error fix"],
        REASON,
    )
    return load_engine(config, encoder=fake_encoder)[0].answerer


def test_matching_an_out_of_scope_entry_declines_with_its_reason(answerer: Answerer) -> None:
    answer = answerer.answer("cuda error when installing pytorch on windows, fix my error please")
    assert answer.abstained and answer.id is None
    assert answer.declined_by == "debugging-errors"
    assert answer.text == REASON
    assert answer.to_json()["answer"] is None


def test_out_of_scope_entries_are_never_offered_as_answers_or_suggestions(answerer: Answerer) -> None:
    for question in ["pytorch uses", "torch for deep learning error", "what is pytorch used for, fix"]:
        answer = answerer.answer(question)
        offered = {answer.id, *(s.id for s in answer.related), *(s.id for s in answer.did_you_mean)}
        assert "debugging-errors" not in offered, answer


def test_a_real_entry_that_matches_nearly_as_well_is_still_offered(
    config: Config, answerer: Answerer
) -> None:
    settings = dataclasses.replace(config.answering, tie_margin=1.0, min_score=0.1)
    wide = Answerer(answerer.knowledge, answerer._searcher, settings)
    answer = wide.answer("pytorch error fix traceback")
    assert answer.declined_by == "debugging-errors"
    assert "pytorch" in {s.id for s in answer.did_you_mean}


def test_out_of_scope_entries_validate_and_stay_out_of_autocomplete(
    answerer: Answerer, knowledge_dir: Path
) -> None:
    knowledge = load_knowledge(knowledge_dir)
    assert knowledge.get("debugging-errors") is not None
    titles = TitleIndex(knowledge)
    assert "debugging-errors" not in [e.id for e in titles.find("fix my error")]
    assert "debugging-errors" not in [e.id for e in titles.find("")]
