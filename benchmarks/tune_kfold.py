"""Does training on real questions help? Out-of-fold figures on dev for `careerbot tune --questions dev`.

dev's questions (all of them, in and out of scope) are split at random (seeded) into K folds. For each
fold the model is tuned on the entries' phrasings plus the other folds' questions (as `careerbot tune
--questions` builds them), the knowledge is embedded with it, and the held-out fold is answered by the
bot's own answering, settings as in bot.toml. The packaged model answers the same folds through the same
code. The regression set is answered by each fold's model too (the mean is printed). The test split is
never read here: it is frozen, and the lead runs it once.

    .venv/bin/python benchmarks/tune_kfold.py --folds 5 --epochs 1 --work /tmp/kfold
    .venv/bin/python benchmarks/tune_kfold.py --folds 3 --only 0   # time one fold first
    .venv/bin/python benchmarks/tune_kfold.py --folds 5 --rechoose  # then min_score re-chosen per fold

Models and indexes go under --work (nothing in git); each fold's figures are saved there as JSON, so an
interrupted run picks up at the first fold without them (same settings only: the settings name the
folder). `runtime = "torch"` is used (no ONNX export per fold; the figures are identical on both).

Tuned models score questions lower, so bot.toml's min_score declines more with them. --rechoose reuses
each fold's saved model and index and picks its min_score on the training folds only: the lowest of
THRESHOLDS at which the tuned model declines at least as many of the training folds' out-of-scope
questions as the packaged model does at bot.toml's min_score (those questions were never trained on; the
in-scope ones were, so their scores would flatter the tuned model). The held-out fold is then answered
at that min_score.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from careerbot.cli.wiring import open_answerer
from careerbot.config import Config, load_config
from careerbot.engine.answering import Answerer
from careerbot.engine.evaluation import EvalReport, evaluate
from careerbot.knowledge import KnowledgeBase, load_knowledge
from careerbot.knowledge.eval_file import EvalCase, load_eval
from careerbot.retrieval.tuning import TuneSettings, question_pairs, tune_model
from further_answers import CachedSearcher  # benchmarks/further_answers.py, beside this script

REPO = Path(__file__).resolve().parent.parent
# Figures pooled over the folds, each weighted by the questions it is a share of.
IN_SCOPE = ("hit@1", "hit@3", "mrr", "false_decline", "uncertain_in_scope")
OUT_OF_SCOPE = ("decline_recall", "uncertain_out_of_scope")
THRESHOLDS = tuple(round(0.25 + 0.025 * i, 3) for i in range(9))  # 0.25 .. 0.45


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", type=int, action="append", help="run only this fold (repeatable)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--question-weight", type=int, default=1, help="times each question is trained on")
    parser.add_argument("--seed", type=int, default=20261129, help="the split's and the training's")
    parser.add_argument("--min-score", type=float, help="the tuned models' min_score (default: bot.toml's)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/careerbot-kfold"))
    parser.add_argument(
        "--rechoose", action="store_true", help="min_score chosen on the training folds (saved models)"
    )
    args = parser.parse_args()

    config = _torch(load_config(REPO / "bot.toml"))
    knowledge = load_knowledge(config.knowledge.dir)
    dev = _cases("dev", config, knowledge)
    regression = _cases("regression", config, knowledge)
    folds = split(dev, args.folds, args.seed)
    settings = TuneSettings(epochs=args.epochs, learning_rate=args.learning_rate, seed=args.seed)
    name = f"k{args.folds}-e{args.epochs}-lr{args.learning_rate:g}-w{args.question_weight}-s{args.seed}"
    work = args.work / name
    packaged = _answerer(config, args.work / "packaged-index", None, None)
    tuned_min_score = args.min_score
    if args.rechoose:
        rechoose(config, work, folds, packaged, regression)
        return

    for k in args.only if args.only is not None else range(args.folds):
        result = work / f"fold-{k}.json"
        if result.is_file():
            continue
        training = [case for i, fold in enumerate(folds) if i != k for case in fold]
        started = time.monotonic()
        model = work / f"fold-{k}" / "model"
        outcome = tune_model(
            config.model,
            knowledge,
            model,
            settings,
            show_progress=True,  # tqdm on stderr: a fold takes many minutes
            questions=question_pairs(knowledge, training, args.question_weight),
        )
        tuned = _answerer(config, work / f"fold-{k}" / "index", model, tuned_min_score)
        figures = {
            "fold": k,
            "held_out": len(folds[k]),
            "pairs": outcome.pairs,
            "question_pairs": outcome.questions,
            "steps": outcome.steps,
            "tune_seconds": round(outcome.seconds),
            "tuned": _figures(evaluate(tuned, folds[k])),
            "packaged": _figures(evaluate(packaged, folds[k])),
            "tuned_regression": _figures(evaluate(tuned, regression)),
            "seconds": round(time.monotonic() - started),
        }
        result.parent.mkdir(parents=True, exist_ok=True)
        result.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"fold {k}: {json.dumps(figures)}", flush=True)

    saved = [work / f"fold-{k}.json" for k in range(args.folds)]
    done = [json.loads(path.read_text()) for path in saved if path.is_file()]
    if done:
        print(_table(name, done, _figures(evaluate(packaged, regression))))


def rechoose(
    config: Config,
    work: Path,
    folds: list[list[EvalCase]],
    packaged: Answerer,
    regression: list[EvalCase],
) -> None:
    """For each fold tuned already: min_score chosen on the training folds, the held-out fold answered
    at it (see the module's docstring); saved as fold-K-rechosen.json and printed as one table."""
    rows: list[dict[str, Any]] = []
    for k, held_out in enumerate(folds):
        model = work / f"fold-{k}" / "model"
        if not (work / f"fold-{k}.json").is_file():
            continue
        out_of_scope = [c for i, f in enumerate(folds) if i != k for c in f if not c.in_scope and c.english]
        goal = evaluate(packaged, out_of_scope).decline_recall
        tuned = _cached(_answerer(config, work / f"fold-{k}" / "index", model, None))
        recalls = {t: evaluate(tuned, out_of_scope, t).decline_recall for t in THRESHOLDS}
        chosen = min((t for t, recall in recalls.items() if recall >= goal), default=THRESHOLDS[-1])
        row = {"fold": k, "goal": goal, "recalls": recalls, "min_score": chosen}
        row["tuned"] = _figures(evaluate(tuned, held_out, chosen))
        row["tuned_regression"] = _figures(evaluate(tuned, regression, chosen))
        (work / f"fold-{k}-rechosen.json").write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
        print(f"fold {k}: min_score {chosen} (out-of-scope declined on training folds {goal:.3f})")
        rows.append(row)
    if rows:
        print(_row("tuned, min_score re-chosen per fold", _pooled([r["tuned"] for r in rows])))
        print(_row("tuned, same, regression (mean of folds)", _mean([r["tuned_regression"] for r in rows])))


def _cached(answerer: Answerer) -> Answerer:
    """The same answering with each question searched once, however many thresholds it is tried at."""
    return Answerer(answerer.knowledge, CachedSearcher(answerer._searcher), answerer._config)


def split(cases: list[EvalCase], folds: int, seed: int) -> list[list[EvalCase]]:
    """The cases shuffled (seeded) and dealt into `folds` folds of near-equal size."""
    order = list(cases)
    random.Random(seed).shuffle(order)
    return [order[k::folds] for k in range(folds)]


def _torch(config: Config) -> Config:
    return dataclasses.replace(config, model=dataclasses.replace(config.model, runtime="torch"))


def _answerer(config: Config, index: Path, tuned: Path | None, min_score: float | None) -> Answerer:
    """The bot's answering with its own index at `index`, on the tuned model when given."""
    answering = config.answering
    if min_score is not None:
        answering = dataclasses.replace(answering, min_score=min_score)
    return open_answerer(
        dataclasses.replace(
            config,
            model=dataclasses.replace(config.model, tuned=tuned),
            index=dataclasses.replace(config.index, dir=index),
            answering=answering,
        )
    )


def _cases(name: str, config: Config, knowledge: KnowledgeBase) -> list[EvalCase]:
    cases, problems = load_eval(config.knowledge.dir / "eval" / f"{name}.yaml", knowledge)
    if problems:
        raise SystemExit(f"{name}: {problems[0]}")
    return cases


def _figures(report: EvalReport) -> dict[str, Any]:
    return report.as_dict()


def _pooled(reports: list[dict[str, Any]]) -> dict[str, float]:
    """Out-of-fold figures: each fold's shares weighted by its number of questions."""
    pooled: dict[str, float] = {}
    for keys, weight in ((IN_SCOPE, "in_scope"), (OUT_OF_SCOPE, "out_of_scope")):
        total = sum(r[weight] for r in reports)
        for key in keys:
            pooled[key] = sum(r[key] * r[weight] for r in reports) / total if total else 0.0
    return pooled


def _table(name: str, done: list[dict[str, Any]], packaged_regression: dict[str, Any]) -> str:
    rows = [
        ("packaged, out of fold", _pooled([d["packaged"] for d in done])),
        ("tuned, out of fold", _pooled([d["tuned"] for d in done])),
        ("packaged, regression", packaged_regression),
        ("tuned, regression (mean of folds)", _mean([d["tuned_regression"] for d in done])),
    ]
    folds = ", ".join(str(d["fold"]) for d in done)
    minutes = statistics.mean(d["tune_seconds"] for d in done) / 60
    lines = [
        f"{name}: folds {folds} ({done[0]['pairs']} pairs, {done[0]['question_pairs']} from questions; "
        f"tuning {minutes:.1f} min a fold)",
        "| model | hit@1 | hit@3 | MRR | in-scope declined | out-of-scope declined |",
        "|---|---|---|---|---|---|",
    ]
    return "\n".join(lines + [_row(label, figures) for label, figures in rows])


def _row(label: str, figures: dict[str, Any]) -> str:
    return (
        f"| {label} | {figures['hit@1']:.3f} | {figures['hit@3']:.3f} | {figures['mrr']:.3f} | "
        f"{figures['false_decline']:.1%} | {figures['decline_recall']:.1%} |"
    )


def _mean(reports: list[dict[str, Any]]) -> dict[str, float]:
    return {key: statistics.mean(r[key] for r in reports) for key in (*IN_SCOPE, *OUT_OF_SCOPE)}


if __name__ == "__main__":
    main()
