from __future__ import annotations

import threading

import bm25s
import numpy as np
import pytest

from careerbot.retrieval.lexical import LexicalScorer, LexicalStats

TEXTS = {
    "pytorch": "PyTorch trains neural networks; torch tensors run on the GPU",
    "sklearn": "scikit-learn covers classical machine learning on tabular data",
    "cloud": "SageMaker, Vertex AI and Azure ML deploy models in the cloud",
    "math": "linear algebra, calculus and statistics for machine learning models",
}


def bm25s_scores(texts: dict[str, str], question: str) -> dict[str, float]:
    tokenizer = bm25s.tokenization.Tokenizer(stopwords="en")
    ids = tokenizer.tokenize(list(texts.values()), update_vocab=True, return_as="ids", show_progress=False)
    index = bm25s.BM25()
    index.index(ids, show_progress=False)
    query = tokenizer.tokenize([question], update_vocab=False, return_as="ids", show_progress=False)
    raw = np.asarray(index.get_scores(query[0]))
    return {item_id: float(score / raw.max()) for item_id, score in zip(texts, raw, strict=True) if score > 0}


@pytest.mark.parametrize("question", ["machine learning models", "deploy pytorch to the cloud", "GPU"])
def test_scores_match_bm25s(question: str) -> None:
    scorer = LexicalScorer(LexicalStats.build(TEXTS), TEXTS.__getitem__)
    ours = scorer.scores(question, TEXTS)
    assert ours.keys() == bm25s_scores(TEXTS, question).keys()
    for item_id, score in bm25s_scores(TEXTS, question).items():
        assert ours[item_id] == pytest.approx(score, rel=1e-5)


def test_updating_the_statistics_equals_building_them_afresh() -> None:
    stats = LexicalStats.build(TEXTS)
    changed = {**TEXTS, "cloud": "Bedrock and SageMaker on AWS", "jobs": "ML engineer jobs and salaries"}
    del changed["math"]
    updated = stats.changed(
        removed={"cloud": TEXTS["cloud"], "math": TEXTS["math"]},
        added={"cloud": changed["cloud"], "jobs": changed["jobs"]},
    )
    assert updated == LexicalStats.build(changed)
    assert LexicalStats.from_arrays(updated.to_arrays()) == updated


def test_a_question_of_stop_words_scores_nothing() -> None:
    scorer = LexicalScorer(LexicalStats.build(TEXTS), TEXTS.__getitem__)
    assert scorer.scores("what is the", TEXTS) == {}


def test_the_stop_words_are_bm25s_english_ones() -> None:
    from bm25s.stopwords import STOPWORDS_EN

    from careerbot.retrieval.lexical import _STOPWORDS

    assert frozenset(STOPWORDS_EN) == _STOPWORDS


def test_only_the_question_is_tokenised_when_scoring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above KEEP_COUNTS_UP_TO items, candidates' texts are searched for the question's terms, not
    tokenised whole: at 1M texts a question has about 250 candidates, and tokenising them all took most
    of an answer's time."""
    from careerbot.retrieval import lexical

    monkeypatch.setattr(lexical, "KEEP_COUNTS_UP_TO", len(TEXTS) - 1)
    scorer = LexicalScorer(LexicalStats.build(TEXTS), TEXTS.__getitem__)
    lexical._term_counts.cache_clear()
    tokenised: list[str] = []
    tokenize = lexical.tokenize
    monkeypatch.setattr(lexical, "tokenize", lambda text: tokenised.append(text) or tokenize(text))
    assert scorer.scores("machine learning models", TEXTS) == pytest.approx(
        bm25s_scores(TEXTS, "machine learning models")
    )
    assert tokenised == ["machine learning models"]


def test_a_small_knowledge_reads_each_candidate_text_once() -> None:
    """Up to KEEP_COUNTS_UP_TO items, an item's term counts are kept: later questions score it without
    reading its text again, with the same scores as counting afresh."""
    read: list[str] = []
    scorer = LexicalScorer(LexicalStats.build(TEXTS), lambda item_id: read.append(item_id) or TEXTS[item_id])
    for question in ("machine learning models", "deploy models", "machine learning models"):
        assert scorer.scores(question, TEXTS) == pytest.approx(bm25s_scores(TEXTS, question))
    assert sorted(read) == sorted(TEXTS)


def test_terms_are_counted_as_whole_tokens() -> None:
    """A term that begins or ends another (ml / mlops / ml_ops, torch / pytorch, 2d / 2d3) counts only
    where it is a token of its own, as the tokeniser splits the text."""
    texts = {
        "a": "MLOps with ML and pytorch; ml_ops, 2D3 and torch 2d",
        "b": "ml ml ML. Torch! 2d-2d",
        "c": "mlops pytorch ml_ops",
        "d": "nothing relevant here at all",
    }
    scorer = LexicalScorer(LexicalStats.build(texts), texts.__getitem__)
    for question in ("ml torch 2d", "mlops ml_ops", "pytorch 2d3"):
        assert scorer.scores(question, texts) == pytest.approx(bm25s_scores(texts, question))


