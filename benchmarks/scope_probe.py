"""Does a learnt in/out-of-scope probe on the question's own vector decline more out-of-scope questions?

The probe is a logistic regression on the vector the answer path already computes for a question (the
encoder as bot.toml opens it, `retrieval.runtime.open_encoder`, on the question as the Answerer cleans
and cuts it), so it costs no model call. It is trained on

  (a) every FAQ phrasing: an in-scope entry's question and paraphrases are "in", an out-of-scope
      entry's (knowledge/faq/out-of-scope/) are "out";
  (b) labelled dev questions in English (their scope label), from the training folds only.

A question is declined when the shipped answering declines it OR the probe's P(out) >= a cut; a probe
decline replaces an answer (or an uncertain reply's choices) with the generic decline, and never turns
a decline into an answer. Questions not in English never reach the probe (they are told "English only").

dev is split into folds exactly as benchmarks/tune_kfold.py splits it (its `split`, same seed). For each
fold the probe is trained on (a) + the other folds' questions and scores the held-out fold; the variant
`phrasings` is trained on (a) only. Class weights are balanced; C and the chosen cut are picked on the
training folds only (nested): each C in C_GRID is scored by inner cross-validation over the training
folds (train on (a) + all training folds but one, score that one), the cut is the SMALLEST of CUT_GRID
that keeps the combined in-scope declines on the training folds at or under MAX_IN_SCOPE_DECLINED, and
the C with most out-of-scope declined there wins (ties: the smaller C). For `phrasings` the training
folds' questions were never trained on, so they are scored directly. Fixed cuts (FIXED_CUTS) use the
fold's chosen C. Every figure is `evaluate`'s, pooled out of fold (each question scored by the probe of
the fold that held it out: one evaluate over all of dev). The regression set is answered with a probe
trained on (a) + all of dev, its C and cut chosen the same way on all of dev.

    .venv/bin/python benchmarks/scope_probe.py --work /tmp/scope
    .venv/bin/python benchmarks/scope_probe.py --show      # also list the out-of-fold probe declines
    .venv/bin/python benchmarks/scope_probe.py --dev-weight 4 --budget 0.05   # other a-priori settings

Vectors are cached under --work (keyed by the encoder's model id). The test split is never read here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
import timeit
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from careerbot.config import load_config
from careerbot.engine.answering import Answer, Answerer
from careerbot.engine.evaluation import evaluate
from careerbot.engine.language import ENGLISH
from careerbot.engine.loading import load_engine
from careerbot.knowledge import KnowledgeBase, load_knowledge
from careerbot.knowledge.eval_file import EvalCase
from careerbot.knowledge.models import OUT_OF_SCOPE
from careerbot.retrieval.encoder import Encoder
from careerbot.retrieval.runtime import open_encoder
from further_answers import CachedSearcher  # beside this script
from tune_kfold import _cases, split  # beside this script: the same folds

REPO = Path(__file__).resolve().parent.parent
SEED = 20261129  # tune_kfold.py's default: the same folds
FIXED_CUTS = (0.5, 0.6, 0.7, 0.8, 0.9)
CUT_GRID = tuple(round(0.30 + 0.01 * i, 2) for i in range(70))  # 0.30 .. 0.99
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
MAX_IN_SCOPE_DECLINED = 0.03
VARIANTS = ("phrasings+dev", "phrasings")


@dataclasses.dataclass(frozen=True)
class Example:
    text: str  # as the answer path embeds it
    out: bool  # out of scope
    weight: float = 1.0  # in the loss, on top of the balanced class weights


@dataclasses.dataclass(frozen=True)
class Probe:
    weights: np.ndarray  # float32, the encoder's dimension
    bias: float

    def p_out(self, vectors: np.ndarray) -> np.ndarray:
        """P(out of scope) for each row: one dot product and a sigmoid."""
        return 1.0 / (1.0 + np.exp(-(vectors @ self.weights + self.bias)))


def phrasing_examples(knowledge: KnowledgeBase) -> list[Example]:
    """(a): every entry's question and paraphrases, out when the entry is an out-of-scope one."""
    return [
        Example(" ".join(text.split()), entry.topic == OUT_OF_SCOPE)
        for entry in knowledge.entries
        for text in (entry.question, *entry.paraphrases)
    ]


