"""Learns the ranking from features on the dev set, with K-fold cross-validation (issue 11, item 3).

For each labelled in-scope English question of dev and regression, the top CANDIDATES of the bot's own
retrieval get features computed once and cached in var/rank_features.npz (recomputed when the questions,
labels or index change): the shipped rank score, the item's best-text cosine and the mean of its best
two (over all its texts), BM25, cosines per kind of text (the entry's question alone, its phrasings, its
answer), how many of its texts are among the post's best rows, what kind of item it is, and, from a
second model call, the best cosine of the post's question sentences and of its first and last sentence.
Two kinds of tiny linear model are learnt on K-1 folds of dev and scored on the held-out fold (seeded
folds, several seeds, means): a grid over one or two weights added to the best-two mean, chosen for
hit@1, and a softmax over each question's candidates on more features (numpy). It prints out-of-fold
hit@1, hit@3 and MRR beside the shipped ranking, which learns nothing, on the same questions, and the
regression set scored with weights learnt on all of dev. The test split is never read here.

    .venv/bin/python benchmarks/rank_features.py              # features (cached), then the table
    .venv/bin/python benchmarks/rank_features.py --refresh    # recompute the features

Measured with 324 entries (issue 11): no model gained out of fold (best +0.3 points of dev hit@1, within
one question); the shipped ranking stays. See the README's ranking tables."""

from __future__ import annotations

import argparse
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from careerbot.cli.wiring import open_answerer
from careerbot.config import load_config
from careerbot.engine.answering import Answerer
from careerbot.engine.compound import SENTENCE_END, question_sentences
from careerbot.knowledge import Entry
from careerbot.knowledge.eval_file import EvalCase, load_eval
from careerbot.knowledge.models import OUT_OF_SCOPE
from careerbot.retrieval.documents import KINDS, text_of
from careerbot.retrieval.retriever import ROWS_PER_QUERY, Retriever

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "var" / "rank_features.npz"
SETS = ("dev", "regression")  # never "test": it is frozen and measured by the lead only
CANDIDATES = 20
TOP_ROWS = 20  # "how many of its texts are among the post's best TOP_ROWS rows"
FOLDS, SEEDS = 5, (1, 2, 3, 4, 5)
FEATURES = (
    "shipped",  # the shipped rank score: mean of the best two cosines + lexical_weight x BM25
    "top1",  # cosine of the item's best text
    "top2",  # mean of its best two
    "bm25",  # BM25, scaled so the best candidate's is 1
    "title",  # cosine of the entry's question alone
    "phrasing",  # best cosine among its question and paraphrases
    "answer",  # cosine of its answer text
    "in_top_rows",  # how many of its texts are among the post's best TOP_ROWS rows
    "reciprocal_rank",  # 1 / its place in the shipped ranking
    "out_of_scope",  # 1 for an out-of-scope entry
    "article",  # 1 for an article passage
    "sentences",  # best mean-of-two over the post's question sentences (the post's own without any)
    "first",  # mean-of-two of the post's first sentence
    "last",  # mean-of-two of its last sentence
    "top2_cut",  # top2 over the searched rows only, a text not among them at the last row's score
    "texts",  # how many texts the item has (phrasings and answer)
    "long_phrasing",  # best cosine among its phrasings of LONG_TEXT characters or more
    "short_phrasing",  # best cosine among its shorter phrasings
    "bm25_long_post",  # BM25 for a post of LONG_TEXT characters or more, else 0
)
SECOND_CALL = ("sentences", "first", "last")
# Features that need only the post's own model call (the others need a second one, for sentences).
ONE_CALL = tuple(f for f in FEATURES if f not in SECOND_CALL)
LONG_TEXT = 300


