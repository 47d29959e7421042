from __future__ import annotations

import random

import pytest
from rapidfuzz import fuzz, process, utils

from careerbot.knowledge.near_duplicates import near_duplicate_pairs


def all_pairs(texts: list[str], threshold: float) -> list[tuple[int, int]]:
    matrix = process.cdist(texts, texts, scorer=fuzz.ratio, processor=utils.default_process)
    return [(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts)) if matrix[i][j] >= threshold]


def variant(text: str, rng: random.Random, edits: int) -> str:
    chars = list(text)
    for _ in range(edits):
        at = rng.randrange(len(chars) + 1)
        if rng.random() < 0.5 and at < len(chars):
            del chars[at]
        else:
            chars.insert(at, rng.choice("abcdefghij ?!"))
    return "".join(chars)


@pytest.mark.parametrize("threshold", [95.0, 90.0, 80.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_finds_exactly_the_pairs_that_comparing_all_pairs_finds(seed: int, threshold: float) -> None:
    rng = random.Random(seed)
    words = ["ml", "model", "data", "deploy", "python", "cloud", "what", "is", "a", "how", "do", "I"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(300)]
    texts += [variant(rng.choice(texts), rng, rng.randint(0, 4)) for _ in range(150)]  # near copies
    texts += ["", "?", "ab", "AB!", "abc", "ml"]  # shorter than the filter's grams
    rng.shuffle(texts)
    expected = all_pairs(texts, threshold)
    assert len(expected) > 50, "the data must hold near-duplicates for the test to mean anything"
    assert near_duplicate_pairs(texts, threshold) == (expected, len(expected))