def question_examples(
    cases: Sequence[EvalCase], asked: Mapping[str, str], weight: float = 1.0
) -> list[Example]:
    """(b): English questions with their scope label, as the answer path embeds them (`asked`: each
    question to its cleaned, cut text). Unlabelled in-scope questions still have a scope: kept."""
    return [Example(asked[case.question], not case.in_scope, weight) for case in cases if case.english]


def training_examples(
    phrasings: Sequence[Example],
    folds: Sequence[Sequence[EvalCase]],
    asked: Mapping[str, str],
    held_out: Sequence[int],
    with_dev: bool,
    dev_weight: float = 1.0,
) -> list[Example]:
    """What a probe is trained on: (a), plus (with_dev) the questions of every fold not in `held_out`.
    A held-out question must never be here, else its out-of-fold figure would be a lie."""
    if not with_dev:
        return list(phrasings)
    training = [case for k, fold in enumerate(folds) if k not in held_out for case in fold]
    return [*phrasings, *question_examples(training, asked, dev_weight)]


def fit(examples: Sequence[Example], vectors: Mapping[str, np.ndarray], c: float) -> Probe:
    """Logistic regression, classes balanced; lbfgs on fixed data is deterministic."""
    x = np.stack([vectors[e.text] for e in examples])
    y = np.array([e.out for e in examples], dtype=int)
    weights = np.array([e.weight for e in examples])
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x, y, sample_weight=weights)
    return Probe(model.coef_[0].astype(np.float32), float(model.intercept_[0]))


def combined(answer: Answer, probe_out: bool, decline_text: str) -> Answer:
    """The shipped reply, or the generic decline when the probe says out. A decline stays as it is (an
    out-of-scope entry's answer says more than the generic one); a reply not in English is never
    touched (the probe never sees it)."""
    declined = answer.abstained and not answer.uncertain
    if not probe_out or declined or answer.language != ENGLISH:
        return answer
    return Answer(
        question=answer.question,
        abstained=True,
        text=decline_text,
        score=answer.score,
        truncated=answer.truncated,
        candidates=answer.candidates,
        language=answer.language,
    )


class ProbedAnswerer(Answerer):
    """`base`'s replies, each English one declined when `declines` (cleaned question -> the probe says
    out) holds it as True; `evaluate` then scores them by its own rules."""

    def __init__(self, base: Answerer, declines: Mapping[str, bool]) -> None:
        super().__init__(base.knowledge, base._searcher, base._config)
        self._base = base
        self._declines = declines

    def answer_many(self, questions: Sequence[str], min_score: float | None = None) -> list[Answer]:
        decline_text = self._base._decline_text()
        return [
            combined(a, self._declines.get(a.question, False), decline_text)
            for a in self._base.answer_many(questions, min_score)
        ]


@dataclasses.dataclass(frozen=True)
class Scored:
    """Questions a probe scored, with what the shipped answering did with them (English only)."""

    p_out: np.ndarray
    in_scope: np.ndarray  # bool: counted as in scope by evaluate (labelled, in scope)
    out_scope: np.ndarray  # bool: out of scope
    shipped_declined: np.ndarray  # bool: evaluate's "declined" (abstained, not uncertain)

    def rates(self, cut: float) -> tuple[float, float]:
        """Combined in-scope declined and out-of-scope declined at `cut`."""
        declined = self.shipped_declined | (self.p_out >= cut)
        return float(declined[self.in_scope].mean()), float(declined[self.out_scope].mean())


def scored(
    probe_p: Mapping[str, float],
    cases: Sequence[EvalCase],
    asked: Mapping[str, str],
    shipped: Mapping[str, Answer],
) -> Scored:
    english = [c for c in cases if c.english]
    answers = [shipped[asked[c.question]] for c in english]
    return Scored(
        p_out=np.array([probe_p[asked[c.question]] for c in english]),
        in_scope=np.array([c.in_scope and c.labelled for c in english], dtype=bool),
        out_scope=np.array([not c.in_scope for c in english], dtype=bool),
        shipped_declined=np.array([a.abstained and not a.uncertain for a in answers], dtype=bool),
    )