@dataclass
class Table:
    """One set's candidates: x[question, candidate, feature], which are expected, which are real."""

    x: np.ndarray
    expected: np.ndarray  # bool
    present: np.ndarray  # bool: fewer than CANDIDATES candidates leave the rest empty
    ids: list[list[str]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--refresh", action="store_true", help="recompute the cached features")
    args = parser.parse_args()
    tables = load_tables(args.refresh)
    report(tables)


def load_tables(refresh: bool) -> dict[str, Table]:
    config = load_config(REPO / "bot.toml")
    answerer = open_answerer(config)
    retriever = answerer._searcher
    assert isinstance(retriever, Retriever)
    cases = {}
    for name in SETS:
        loaded, problems = load_eval(config.knowledge.dir / "eval" / f"{name}.yaml", answerer.knowledge)
        if problems:
            raise SystemExit(f"{name}: {problems[0]}")
        cases[name] = [c for c in loaded if c.labelled and c.english and c.in_scope and c.expected]
    fingerprint = _fingerprint(cases, retriever)
    if not refresh and CACHE.exists():
        with np.load(CACHE, allow_pickle=False) as stored:
            if str(stored["fingerprint"]) == fingerprint:
                return {name: _unpack(stored, name) for name in SETS}
    tables = {name: features(answerer, retriever, cases[name]) for name in SETS}
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    packed: dict[str, np.ndarray] = {"fingerprint": np.array(fingerprint)}
    for name, table in tables.items():
        packed[f"{name}_x"], packed[f"{name}_expected"] = table.x, table.expected
        packed[f"{name}_present"] = table.present
        packed[f"{name}_ids"] = np.array(["\t".join(ids) for ids in table.ids])
    np.savez(CACHE, **packed)  # type: ignore[arg-type]  # numpy's stub types the keywords as allow_pickle
    return tables


def _fingerprint(cases: dict[str, list[EvalCase]], retriever: Retriever) -> str:
    digest = hashlib.sha256(repr(FEATURES).encode())
    for name, loaded in cases.items():
        digest.update(name.encode())
        for case in loaded:
            digest.update(f"{case.question}\0{case.expected}".encode())
    digest.update(retriever.base.keys.tobytes())
    return digest.hexdigest()


def _unpack(stored: np.lib.npyio.NpzFile, name: str) -> Table:
    ids = [str(row).split("\t") if str(row) else [] for row in stored[f"{name}_ids"]]
    return Table(stored[f"{name}_x"], stored[f"{name}_expected"], stored[f"{name}_present"], ids)


def sentences_of(post: str) -> tuple[list[str], str, str]:
    """The post's question sentences, and its first and last sentence."""
    split = [s for s in SENTENCE_END.split(post.strip()) if s] or [post]
    return question_sentences(post), split[0], split[-1]


def features(answerer: Answerer, retriever: Retriever, cases: list[EvalCase]) -> Table:
    assert retriever.delta is None, "run `careerbot index` first: one base segment"
    base = retriever.base
    vectors = base.index.vectors()
    row_item = np.array([base.items[i] for i in base.row_item.tolist()])
    row_kind = np.array([KINDS[k] for k in base.row_kind.tolist()])
    row_length = np.array(
        [
            len(text_of(answerer._item(base.items[i]), KINDS[k], p))
            for i, k, p in zip(
                base.row_item.tolist(), base.row_kind.tolist(), base.row_part.tolist(), strict=True
            )
        ]
    )
    out_of_scope = set(answerer.knowledge.ids_in(OUT_OF_SCOPE))
    posts = [answerer._clean(case.question)[0] for case in cases]
    found = retriever.search_many(posts, limit=CANDIDATES)
    parts = [sentences_of(post) for post in posts]
    texts = list(dict.fromkeys(t for asks, first, last in parts for t in (*asks, first, last)))
    encoder = retriever._encoder
    post_scores = encoder.encode_queries(posts) @ vectors.T
    sentence_scores = dict(zip(texts, encoder.encode_queries(texts) @ vectors.T, strict=True))
    x = np.zeros((len(cases), CANDIDATES, len(FEATURES)), dtype=np.float64)
    expected = np.zeros((len(cases), CANDIDATES), dtype=bool)
    present = np.zeros((len(cases), CANDIDATES), dtype=bool)
    ids = []
    for q, (case, candidates) in enumerate(zip(cases, found, strict=True)):
        scores = post_scores[q]
        ranked_rows = np.argsort(-scores)
        top_rows = set(ranked_rows[:TOP_ROWS].tolist())
        searched = set(ranked_rows[:ROWS_PER_QUERY].tolist())
        cutoff = float(scores[ranked_rows[ROWS_PER_QUERY - 1]])
        asks, first, last = parts[q]
        ids.append([c.item_id for c in candidates])
        for c, candidate in enumerate(candidates):
            rows = np.flatnonzero(row_item == candidate.item_id)
            kinds = row_kind[rows]
            own = scores[rows]
            item = answerer.knowledge.get(candidate.item_id)

            def best(kind_set: Sequence[str], own: np.ndarray = own, kinds: np.ndarray = kinds) -> float:
                chosen = own[np.isin(kinds, kind_set)]
                return float(chosen.max()) if len(chosen) else float(own.max())

            in_search = np.sort(own[np.isin(rows, list(searched))])[::-1][:2].tolist()
            top2_cut = float(np.mean([*in_search, cutoff, cutoff][:2]))
            phrasing = np.isin(kinds, ["question", "paraphrase"])
            long = phrasing & (row_length[rows] >= LONG_TEXT)
            short = phrasing & ~long
            sentence_best = max((_top2(sentence_scores[s][rows]) for s in asks), default=_top2(own))
            x[q, c] = (
                candidate.rank_score,
                float(own.max()),
                _top2(own),
                candidate.lexical,
                best(["question"]),
                best(["question", "paraphrase"]),
                best(["answer"]),
                len(top_rows.intersection(rows.tolist())),
                1 / (c + 1),
                float(candidate.item_id in out_of_scope),
                float(not isinstance(item, Entry)),
                sentence_best,
                _top2(sentence_scores[first][rows]),
                _top2(sentence_scores[last][rows]),
                top2_cut,
                len(rows),
                float(own[long].max()) if long.any() else best(["question", "paraphrase"]),
                float(own[short].max()) if short.any() else best(["question", "paraphrase"]),
                candidate.lexical * (len(posts[q]) >= LONG_TEXT),
            )
            expected[q, c] = candidate.item_id in case.expected
            present[q, c] = True
    return Table(x, expected, present, ids)


def _top2(scores: np.ndarray) -> float:
    best = np.sort(scores)[::-1][:2]
    return float(best.mean())


# ---- learning and scoring -------------------------------------------------------------------------


def metrics(scores: np.ndarray, table: Table, rows: np.ndarray) -> Figures:
    """hit@1, hit@3, MRR of a ranking by `scores` over the questions `rows` (a question whose expected
    entry is not among the candidates is a miss whatever the ranking; ties keep the shipped order)."""
    masked = np.where(table.present[rows], scores[rows], -np.inf)
    order = np.argsort(-masked, axis=1, kind="stable")
    hits = np.take_along_axis(table.expected[rows], order, axis=1)
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0)
    found = first > 0
    return Figures(
        float(np.mean(first == 1)),
        float(np.mean(found & (first <= 3))),
        float(np.mean(np.where(found, 1 / np.maximum(first, 1), 0.0))),
    )


