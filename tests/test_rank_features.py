"""benchmarks/rank_features.py's scoring and learning, on small hand-made candidate tables: the figures
it reports must be the ones its rankings give, and what it learns must follow the labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def bench() -> Any:
    return load_benchmark("rank_features")


def table(bench: Any, columns: dict[str, list[list[float]]], expected: list[list[bool]]) -> Any:
    """A table whose named feature columns are given per question and candidate (the rest 0)."""
    shape = np.array(expected).shape
    x = np.zeros((*shape, len(bench.FEATURES)))
    for name, values in columns.items():
        x[..., bench.FEATURES.index(name)] = values
    ids = [[f"q{q}c{c}" for c in range(shape[1])] for q in range(shape[0])]
    return bench.Table(x, np.array(expected), np.ones(shape, dtype=bool), ids)


def test_figures_are_those_of_the_ranking_and_an_absent_answer_is_a_miss(bench: Any) -> None:
    scores = np.array([[0.9, 0.5, 0.1], [0.9, 0.5, 0.1], [0.9, 0.5, 0.1], [0.9, 0.5, 0.1]])
    expected = [
        [True, False, False],  # first: hit@1
        [False, False, True],  # third, but the second slot is empty (below): second
        [False, True, True],  # second (the best-placed expected one counts)
        [False, False, False],  # not among the candidates: a miss everywhere
    ]
    candidates = table(bench, {"top2": scores.tolist()}, expected)
    candidates.present[1, 1] = False  # an empty slot is never ranked: question 1's answer moves up
    figures = bench.metrics(scores, candidates, np.arange(4))
    assert figures.hit_at_1 == pytest.approx(1 / 4)
    assert figures.hit_at_3 == pytest.approx(3 / 4)
    assert figures.mrr == pytest.approx((1 + 1 / 2 + 1 / 2 + 0) / 4)


def test_the_grid_learns_the_keyword_weight_that_puts_the_expected_entries_first(bench: Any) -> None:
    # Candidate 0 has the better cosines, candidate 1 the keywords; 1 is the answer, and needs a
    # bm25 weight above 0.1 to win (0.05 / 0.5 on the first question, 0.09 / 0.8 on the second).
    candidates = table(
        bench,
        {"top2": [[0.70, 0.65], [0.80, 0.71]], "bm25": [[0.5, 1.0], [0.2, 1.0]]},
        [[False, True], [False, True]],
    )
    model = bench.Grid((("bm25", (0.0, 0.05, 0.1, 0.15, 0.2)),))
    weights = model.fit(candidates, np.arange(2))
    assert weights.tolist() == [1.0, 0.15]  # the smallest weight that ranks both answers first
    scores = bench.linear_scores(candidates, model.features, weights)
    assert bench.metrics(scores, candidates, np.arange(2)).hit_at_1 == 1.0


def test_the_softmax_weighs_a_feature_by_whether_it_marks_the_answers(bench: Any) -> None:
    rng = np.random.default_rng(0)
    questions, count = 40, 5
    expected = np.zeros((questions, count), dtype=bool)
    expected[np.arange(questions), rng.integers(0, count, questions)] = True
    marks = np.where(expected, 1.0, 0.0) + rng.normal(0, 0.3, (questions, count))  # tracks the answer
    misleads = np.where(expected, 0.0, 1.0) + rng.normal(0, 0.3, (questions, count))  # tracks the others
    candidates = table(bench, {"top2": marks.tolist(), "bm25": misleads.tolist()}, expected.tolist())
    model = bench.Softmax(("top2", "bm25"))
    weights = model.fit(candidates, np.arange(questions))
    assert weights[0] > 0 > weights[1]
    out_of_fold = bench.cross_validate(model, candidates)
    assert out_of_fold.hit_at_1 > 0.9
