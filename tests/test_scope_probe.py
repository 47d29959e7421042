"""benchmarks/scope_probe.py on the fake encoder: no probe ever scores a question it was trained on (else
the out-of-fold figures would be a lie), and the probe can only add declines, never turn one into an
answer, nor keep a question in another language from being told "English only"."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from careerbot.config import Config
from careerbot.engine.answering import ENGLISH_ONLY, NOT_SURE, Answer, Answerer
from careerbot.engine.evaluation import evaluate
from careerbot.engine.loading import load_engine
from careerbot.knowledge.eval_file import EvalCase
from tests.benchmark_scripts import load_benchmark
from tests.conftest import write_entry
from tests.fakes import FakeEncoder
from tests.test_phrasings_kfold import ASKS as PHRASINGS_ASKS

REASON = "Printers and scanners are not my field, so ask their maker's support forum."

# tests/test_phrasings_kfold.py's asks, and more out of scope: the entry answering each, or None.
ASKS = [
    *PHRASINGS_ASKS,
    ("how do I get my scanner driver working on linux, it says device not found", None),
    ("is becoming a paramedic a good move at 35", None),
    ("my scanner driver install fails with an error on windows", None),
]
NOT_ENGLISH = "Wie viel verdient ein Ingenieur für maschinelles Lernen in Deutschland ungefähr?"


@pytest.fixture(scope="module")
def bench() -> Any:
    return load_benchmark("scope_probe")


@pytest.fixture
def answerer(config: Config, knowledge_dir: Path, fake_encoder: FakeEncoder) -> Answerer:
    asks = ["printer driver will not install", "scanner not detected", "printer offline error fix"]
    write_entry(
        knowledge_dir, "out-of-scope/printer-support", "Getting a printer or scanner to work", asks, REASON
    )
    return load_engine(config, encoder=fake_encoder)[0].answerer


def cases() -> list[EvalCase]:
    asked = [
        EvalCase(question, (answer,) if answer else (), in_scope=answer is not None)
        for question, answer in ASKS
    ]
    return [*asked, EvalCase(NOT_ENGLISH, ("salary",), language="de")]


def context(bench: Any, answerer: Answerer, folds: list[list[EvalCase]]) -> Any:
    questions = [case.question for fold in folds for case in fold]
    answers = answerer.answer_many(questions)
    asked = {q: a.question for q, a in zip(questions, answers, strict=True)}
    phrasings = bench.phrasing_examples(answerer.knowledge)
    texts = [e.text for e in phrasings] + list(asked.values())
    vectors = dict(zip(texts, FakeEncoder().encode_queries(texts), strict=True))
    return bench.Context(phrasings, folds, asked, vectors, {a.question: a for a in answers})


@pytest.mark.parametrize("variant", ["phrasings+dev", "phrasings"])
def test_no_probe_ever_scores_a_question_it_was_trained_on(
    bench: Any, answerer: Answerer, monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    folds = bench.split(cases(), 3, bench.SEED)
    ctx = context(bench, answerer, folds)
    trained: dict[int, set[str]] = {}
    probes: list[Any] = []  # kept alive, so their ids stay theirs
    scored: list[tuple[set[str], set[str]]] = []
    real_fit, real_probabilities = bench.fit, bench.Context.probabilities

    def fit(examples: Sequence[Any], vectors: Any, c: float) -> Any:
        probe = real_fit(examples, vectors, c)
        probes.append(probe)
        trained[id(probe)] = {e.text for e in examples}
        return probe

    def probabilities(self: Any, probe: Any, asked_cases: Sequence[EvalCase]) -> dict[str, float]:
        p: dict[str, float] = real_probabilities(self, probe, asked_cases)
        scored.append((trained[id(probe)], set(p)))
        return p

    monkeypatch.setattr(bench, "fit", fit)
    monkeypatch.setattr(bench.Context, "probabilities", probabilities)
    run = bench.run_variant(ctx, variant)

    assert scored, "nothing was scored"
    for training, asked in scored:
        assert not training & asked, f"scored questions it was trained on: {training & asked}"
    english = {ctx.asked[c.question] for fold in folds for c in fold if c.english}
    assert set(run["p_out"]) == english  # every English dev question scored out of fold, once
    questions_trained = set().union(*trained.values()) & english
    assert bool(questions_trained) == (variant == "phrasings+dev")


def test_training_examples_leave_the_held_out_folds_out(bench: Any) -> None:
    folds = bench.split(cases(), 3, bench.SEED)
    asked = {c.question: c.question for fold in folds for c in fold}
    phrasings = [bench.Example("pytorch uses", False), bench.Example("cuda error", True)]
    for k, held_out in enumerate(folds):
        texts = {e.text for e in bench.training_examples(phrasings, folds, asked, [k], True)}
        assert not texts & {c.question for c in held_out}
        others = {c.question for j, fold in enumerate(folds) if j != k for c in fold if c.english}
        assert others <= texts and {"pytorch uses", "cuda error"} <= texts
        assert NOT_ENGLISH not in texts


def replies(answerer: Answerer) -> list[Answer]:
    """One of each kind: answered, declined by an out-of-scope entry, declined below the threshold,
    uncertain choices, and a question not in English."""
    answered, by_entry, below, other_language = answerer.answer_many(
        [
            "pytorch uses for deep learning",
            "printer driver will not install, scanner not detected, printer offline",
            "zzz qqq xxyy",
            NOT_ENGLISH,
        ]
    )
    uncertain = dataclasses.replace(answered, abstained=True, uncertain=True, text=NOT_SURE, id=None)
    assert not answered.abstained and by_entry.declined_by == "printer-support"
    assert below.abstained and below.declined_by is None and not below.uncertain
    assert other_language.text == ENGLISH_ONLY
    return [answered, by_entry, below, uncertain, other_language]


def test_the_probe_never_turns_a_decline_into_an_answer(bench: Any, answerer: Answerer) -> None:
    for reply in replies(answerer):
        for probe_out in (False, True):
            after = bench.combined(reply, probe_out, "declined")
            if reply.abstained and not reply.uncertain:
                assert after == reply  # a decline stays exactly as it was (its reason too)
            if not after.abstained:
                assert not probe_out and after == reply
            if probe_out and reply.language == "en":
                assert after.abstained and not after.uncertain and after.id is None
            if reply.language != "en":
                assert after == reply  # still told "English only"


def test_probe_declines_count_as_declines_in_evaluate(bench: Any, answerer: Answerer) -> None:
    asked = cases()
    shipped = evaluate(answerer, asked)
    answers = answerer.answer_many([c.question for c in asked])
    everything = bench.ProbedAnswerer(answerer, dict.fromkeys((a.question for a in answers), True))
    probed = evaluate(everything, asked)
    assert shipped.answered_right > 0 and probed.answered_right == 0
    assert probed.false_decline == probed.decline_recall == 1.0
    assert probed.told_english == shipped.told_english == 1.0
    assert evaluate(bench.ProbedAnswerer(answerer, {}), asked) == shipped
    assert np.isclose(probed.hit_at_3, shipped.hit_at_3)  # the ranking is the shipped one