@dataclass(frozen=True)
class Figures:
    hit_at_1: float
    hit_at_3: float
    mrr: float


def column(table: Table, name: str) -> np.ndarray:
    return table.x[..., FEATURES.index(name)]


class Model(Protocol):
    """A ranking with weights to learn: `fit` on some questions, then `score` every candidate."""

    @property
    def features(self) -> tuple[str, ...]: ...

    def fit(self, table: Table, rows: np.ndarray) -> np.ndarray: ...  # the weights, in features' units


def linear_scores(table: Table, features: Sequence[str], weights: np.ndarray) -> np.ndarray:
    return np.asarray(table.x[..., [FEATURES.index(f) for f in features]] @ weights)


@dataclass(frozen=True)
class Softmax:
    """Weights of a linear score maximising the softmax probability of each question's expected
    candidates (L2-penalised, full-batch gradient ascent on standardised features, started from the
    first feature alone)."""

    features: tuple[str, ...]
    l2: float = 1e-2
    steps: int = 1500
    rate: float = 0.5

    def fit(self, table: Table, rows: np.ndarray) -> np.ndarray:
        x = table.x[rows][..., [FEATURES.index(f) for f in self.features]]
        present, expected = table.present[rows], table.expected[rows]
        usable = (expected & present).any(axis=1)  # a question with no expected candidate teaches nothing
        x, present, expected = x[usable], present[usable], expected[usable]
        spread = x[present].std(axis=0)
        spread[spread == 0] = 1.0
        x = np.where(present[..., None], x / spread, 0.0)
        w = np.zeros(len(self.features))
        w[0] = 1.0
        for _ in range(self.steps):
            logits = np.where(present, x @ w, -np.inf)
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            target = np.where(expected, p, 0.0)
            target /= target.sum(axis=1, keepdims=True)  # the expected candidates' share
            gradient = np.einsum("qc,qcf->f", target - p, x) / len(x)
            w += self.rate * (gradient - self.l2 * w)
        return np.asarray(w / spread)


@dataclass(frozen=True)
class Grid:
    """score = top2 + sum of weight x feature, the weights chosen from a small grid for the best hit@1
    (MRR breaking ties) on the training questions: the criterion itself, a few weights."""

    grid: tuple[tuple[str, tuple[float, ...]], ...]

    @property
    def features(self) -> tuple[str, ...]:
        return ("top2", *(name for name, _ in self.grid))

    def fit(self, table: Table, rows: np.ndarray) -> np.ndarray:
        best, best_weights = (-1.0, -1.0), np.zeros(0)
        for values in itertools.product(*(values for _, values in self.grid)):
            weights = np.array([1.0, *values])
            figures = metrics(linear_scores(table, self.features, weights), table, rows)
            if (figures.hit_at_1, figures.mrr) > best:
                best, best_weights = (figures.hit_at_1, figures.mrr), weights
        return best_weights


