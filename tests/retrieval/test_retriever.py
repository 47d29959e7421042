from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from careerbot.knowledge import Entry, KnowledgeBase, Source
from careerbot.retrieval.documents import Document
from careerbot.retrieval.encoder import Encoder
from careerbot.retrieval.lexical import LexicalStats
from careerbot.retrieval.retriever import Retriever, keywords_of
from careerbot.retrieval.segment import Segment
from tests.fakes import FakeEncoder


def entry(entry_id: str, question: str) -> Entry:
    return Entry(
        entry_id, question, ("a", "b", "c"), "answer", "stack", ("t",), (Source("s"),), date(2026, 1, 1)
    )


class TableEncoder(FakeEncoder):
    """Maps each query to a fixed vector, so the test controls every similarity exactly."""

    def __init__(self, queries: dict[str, list[float]]) -> None:
        super().__init__()
        self._queries = queries

    @property
    def dimension(self) -> int:
        return 2

    def encode_queries(self, texts: list[str]) -> np.ndarray:  # type: ignore[override]
        return np.array([self._queries[t] for t in texts], dtype=np.float32)


def unit(angle_degrees: float) -> list[float]:
    angle = np.radians(angle_degrees)
    return [float(np.cos(angle)), float(np.sin(angle))]


def retriever(
    knowledge: KnowledgeBase,
    documents: list[Document],
    vectors: np.ndarray,
    encoder: Encoder,
    lexical_weight: float = 0.0,
) -> Retriever:
    lexical = LexicalStats.build({item.id: keywords_of(item) for item in knowledge.items})
    return Retriever(knowledge, encoder, Segment.build(documents, vectors), lexical, lexical_weight)


@pytest.fixture
def knowledge() -> KnowledgeBase:
    return KnowledgeBase((entry("lucky", "sagemaker"), entry("steady", "vertex")), ())


def test_several_agreeing_texts_outrank_one_lucky_match(knowledge: KnowledgeBase) -> None:
    documents = [
        Document("lucky", "question", "l1"),
        Document("lucky", "paraphrase", "l2"),
        Document("lucky", "paraphrase", "l3"),
        Document("steady", "question", "s1"),
        Document("steady", "paraphrase", "s2"),
        Document("steady", "paraphrase", "s3"),
    ]
    # lucky: one text at 10 degrees from the query, two far off; steady: three at 20 degrees.
    vectors = np.array([unit(10), unit(80), unit(85), unit(20), unit(20), unit(20)], dtype=np.float32)
    first, second = retriever(knowledge, documents, vectors, TableEncoder({"q": unit(0)})).search("q")
    assert (first.item_id, second.item_id) == ("steady", "lucky")
    assert first.rank_score == pytest.approx(np.cos(np.radians(20)), abs=1e-6)
    assert second.score == pytest.approx(np.cos(np.radians(10)), abs=1e-6), "score is the best single text"
    assert second.score > first.score


def test_keyword_weight_lifts_an_exact_keyword_match(knowledge: KnowledgeBase) -> None:
    documents = [Document("lucky", "question", "sagemaker"), Document("steady", "question", "vertex")]
    vectors = np.array([unit(30), unit(25)], dtype=np.float32)
    encoder = TableEncoder({"sagemaker": unit(0)})
    assert retriever(knowledge, documents, vectors, encoder).search("sagemaker")[0].item_id == "steady"
    boosted = retriever(knowledge, documents, vectors, encoder, lexical_weight=0.1).search("sagemaker")
    assert boosted[0].item_id == "lucky" and boosted[0].lexical == 1.0


def test_mismatched_documents_and_vectors_are_refused(knowledge: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="2 documents but 1 vectors"):
        Segment.build([Document("lucky", "question", "x")] * 2, np.zeros((1, 2), np.float32))