def choose_cut(data: Scored, budget: float = MAX_IN_SCOPE_DECLINED) -> tuple[float, float]:
    """The smallest cut keeping combined in-scope declines <= `budget`, and the share of
    out-of-scope questions declined at it (the largest cut and its share if none does)."""
    for cut in CUT_GRID:
        in_rate, out_rate = data.rates(cut)
        if in_rate <= budget:
            return cut, out_rate
    return CUT_GRID[-1], data.rates(CUT_GRID[-1])[1]


@dataclasses.dataclass
class Context:
    phrasings: list[Example]
    folds: list[list[EvalCase]]
    asked: dict[str, str]
    vectors: dict[str, np.ndarray]
    shipped: dict[str, Answer]
    dev_weight: float = 1.0  # each dev question counts this many phrasings in the loss
    budget: float = MAX_IN_SCOPE_DECLINED  # in-scope declines the chosen cut may reach on training folds

    def probabilities(self, probe: Probe, cases: Sequence[EvalCase]) -> dict[str, float]:
        texts = [self.asked[c.question] for c in cases if c.english]
        if not texts:
            return {}
        p = probe.p_out(np.stack([self.vectors[t] for t in texts]))
        return dict(zip(texts, (float(v) for v in p), strict=True))


def choose(context: Context, training_folds: Sequence[int], with_dev: bool) -> dict[str, Any]:
    """C and cut for a probe trained on (a) [+ the questions of `training_folds`], chosen on those
    folds' questions only: scored out of fold (inner) when they are trained on, directly when not."""
    folds = context.folds
    outside = [k for k in range(len(folds)) if k not in training_folds]
    trials = []
    for c in C_GRID:
        p: dict[str, float] = {}
        if with_dev:
            for j in training_folds:
                examples = training_examples(
                    context.phrasings, folds, context.asked, [*outside, j], True, context.dev_weight
                )
                p |= context.probabilities(fit(examples, context.vectors, c), folds[j])
        else:
            probe = fit(context.phrasings, context.vectors, c)
            for j in training_folds:
                p |= context.probabilities(probe, folds[j])
        data = scored(p, [case for j in training_folds for case in folds[j]], context.asked, context.shipped)
        cut, recall = choose_cut(data, context.budget)
        trials.append({"C": c, "cut": cut, "recall": recall})
    best = max(trials, key=lambda t: (t["recall"], -t["C"]))
    return {"C": best["C"], "cut": best["cut"], "training_recall": best["recall"], "trials": trials}


def run_variant(context: Context, variant: str) -> dict[str, Any]:
    """Out-of-fold P(out) for every English dev question, with each fold's chosen C and cut."""
    with_dev = variant == "phrasings+dev"
    p_out: dict[str, float] = {}
    cut_of: dict[str, float] = {}
    per_fold = []
    for k, held_out in enumerate(context.folds):
        training_folds = [j for j in range(len(context.folds)) if j != k]
        chosen = choose(context, training_folds, with_dev)
        examples = training_examples(
            context.phrasings, context.folds, context.asked, [k], with_dev, context.dev_weight
        )
        probe = fit(examples, context.vectors, chosen["C"])
        fold_p = context.probabilities(probe, held_out)
        p_out |= fold_p
        cut_of |= dict.fromkeys(fold_p, chosen["cut"])
        per_fold.append({"fold": k, "trained_on": len(examples), **chosen})
        print(f"{variant} fold {k}: C {chosen['C']}, cut {chosen['cut']}", flush=True)
    return {"p_out": p_out, "cut_of": cut_of, "folds": per_fold}


def figures(base: Answerer, cases: list[EvalCase], declines: Mapping[str, bool]) -> dict[str, Any]:
    return evaluate(ProbedAnswerer(base, declines), cases).as_dict()


def row(label: str, f: Mapping[str, Any], extra: str = "") -> str:
    return (
        f"| {label} | {f['decline_recall']:.1%} | {f['false_decline']:.1%} | {f['hit@1']:.3f} | "
        f"{f['answered_right']:.3f} | {f['uncertain_in_scope']:.1%} / {f['uncertain_out_of_scope']:.1%} | "
        f"{f['told_english']:.0%} of {f['not_english']} | {extra} |"
    )