def cross_validate(model: Model, table: Table) -> Figures:
    """Out-of-fold figures: each question scored by weights learnt without it, averaged over the seeds'
    fold splits."""
    count = len(table.x)
    results = []
    for seed in SEEDS:
        order = np.random.default_rng(seed).permutation(count)
        scores = np.zeros(table.present.shape)
        for fold in range(FOLDS):
            held = order[fold::FOLDS]
            weights = model.fit(table, np.setdiff1d(order, held))
            scores[held] = linear_scores(table, model.features, weights)[held]
        results.append(metrics(scores, table, np.arange(count)))
    return Figures(*(float(np.mean(values)) for values in zip(*map(astuple, results), strict=True)))


def _steps(start: float, stop: float, step: float) -> tuple[float, ...]:
    return tuple(round(float(v), 4) for v in np.arange(start, stop + step / 2, step))


BM25 = ("bm25", _steps(0.0, 0.3, 0.05))
MODELS: list[tuple[str, Model]] = [
    ("grid: top2 + w bm25", Grid((("bm25", _steps(0.0, 0.4, 0.025)),))),
    ("grid: top2 + w bm25 + w top1", Grid((BM25, ("top1", _steps(-0.5, 1.0, 0.1))))),
    ("grid: top2 + w bm25 + w phrasing", Grid((BM25, ("phrasing", _steps(-0.5, 1.0, 0.1))))),
    ("grid: top2 + w bm25 + w answer", Grid((BM25, ("answer", _steps(-0.5, 1.0, 0.1))))),
    ("grid: top2 + w bm25 + w texts", Grid((BM25, ("texts", _steps(-0.01, 0.01, 0.0025))))),
    ("grid: top2 + w bm25 + w out_of_scope", Grid((BM25, ("out_of_scope", _steps(-0.1, 0.1, 0.02))))),
    ("grid: top2 + w bm25 + w sentences (2nd call)", Grid((BM25, ("sentences", _steps(-0.5, 1.0, 0.1))))),
    ("grid: top2 + w bm25 + w last (2nd call)", Grid((BM25, ("last", _steps(-0.5, 1.0, 0.1))))),
    ("softmax: top2, bm25", Softmax(("top2", "bm25"))),
    ("softmax: top1, top2, bm25", Softmax(("top1", "top2", "bm25"))),
    ("softmax: top2, bm25, title, phrasing, answer", Softmax(("top2", "bm25", "title", "phrasing", "answer"))),
    ("softmax: top2, bm25, in_top_rows, reciprocal_rank", Softmax(("top2", "bm25", "in_top_rows", "reciprocal_rank"))),
    ("softmax: all one-call features", Softmax(tuple(f for f in ONE_CALL if f != "shipped"))),
    ("softmax: top2, bm25, sentences, first, last (2nd call)", Softmax(("top2", "bm25", *SECOND_CALL))),
    ("softmax: all features (2nd call)", Softmax(tuple(f for f in FEATURES if f != "shipped"))),
]  # fmt: skip


def report(tables: dict[str, Table]) -> None:
    dev, regression = tables["dev"], tables["regression"]
    all_regression = np.arange(len(regression.x))
    print(f"dev: {len(dev.x)} in-scope labelled English questions; regression: {len(regression.x)}")
    print(
        f"dev: {FOLDS}-fold cross-validation, seeds {SEEDS}, out-of-fold means; regression: weights from all dev"
    )
    print(
        f"{'ranking':<56} {'dev hit@1':>9} {'hit@3':>6} {'MRR':>6}   {'regr hit@1':>10} {'hit@3':>6} {'MRR':>6}"
    )

    def line(label: str, dev_figures: Figures, regression_figures: Figures) -> None:
        print(
            f"{label:<56} {dev_figures.hit_at_1:>9.3f} {dev_figures.hit_at_3:>6.3f} {dev_figures.mrr:>6.3f}   "
            f"{regression_figures.hit_at_1:>10.3f} {regression_figures.hit_at_3:>6.3f} {regression_figures.mrr:>6.3f}"
        )

    line(
        "shipped (best-two mean + 0.1 bm25)",
        metrics(column(dev, "shipped"), dev, np.arange(len(dev.x))),
        metrics(column(regression, "shipped"), regression, all_regression),
    )
    for label, model in MODELS:
        weights = model.fit(dev, np.arange(len(dev.x)))
        on_regression = metrics(
            linear_scores(regression, model.features, weights), regression, all_regression
        )
        line(label, cross_validate(model, dev), on_regression)
        print(
            "    weights on all dev: "
            + ", ".join(f"{f} {w:+.3f}" for f, w in zip(model.features, weights, strict=True))
        )


if __name__ == "__main__":
    main()