def test_matched_texts_are_looked_up_when_read_and_for_the_kept_candidates_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 1M texts a search groups about a hundred items; rebuilding every one's texts to find its
    matched text cost more than the vector search, for candidates that are then cut off. Only
    `ask --explain` shows the text, so a search looks none up (about 0.015 ms of every answer)."""
    from careerbot.retrieval import retriever as module

    ids = [f"e{n}" for n in range(8)]
    knowledge = KnowledgeBase(tuple(entry(i, f"question {i}") for i in ids), ())
    documents = [Document(i, "question", f"question {i}") for i in ids]
    vectors = np.array([unit(5 * n) for n in range(8)], dtype=np.float32)
    looked_up: list[str] = []
    text_of = module.text_of
    monkeypatch.setattr(
        module, "text_of", lambda item, kind, part: looked_up.append(item.id) or text_of(item, kind, part)
    )
    found = retriever(knowledge, documents, vectors, TableEncoder({"q": unit(0)})).search("q", limit=3)
    assert [c.item_id for c in found] == ["e0", "e1", "e2"]
    assert looked_up == []
    assert [c.matched_text for c in found] == ["question e0", "question e1", "question e2"]
    assert sorted(looked_up) == ["e0", "e1", "e2"]


@pytest.mark.parametrize("edited", [False, True], ids=["on arrays", "after an edit"])
def test_each_candidates_matched_text_is_its_best_scoring_text(edited: bool) -> None:
    """The text read later is the one the search matched: the item's text of that kind and part whose
    similarity is the candidate's score, on the shipped knowledge, with and without an edit since the
    build (the two ranking paths)."""
    from pathlib import Path

    from careerbot.knowledge.loader import load_knowledge
    from careerbot.retrieval.documents import documents_of

    knowledge = load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")
    encoder = FakeEncoder()
    searcher, _ = Retriever.build(knowledge, encoder, lexical_weight=0.1)
    if edited:
        searcher, _ = searcher.changed(knowledge, frozenset({knowledge.entries[0].id}))
    questions = ["what does an ml engineer do", "pytorch or tensorflow", "salary in europe", "k8s?"]
    seen_kinds = set()
    for question, candidates in zip(questions, searcher.search_many(questions), strict=True):
        query = encoder.encode_queries([question])[0]
        for candidate in candidates:
            item = knowledge.get(candidate.item_id)
            assert item is not None
            texts = {(d.kind, d.part): d.text for d in documents_of(item)}
            text = texts[candidate.matched_kind, candidate.matched_part]
            assert candidate.matched_text == text, (question, candidate)
            similarity = float(encoder.encode_documents([text])[0] @ query)
            assert similarity == pytest.approx(candidate.score, abs=1e-5), (question, candidate)
            seen_kinds.add(candidate.matched_kind)
    assert {"question", "paraphrase"} <= seen_kinds


def test_equal_rank_scores_are_ordered_by_item_id(knowledge: KnowledgeBase) -> None:
    documents = [Document("steady", "question", "s"), Document("lucky", "question", "l")]
    vectors = np.array([unit(10), unit(10)], dtype=np.float32)
    found = retriever(knowledge, documents, vectors, TableEncoder({"q": unit(0)})).search("q")
    assert [c.item_id for c in found] == ["lucky", "steady"]


def test_a_documents_text_is_found_without_making_the_others() -> None:
    """`text_of` gives what `documents_of` embeds, for every kind of text of every shipped item."""
    from pathlib import Path

    from careerbot.knowledge.loader import load_knowledge
    from careerbot.retrieval.documents import KINDS, documents_of, text_of

    knowledge = load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")
    for item in knowledge.items:
        documents = {(document.kind, document.part): document.text for document in documents_of(item)}
        for kind in KINDS:
            for part in range(-1, 12):
                assert text_of(item, kind, part) == documents.get((kind, part), ""), (item.id, kind, part)


def old_computation(fast: Retriever) -> Retriever:
    """The same retriever made to rank as the release before did: hits as tuples merged across segments and
    grouped in dictionaries (an item superseded that does not exist skips no row but takes that path), and
    BM25 read from each candidate's text (the scorer keeps no posting lists at KEEP_COUNTS_UP_TO 0)."""
    from careerbot.retrieval import lexical

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lexical, "KEEP_COUNTS_UP_TO", 0)
        return Retriever(
            fast.knowledge, fast._encoder, fast.base, fast.lexical, fast._lexical_weight, fast.delta,
            fast.superseded | {"no-such-item"},
        )  # fmt: skip


def shipped_questions() -> list[str]:
    """A third of the dev and regression questions (never test's: nothing is chosen on it)."""
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2] / "knowledge"
    return [
        case["question"]
        for name in ("dev", "regression")
        for case in yaml.safe_load((root / "eval" / f"{name}.yaml").read_text(encoding="utf-8"))["questions"]
    ][::3]


@pytest.fixture(scope="module")
def shipped() -> KnowledgeBase:
    from pathlib import Path

    from careerbot.knowledge.loader import load_knowledge

    return load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")