HEADER = (
    "| probe | out-of-scope declined | in-scope declined | hit@1 (evaluate) | answered right | "
    "uncertain in / out | not English told so | note |\n|---|---|---|---|---|---|---|---|"
)


def embed_all(encoder: Encoder, texts: Sequence[str], cache: Path) -> dict[str, np.ndarray]:
    """Each text's query vector, as the answer path computes it, cached in `cache` per model id."""
    known: dict[str, np.ndarray] = {}
    if cache.is_file():
        saved = np.load(cache, allow_pickle=False)
        if str(saved["model_id"]) == encoder.model_id:
            known = dict(zip((str(t) for t in saved["texts"]), saved["vectors"], strict=True))
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    for start in range(0, len(missing), 64):
        batch = missing[start : start + 64]
        known.update(zip(batch, encoder.encode_queries(batch), strict=True))
    if missing:
        cache.parent.mkdir(parents=True, exist_ok=True)
        names = list(known)
        np.savez(
            cache,
            model_id=encoder.model_id,
            texts=np.array(names),
            vectors=np.stack([known[t] for t in names]),
        )
    return known


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=SEED, help="the split's (tune_kfold.py's default)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/careerbot-scope"))
    parser.add_argument("--dev-weight", type=float, default=1.0, help="a dev question's weight (a priori)")
    parser.add_argument(
        "--budget", type=float, default=MAX_IN_SCOPE_DECLINED, help="in-scope declined the cut may reach"
    )
    parser.add_argument("--show", action="store_true", help="list the out-of-fold probe declines")
    parser.add_argument("--json", type=Path, help="also save the figures and the table here")
    args = parser.parse_args()
    started = time.monotonic()

    config = load_config(REPO / "bot.toml")
    knowledge = load_knowledge(config.knowledge.dir)
    dev, regression = _cases("dev", config, knowledge), _cases("regression", config, knowledge)
    encoder = open_encoder(config.model, config.index.dir)
    engine, _ = load_engine(config, encoder=encoder)
    base = Answerer(engine.answerer.knowledge, CachedSearcher(engine.retriever), config.answering)
    cases = [*dev, *regression]
    answers = base.answer_many([c.question for c in cases])  # each question answered once, then cached
    asked = {c.question: a.question for c, a in zip(cases, answers, strict=True)}
    shipped = {a.question: a for a in answers}
    english_dev = [asked[c.question] for c in dev if c.english]
    if len(set(english_dev)) != len(english_dev):
        raise SystemExit("two dev questions read the same once cleaned: the out-of-fold map needs them apart")
    phrasings = phrasing_examples(knowledge)
    vectors = embed_all(encoder, [e.text for e in phrasings] + list(shipped), args.work / "vectors.npz")
    print(
        f"{len(phrasings)} phrasings ({sum(e.out for e in phrasings)} out), vectors ready "
        f"({time.monotonic() - started:.0f} s)",
        flush=True,
    )

    folds = split(dev, args.folds, args.seed)
    context = Context(phrasings, folds, asked, vectors, shipped, args.dev_weight, args.budget)
    shipped_dev = figures(base, dev, {})
    whole = evaluate(engine.answerer, dev).as_dict()
    for key in ("hit@1", "decline_recall", "false_decline"):
        if abs(shipped_dev[key] - whole[key]) > 1e-9:
            raise SystemExit(f"shipped {key} {shipped_dev[key]} != careerbot eval's {whole[key]}")

    lines = [
        f"dev, {args.folds} folds (seed {args.seed}), out of fold; a dev question weighs {args.dev_weight:g}; "
        f"chosen cuts keep in-scope declines on the training folds <= {args.budget:.0%}",
        HEADER,
        row("none (shipped)", shipped_dev),
    ]
    results: dict[str, Any] = {"shipped_dev": shipped_dev}
    declined_lists: dict[str, list[str]] = {}
    separation = []
    for variant in VARIANTS:
        run = run_variant(context, variant)
        p_out, cut_of = run["p_out"], run["cut_of"]
        chosen_declines = {q: p >= cut_of[q] for q, p in p_out.items()}
        chosen = figures(base, dev, chosen_declines)
        cuts = "/".join(f"{f['cut']:.2f}" for f in run["folds"])
        cs = "/".join(f"{f['C']:g}" for f in run["folds"])
        lines.append(row(f"{variant}, cut chosen per fold", chosen, f"cuts {cuts}, C {cs}"))
        results[variant] = {"chosen": chosen, "folds": run["folds"], "fixed": {}}
        for cut in FIXED_CUTS:
            fixed = figures(base, dev, {q: p >= cut for q, p in p_out.items()})
            results[variant]["fixed"][cut] = fixed
            lines.append(row(f"{variant}, cut {cut}", fixed, f"C {cs}"))
        separation.append(f"{variant}: {auc(context, p_out, dev)}")
        declined_lists[variant] = [
            q for q, d in chosen_declines.items() if d and not _shipped_declined(shipped[q])
        ]

    lines += ["", "how well P(out) alone separates out from in (ROC AUC), out of fold:", *separation]
    lines += [
        "",
        "regression set (probe trained on (a) + all of dev; C and cut chosen on dev out of fold)",
        HEADER,
    ]
    shipped_reg = figures(base, regression, {})
    lines.append(row("none (shipped)", shipped_reg))
    results["shipped_regression"] = shipped_reg
    speed = ""
    for variant in VARIANTS:
        with_dev = variant == "phrasings+dev"
        chosen = choose(context, list(range(args.folds)), with_dev)
        examples = training_examples(phrasings, folds, asked, [], with_dev, args.dev_weight)
        probe = fit(examples, vectors, chosen["C"])
        p_reg = context.probabilities(probe, regression)
        for label, cut in (("chosen", chosen["cut"]), *((f"{c}", c) for c in FIXED_CUTS)):
            f = figures(base, regression, {q: p >= cut for q, p in p_reg.items()})
            lines.append(row(f"{variant}, cut {label}", f, f"C {chosen['C']:g}, cut {cut:.2f}"))
            results.setdefault(f"regression {variant}", {})[label] = f
        if variant == "phrasings+dev":
            speed = timing(probe, vectors, encoder, list(shipped))

    table = "\n".join([*lines, "", speed])
    if args.show:
        for variant, questions in declined_lists.items():
            print(f"\n{variant}: declined by the probe alone, out of fold (cut chosen per fold):")
            for question in questions:
                case = next(c for c in dev if asked[c.question] == question)
                print(f"  [{'in ' if case.in_scope else 'out'}] {question[:150]}")
    for path in (args.work / "figures.json", *([args.json] if args.json else [])):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"table": table, **results}, indent=2, default=str) + "\n", encoding="utf-8"
        )
    print(table)
    print(f"{time.monotonic() - started:.0f} s in all")


