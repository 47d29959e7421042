"""benchmarks/phrasings_kfold.py's fold copies, on the fake encoder: each copy must hold the training
folds' questions as paraphrases of the entries that answer them and never a held-out question (else its
out-of-fold figure would be a lie), and what the knowledge checks refuse must be left out and counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from careerbot.config import Config
from careerbot.knowledge import Entry, KnowledgeBase, load_knowledge
from careerbot.knowledge.eval_file import EvalCase
from tests.benchmark_scripts import load_benchmark
from tests.conftest import write_entry
from tests.fakes import FakeEncoder

# Distinct real-sounding asks, each answered by the entry named (in scope) or by none (out of scope).
ASKS = [
    ("honestly is pytorch worth learning for a career, I keep seeing it in job ads", "pytorch"),
    ("my team only uses sklearn pipelines, will that be enough for an mle role", "scikit-learn"),
    ("I failed calculus in college twenty years ago, can I still do this job", "math-needed"),
    ("what do machine learning engineers actually spend their mornings on", "typical-day"),
    ("ds and mle sound identical on every posting I read, which should I apply to", "vs-data-scientist"),
    ("what would a junior earn in Berlin, roughly, before taxes", "salary"),
    ("torch or jax for someone who wants to ship models at a startup", "pytorch"),
    ("is linear algebra from khan academy enough or do I need a proper course", "math-needed"),
    ("do you spend more time in meetings or writing code as an engineer", "typical-day"),
    ("salary bands for senior people at big tech versus small shops", "salary"),
    ("my conda environment breaks whenever I install cuda, help", None),
    ("which laptop should I buy for gaming", None),
]


@pytest.fixture(scope="module")
def bench() -> Any:
    return load_benchmark("phrasings_kfold")


def cases() -> list[EvalCase]:
    return [
        EvalCase(question, (answer,) if answer else (), in_scope=answer is not None)
        for question, answer in ASKS
    ]


def phrasings(knowledge: KnowledgeBase) -> dict[str, str]:
    """Every question and paraphrase in the knowledge, normalised, to the id of the entry holding it."""
    return {
        " ".join(text.split()).lower(): entry.id
        for entry in knowledge.entries
        for text in (entry.question, *entry.paraphrases)
    }


def never_picked(question: str) -> str | None:
    return None


def test_each_fold_copy_holds_the_training_questions_and_no_held_out_one(
    bench: Any, knowledge_dir: Path, tmp_path: Path
) -> None:
    knowledge = load_knowledge(knowledge_dir)
    folds = bench.split(cases(), 3, bench.SEED)
    for k, held_out in enumerate(folds):
        wanted = bench.fold_additions(folds, k, "first", knowledge, never_picked)
        report = bench.fold_copy(knowledge_dir, tmp_path / f"fold-{k}", wanted, "skip")
        copy = phrasings(load_knowledge(tmp_path / f"fold-{k}"))
        for case in held_out:
            assert case.question.lower() not in copy, f"held-out question leaked into fold {k}"
        training = [c for i, fold in enumerate(folds) if i != k for c in fold if c.in_scope]
        assert training and len(report.added) == len(training) and not report.rejected
        for case in training:
            assert copy[case.question.lower()] == case.expected[0]
        assert not (tmp_path / f"fold-{k}" / "eval").exists()


def test_a_question_answered_by_two_entries_is_refused_as_the_second_ones_paraphrase(
    bench: Any, knowledge_dir: Path, tmp_path: Path
) -> None:
    knowledge = load_knowledge(knowledge_dir)
    two = [EvalCase("ml engineer or data scientist: who earns more?", ("vs-data-scientist", "salary"))]
    wanted = bench.additions(two, "all", knowledge, never_picked)
    assert [a.entry_id for a in wanted] == ["vs-data-scientist", "salary"]
    report = bench.fold_copy(knowledge_dir, tmp_path / "copy", wanted, "skip")
    # The loader forbids one text in two entries: the second is left out, and counted with its reason.
    assert [a.entry_id for a in report.added] == ["vs-data-scientist"]
    assert [(a.entry_id, kind) for a, kind in report.rejected] == [("salary", "same as another phrasing")]
    assert phrasings(load_knowledge(tmp_path / "copy"))[two[0].question.lower()] == "vs-data-scientist"


def test_a_post_longer_than_a_paraphrase_may_be_is_left_out_or_cut(
    bench: Any, knowledge_dir: Path, tmp_path: Path
) -> None:
    knowledge = load_knowledge(knowledge_dir)
    post = "I have been a backend developer for six years and I am tired of CRUD work. " * 8
    long_case = [EvalCase(post + "How much math would I need to relearn?", ("math-needed",))]
    wanted = bench.additions(long_case, "first", knowledge, never_picked)
    skipped = bench.fold_copy(knowledge_dir, tmp_path / "skip", wanted, "skip")
    assert not skipped.added and skipped.rejected[0][1] == "longer than 400 characters"
    cut = bench.fold_copy(knowledge_dir, tmp_path / "cut", wanted, "cut")
    assert len(cut.added) == 1
    entry = load_knowledge(tmp_path / "cut").get("math-needed")
    assert isinstance(entry, Entry)
    assert post.startswith(entry.paraphrases[-1]) and 300 < len(entry.paraphrases[-1]) <= 400


def test_out_of_scope_questions_join_the_declining_entry_the_index_ranks_first(
    bench: Any, config: Config, knowledge_dir: Path, tmp_path: Path
) -> None:
    write_entry(
        knowledge_dir,
        "out-of-scope/setup-errors",
        "Fixing an install or setup error",
        ["pip install fails", "conda environment broken", "cuda install error"],
        "That is outside what I know.",
    )
    write_entry(
        knowledge_dir,
        "out-of-scope/hardware-shopping",
        "Which computer to buy",
        ["which laptop to buy", "best gaming pc", "should I buy a macbook"],
        "That is outside what I know.",
    )
    engine = bench.build(config, knowledge_dir, tmp_path / "index", FakeEncoder())
    pick = bench.out_of_scope_picker(engine)
    knowledge = engine.snapshot.knowledge
    wanted = bench.additions(cases(), "oos", knowledge, pick)
    out = {a.question: a.entry_id for a in wanted if a.entry_id in ("setup-errors", "hardware-shopping")}
    assert out == {ASKS[10][0]: "setup-errors", ASKS[11][0]: "hardware-shopping"}
    # Without the oos variant, out-of-scope questions are never added.
    assert all(
        case.in_scope
        for case in cases()
        if case.question in {a.question for a in bench.additions(cases(), "first", knowledge, pick)}
    )
