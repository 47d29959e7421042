from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from careerbot.knowledge import load_knowledge
from careerbot.retrieval import semantic_duplicates as semantic
from careerbot.retrieval.semantic_duplicates import semantic_duplicates
from tests.conftest import write_entry
from tests.fakes import FakeEncoder


def test_phrasings_of_two_entries_that_embed_alike_are_flagged(knowledge_dir: Path) -> None:
    assert semantic_duplicates(load_knowledge(knowledge_dir), FakeEncoder()) == []
    # The same words in another order: different text, so the text check lets it through ...
    write_entry(
        knowledge_dir,
        "stack/torch-jobs",
        "Which jobs want torch?",
        ["uses pytorch", "torch hiring", "jobs"],
        "x",
    )
    knowledge = load_knowledge(knowledge_dir)
    # ... but to the (fake) model it is the same question as pytorch's "pytorch uses".
    [problem] = semantic_duplicates(knowledge, FakeEncoder())
    assert problem.path.name == "torch-jobs.yaml" and problem.field == "paraphrases" and problem.line == 4
    assert "'uses pytorch' means the same as 'pytorch uses' of 'pytorch'" in problem.message


def full_matrix_pairs(vectors: np.ndarray) -> list[tuple[int, int, float]]:
    """The reference: the whole similarity square at once (what the check did before the row blocks)."""
    similarity = vectors @ vectors.T
    return [
        (int(a), int(b), float(similarity[a, b]))
        for a, b in zip(*np.nonzero(np.triu(similarity, k=1) >= semantic.SAME_MEANING), strict=True)
    ]


class Recording(np.ndarray):
    """Vectors that note the size of every similarity matrix made from them."""

    largest = 0

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: object, **kwargs: object) -> object:
        plain = [item.view(np.ndarray) if isinstance(item, np.ndarray) else item for item in inputs]
        result = getattr(ufunc, method)(*plain, **kwargs)
        if ufunc is np.matmul:
            Recording.largest = max(Recording.largest, result.size)
        return result


def test_similarities_are_computed_in_row_blocks_with_the_pairs_of_the_whole_square(
    knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three words in another order embed alike (the fake encoder bags words) but differ as text: 10
    # sets of three words, each in 6 orders, one order per entry: 15 pairs per set.
    orders = sorted(itertools.permutations(["alpha", "beta", "gamma", "delta", "omega"], 3), key=sorted)
    for number, words in enumerate(orders):
        unique = hashlib.sha256(str(number).encode()).hexdigest()
        write_entry(
            knowledge_dir,
            f"stack/tool-{number}",
            f"What about {unique[:12]}?",
            [" ".join(words), unique[12:24], unique[24:36]],
            "x",
        )
    knowledge = load_knowledge(knowledge_dir)
    vectors = FakeEncoder().encode_documents(
        [text for entry in knowledge.entries for text in (entry.question, *entry.paraphrases)]
    )
    expected = full_matrix_pairs(vectors)
    assert len(expected) > 100
    monkeypatch.setattr(semantic, "SIMILARITIES_PER_BLOCK", 7 * len(vectors))  # 7 rows a block
    Recording.largest = 0
    recorded = vectors.view(Recording)
    found = list(semantic._alike_pairs(recorded))
    assert [(a, b) for a, b, _ in found] == [(a, b) for a, b, _ in expected]
    assert [s for _, _, s in found] == pytest.approx([s for _, _, s in expected], abs=1e-6)
    assert 0 < Recording.largest <= 7 * len(vectors)

    class Encoder(FakeEncoder):
        def encode_documents(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
            return super().encode_documents(texts).view(Recording)

    Recording.largest = 0
    problems = semantic_duplicates(knowledge, Encoder())
    assert 0 < Recording.largest <= 7 * len(vectors)
    owners = [(entry, text) for entry in knowledge.entries for text in (entry.question, *entry.paraphrases)]
    reported = [(owners[a][0].id, owners[b][1]) for a, b, _ in expected if owners[a][0] is not owners[b][0]]
    assert len(problems) == len(reported) >= 150
    for problem, (first_id, text) in zip(problems, reported, strict=True):
        assert (
            problem.message.startswith(f"{text!r} means the same as")
            and f"of {first_id!r}" in problem.message
        )