def auc(context: Context, p_out: Mapping[str, float], cases: Sequence[EvalCase]) -> str:
    """ROC AUC of P(out) on every English question with a scope label, and on those the shipped
    answering does not decline (where the probe has work to do)."""
    english = [c for c in cases if c.english and (c.labelled or not c.in_scope)]
    texts = [context.asked[c.question] for c in english]
    labels = [not c.in_scope for c in english]
    left = [i for i, t in enumerate(texts) if not _shipped_declined(context.shipped[t])]
    whole = roc_auc_score(labels, [p_out[t] for t in texts])
    rest = roc_auc_score([labels[i] for i in left], [p_out[texts[i]] for i in left])
    return f"all {whole:.3f}; questions the shipped answering does not decline {rest:.3f} ({len(left)})"


def _shipped_declined(answer: Answer) -> bool:
    return answer.abstained and not answer.uncertain


def timing(probe: Probe, vectors: Mapping[str, np.ndarray], encoder: Encoder, questions: list[str]) -> str:
    """The probe for one question (its vector given) against one bare model call for it."""
    vector = vectors[questions[0]]
    runs = 20000
    probe_us = min(timeit.repeat(lambda: probe.p_out(vector), number=runs, repeat=5)) / runs * 1e6
    model_ms = min(timeit.repeat(lambda: encoder.encode_queries(questions[:1]), number=5, repeat=3)) / 5 * 1e3
    return (
        f"probe: {probe_us:.1f} us a question (one bare model call for the same question: {model_ms:.1f} ms)"
    )


if __name__ == "__main__":
    main()