def test_kept_counts_give_the_scores_of_reading_each_text_to_the_last_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the shipped knowledge and a quarter of the eval questions, with each question's candidates a
    different slice of the items: the posting lists kept between questions change no score, not even its last
    bit (which could reorder near-tied candidates)."""
    from pathlib import Path

    import yaml

    from careerbot.knowledge.loader import load_knowledge
    from careerbot.retrieval import lexical
    from careerbot.retrieval.retriever import keywords_of

    root = Path(__file__).resolve().parents[2] / "knowledge"
    texts = {item.id: keywords_of(item) for item in load_knowledge(root).items}
    stats = LexicalStats.build(texts)
    kept = LexicalScorer(stats, texts.__getitem__)
    monkeypatch.setattr(lexical, "KEEP_COUNTS_UP_TO", 0)
    reading = LexicalScorer(stats, texts.__getitem__)
    ids = sorted(texts)
    questions = [
        case["question"]
        for name in ("dev", "regression", "test")
        for case in yaml.safe_load((root / "eval" / f"{name}.yaml").read_text(encoding="utf-8"))["questions"]
    ][::4]
    for number, question in enumerate(questions):
        candidates = ids[number % 50 :: 3 + number % 4]
        assert kept.scores(question, candidates) == reading.scores(question, candidates), question
    assert sum(bool(kept.scores(question, ids)) for question in questions) > len(questions) / 2


def test_an_item_met_after_every_known_item_was_learnt_is_still_learnt() -> None:
    """Once every item of the base is learnt a search skips looking for new ones among its candidates; an
    item outside the base (an edited one, given by id) must still be learnt before it is scored."""
    texts = {**TEXTS, "edited": "PyTorch models deployed to the cloud on a GPU"}
    stats = LexicalStats.build(texts)
    scorer = LexicalScorer(stats, texts.__getitem__, items=list(TEXTS))
    scorer.scores_at("machine learning models", range(len(TEXTS)))  # learns every base item
    question = "deploy pytorch models on the GPU"
    fresh = LexicalScorer(stats, texts.__getitem__)
    assert scorer.scores(question, texts) == fresh.scores(question, texts)
    assert scorer.scores(question, texts)["edited"] == 1.0


def test_a_search_while_another_learns_an_item_waits_for_its_words() -> None:
    """Two threads may search one retriever (a member's answer and a moderator's /kb check): a search that
    comes while the other is still learning an item's words must not score it without them."""
    texts = {"a": "pytorch training loops", "b": "pytorch deployment", "c": "cloud certificates"}
    sequential = LexicalScorer(LexicalStats.build(texts), texts.__getitem__).scores("pytorch", texts)
    during: dict[str, float] = {}
    meanwhile: list[threading.Thread] = []

    def text_of(item_id: str) -> str:
        if item_id == "a" and not meanwhile:  # "a" is being learnt: another search comes now
            thread = threading.Thread(target=lambda: during.update(scorer.scores("pytorch", texts)))
            meanwhile.append(thread)
            thread.start()
            thread.join(timeout=0.5)  # with the lock it waits for this learning to end
        return texts[item_id]

    scorer = LexicalScorer(LexicalStats.build(texts), text_of)
    assert scorer.scores("pytorch", texts) == sequential
    meanwhile[0].join()
    assert during == sequential


SCORES_IN_A_PROCESS = """
import sys, yaml
from pathlib import Path
from careerbot.knowledge.loader import load_knowledge
from careerbot.retrieval.lexical import LexicalScorer, LexicalStats
from careerbot.retrieval.retriever import keywords_of
root = Path(sys.argv[1])
texts = {item.id: keywords_of(item) for item in load_knowledge(root).items}
scorer = LexicalScorer(LexicalStats.build(texts), texts.__getitem__)
questions = yaml.safe_load((root / "eval" / "regression.yaml").read_text(encoding="utf-8"))["questions"]
for case in questions[::3]:
    print(sorted(scorer.scores(case["question"], texts).items()))
"""


def test_the_scores_are_the_same_to_the_last_bit_in_every_process() -> None:
    """Each process hashes strings with its own seed; the order a question's terms are added in must not
    follow it, or a near-tie could rank one way in one run and the other way in the next."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "knowledge"
    printed = [
        subprocess.run(
            [sys.executable, "-c", SCORES_IN_A_PROCESS, str(root)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    ]
    assert printed[0] and printed[0] == printed[1] == printed[2]
