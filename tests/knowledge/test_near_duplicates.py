from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest
from rapidfuzz import fuzz, process, utils

from careerbot.knowledge import KnowledgeBase, load_knowledge, near_duplicates
from careerbot.knowledge.near_duplicates import near_duplicate_pairs

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from synthetic import write_knowledge


def all_pairs(texts: list[str], threshold: float) -> list[tuple[int, int]]:
    """The reference: every pair compared (what the check did until the index, about 14 minutes at 100k
    entries)."""
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


REPO = Path(__file__).resolve().parents[2]


def phrasings(knowledge: KnowledgeBase) -> list[str]:
    return [text for entry in knowledge.entries for text in (entry.question, *entry.paraphrases)]


def at_most_allowed_edits(text: str, rng: random.Random, threshold: float) -> str:
    """`text` with as many insertions and deletions, spread at random, as still reach `threshold`: the
    most a candidate filter has to survive."""
    chars = list(text)
    edits = 0
    while True:
        at = rng.randrange(len(chars) + 1)
        changed = [*chars[:at], rng.choice("abcxyz "), *chars[at:]]
        if rng.random() < 0.5 and at < len(chars):
            changed = chars[:at] + chars[at + 1 :]
        if fuzz.ratio(text, "".join(changed)) < threshold or edits > 40:
            return "".join(chars)
        chars, edits = changed, edits + 1


@pytest.fixture(scope="module")
def shipped() -> list[str]:
    return phrasings(load_knowledge(REPO / "knowledge"))


@pytest.mark.parametrize("threshold", [95.0, 90.0, 70.0])
def test_the_shipped_knowledge_gives_what_comparing_all_pairs_gives(
    shipped: list[str], threshold: float
) -> None:
    texts = shipped
    expected = all_pairs(texts, threshold)
    assert near_duplicate_pairs(texts, threshold) == (expected, len(expected))
    if threshold == 95.0:
        assert expected == []  # shipped knowledge is valid; the lower thresholds have pairs to find
    else:
        assert expected


@pytest.mark.parametrize("threshold", [95.0, 85.0])
def test_synthetic_knowledge_with_edited_copies_gives_what_comparing_all_pairs_gives(
    tmp_path: Path, threshold: float
) -> None:
    write_knowledge(tmp_path, 300)
    texts = phrasings(load_knowledge(tmp_path))
    rng = random.Random(5)
    texts += [at_most_allowed_edits(rng.choice(texts), rng, threshold) for _ in range(300)]
    expected = all_pairs(texts, threshold)
    assert len(expected) >= 250
    assert near_duplicate_pairs(texts, threshold) == (expected, len(expected))


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("threshold", [95.0, 90.0])
def test_edits_spread_over_the_whole_text_at_the_limit_are_found(seed: int, threshold: float) -> None:
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz      "
    bases = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 400))) for _ in range(150)]
    texts = bases + [at_most_allowed_edits(base, rng, threshold) for base in bases for _ in range(2)]
    expected = all_pairs(texts, threshold)
    assert len(expected) >= 250
    assert near_duplicate_pairs(texts, threshold) == (expected, len(expected))


EDGE_CASES = [
    "",  # no characters at all once processed
    "?",
    "!!",
    "a",
    "A",
    "ab",
    "ba",
    "abc",
    "ml",
    "ML?",
    "What is MLOps?",
    "what is mlops",
    "WHAT IS MLOPS!!!",
    "what's mlops",
    "whats mlops",
    "mlops is what",
    "is what mlops",
    "How do I become an ML engineer?",
    "how do i become an ml engineer",
    "How do I become a ML engineer?",
    "become an ML engineer, how do I?",
    "How, do: I become; an ML-engineer?",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "abababababababababababababababababababab",
    "bababababababababababababababababababab",
    "Qu'est-ce qu'un ingénieur en apprentissage automatique ?",
    "quest ce quun ingénieur en apprentissage automatique",
    "機械学習エンジニアになるには\uff1f",  # a full-width question mark
    "機械学習エンジニアになるには",
    "ML engineer 🚀 roadmap",
    "ml engineer roadmap",
    "abcdefghijklmnopqrst",  # and one substitution: ratio exactly 95
    "abcdefghijXlmnopqrst",
]


@pytest.mark.parametrize("threshold", [100.0, 95.0, 90.0, 80.0, 60.0])
def test_short_phrasings_punctuation_case_word_order_and_unicode(threshold: float) -> None:
    expected = all_pairs(EDGE_CASES, threshold)
    assert near_duplicate_pairs(EDGE_CASES, threshold) == (expected, len(expected))


def test_a_pair_exactly_at_the_threshold_is_found() -> None:
    first, second = EDGE_CASES[-2:]
    assert fuzz.ratio(first, second) == 95.0
    assert near_duplicate_pairs([first, "something else", second], 95.0) == ([(0, 2)], 1)


def test_copies_are_counted_and_only_the_first_pairs_kept() -> None:
    texts = ["What is MLOps?"] * 30 + ["what is mlops"] * 10 + ["What is MLOps!?", "unrelated"]
    expected = all_pairs(texts, 95.0)
    assert near_duplicate_pairs(texts, 95.0, keep=25) == (expected[:25], len(expected))
    assert len(expected) == 41 * 40 // 2


def test_rapidfuzz_scores_a_few_pairs_per_phrasing_not_all_pairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The growth, without timing: today's brute force scores every pair of compatible length (about a
    tenth of all pairs: 14M here); the candidate index leaves a handful per phrasing."""
    write_knowledge(tmp_path, 2000)
    texts = phrasings(load_knowledge(tmp_path))
    rng = random.Random(3)
    texts += [at_most_allowed_edits(rng.choice(texts), rng, 95.0) for _ in range(100)]
    scored = 0

    class CountingProcess:
        @staticmethod
        def cdist(queries: list[str], choices: list[str], **options: Any) -> Any:
            nonlocal scored
            scored += len(queries) * len(choices)
            return process.cdist(queries, choices, **options)

        @staticmethod
        def cpdist(queries: list[str], choices: list[str], **options: Any) -> Any:
            nonlocal scored
            scored += len(queries)
            return process.cpdist(queries, choices, **options)

    monkeypatch.setattr(near_duplicates, "process", CountingProcess)
    _, total = near_duplicate_pairs(texts, 95.0)
    assert total >= 90
    assert scored <= 2 * len(texts), f"{scored:,} pairs scored for {len(texts):,} phrasings"