@pytest.mark.parametrize(("lexical_weight", "keep_counts_up_to"), [(0.0, 20_000), (0.1, 20_000), (0.1, 0)])
def test_the_array_ranking_equals_the_old_computation_to_the_last_bit_on_the_shipped_knowledge(
    shipped: KnowledgeBase, lexical_weight: float, keep_counts_up_to: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids, scores, rank scores, keyword scores and matched texts equal to the last bit, for limits from
    one to more than the candidates, twice over (the second time from posting lists learnt the first);
    also with BM25 read from the texts, as above KEEP_COUNTS_UP_TO items (1M texts)."""
    from careerbot.retrieval import lexical

    monkeypatch.setattr(lexical, "KEEP_COUNTS_UP_TO", keep_counts_up_to)
    fast = Retriever.build(shipped, FakeEncoder(), lexical_weight=lexical_weight)[0]
    slow = old_computation(fast)
    questions = shipped_questions()
    assert len(questions) > 100
    for limit in (1, 3, 10, 1000, 10):
        assert fast.search_many(questions, limit) == slow.search_many(questions, limit), limit
    keyworded = sum(any(c.lexical > 0 for c in found) for found in fast.search_many(questions))
    assert (keyworded > len(questions) / 2) == (lexical_weight > 0)


def test_after_an_edit_the_ranking_still_equals_the_old_computation(shipped: KnowledgeBase) -> None:
    """An edited entry, a new one and a removed one (a delta segment, superseded rows, ids the base
    segment does not hold): the same candidates to the last bit as the old computation."""
    import dataclasses

    first, removed = shipped.entries[0], shipped.entries[1]
    edited = dataclasses.replace(
        first, answer=first.answer + " Kubernetes and MLOps pipelines in production."
    )
    added = dataclasses.replace(first, id="brand-new", question="What does an MLOps platform team own?")
    changed = KnowledgeBase((edited, added, *shipped.entries[2:]), shipped.passages)
    fast = Retriever.build(shipped, FakeEncoder(), lexical_weight=0.1)[0]
    questions = shipped_questions()
    fast.search_many(questions)  # posting lists learnt before the edit must not leak into the new scorer
    after = fast.changed(changed, frozenset({first.id, removed.id, "brand-new"}))[0]
    assert after.delta is not None
    slow = old_computation(after)
    for limit in (3, 10, 1000):
        assert after.search_many(questions, limit) == slow.search_many(questions, limit), limit
    found = after.search("MLOps platform team Kubernetes", limit=1000)
    assert {"brand-new", first.id} <= {c.item_id for c in found if c.lexical > 0}
    assert removed.id not in {c.item_id for c in found}


def test_ties_cut_by_the_limit_keep_the_lowest_item_ids_on_both_paths() -> None:
    ids = ["e3", "e1", "e4", "e0", "e2"]
    knowledge = KnowledgeBase(tuple(entry(i, f"question {i}") for i in ids), ())
    documents = [Document(i, "question", f"question {i}") for i in ids]
    # e0 alone is nearest; the other four tie, so the limit cuts through their tie.
    vectors = np.array([unit(20), unit(20), unit(20), unit(10), unit(20)], dtype=np.float32)
    fast = retriever(knowledge, documents, vectors, TableEncoder({"q": unit(0)}))
    found = fast.search("q", limit=3)
    assert [c.item_id for c in found] == ["e0", "e1", "e2"]
    assert found == old_computation(fast).search("q", limit=3)


def test_a_search_with_no_edits_makes_no_tuple_per_row_nor_a_dictionary_per_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows are grouped by item, and keyword-scored, on the base segment's item positions with numpy: a
    Python tuple per faiss row (256 per question) and a dictionary look-up per candidate item were most of
    what answer() spent above the model call. A retriever with edits still takes the general path."""
    from careerbot.retrieval import retriever as module

    rows_of = module._rows_of
    made: list[int] = []
    monkeypatch.setattr(module, "_rows_of", lambda *args: made.append(1) or rows_of(*args))
    ids = [f"e{n}" for n in range(4)]
    knowledge = KnowledgeBase(tuple(entry(i, f"question {i}") for i in ids), ())
    documents = [Document(i, "question", f"question {i}") for i in ids]
    vectors = np.array([unit(5 * n) for n in range(4)], dtype=np.float32)
    fast = retriever(knowledge, documents, vectors, TableEncoder({"question e2": unit(0)}), 0.1)
    scores = fast._keywords.scores
    monkeypatch.setattr(fast._keywords, "scores", lambda *args: made.append(2) or scores(*args))
    found = fast.search("question e2")
    assert [c.item_id for c in found] == ["e2", "e0", "e1", "e3"] and not made, "e2's keyword lifts it"
    assert [c.lexical == 1.0 for c in found] == [True, False, False, False]
    assert found == old_computation(fast).search("question e2") and made


def test_an_approximate_index_ranks_as_the_old_computation_also_when_it_returns_missing_rows(
    shipped: KnowledgeBase,
) -> None:
    """HNSW may return fewer rows than asked, marked -1 at the end: those are left out on both paths."""
    from pathlib import Path

    from careerbot.config import IndexConfig
    from careerbot.retrieval.retriever import ROWS_PER_QUERY, _rows_of

    settings = IndexConfig(Path("unused"), approximate_above=0, hnsw_neighbours=8, hnsw_search_depth=64)
    fast = Retriever.build(shipped, FakeEncoder(), settings, lexical_weight=0.1)[0]
    assert fast.base.index.approximate
    slow = old_computation(fast)
    questions = shipped_questions()[::4]
    assert fast.search_many(questions) == slow.search_many(questions)
    for question in questions:
        scores, rows = fast.base.index.search(FakeEncoder().encode_queries([question]), ROWS_PER_QUERY)
        scores, rows = scores[0].copy(), rows[0].copy()
        rows[200:], scores[200:] = -1, -np.inf  # as faiss marks rows it did not find
        hits = _rows_of(fast.base, scores, rows, frozenset())
        assert len(hits) == 200
        assert fast._rank_rows(question, scores, rows, 10) == slow._rank(question, hits, 10), question
