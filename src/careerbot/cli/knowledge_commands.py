"""`careerbot index`, `validate` and `eval`: building the index, checking the knowledge, scoring answers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from careerbot.cli.wiring import EXIT_FAILED, EXIT_OK, EXIT_USAGE, open_answerer
from careerbot.config import Config
from careerbot.knowledge import KnowledgeBase, Problem, validate_knowledge
from careerbot.knowledge.eval_file import (
    EVAL_FOLDER,
    JUDGED_FOLDER,
    EvalCase,
    Judgment,
    eval_sets,
    load_eval,
    load_judgments,
)
from careerbot.knowledge.problems import count_problems

if TYPE_CHECKING:
    from careerbot.engine.answering import Answerer
    from careerbot.engine.evaluation import EvalReport


def index(args: argparse.Namespace, config: Config) -> int:
    from careerbot.engine.loading import load_engine

    print(f"careerbot: indexing {config.knowledge.dir} into {config.index.dir}", file=sys.stderr)
    # Also folds the edits made since the last full build into one base segment (nothing re-embedded),
    # and checksums every index file, where a start checks only the files changed since their last check.
    _, report = load_engine(config, show_progress=True, rebuild=args.rebuild, compact=True, thorough=True)
    print(f"careerbot: {report.describe()}", file=sys.stderr)
    return EXIT_OK


def validate(args: argparse.Namespace, config: Config) -> int:
    knowledge, problems = validate_knowledge(config.knowledge.dir, show_progress=sys.stderr.isatty())
    eval_count = 0
    if knowledge is not None:
        for _, path in eval_sets(config.knowledge.dir):
            cases, eval_problems = load_eval(path, knowledge)
            eval_count, problems = eval_count + len(cases), problems + eval_problems
    if knowledge is not None and args.semantic and not problems:
        from careerbot.retrieval.encoder import SentenceTransformerEncoder
        from careerbot.retrieval.semantic_duplicates import semantic_duplicates

        problems += semantic_duplicates(knowledge, SentenceTransformerEncoder(config.model))
    return report_problems(problems, knowledge, eval_count)


def report_problems(problems: list[Problem], knowledge: KnowledgeBase | None, eval_count: int) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems or knowledge is None:
        print(f"careerbot: {count_problems(problems)} problem(s); nothing was changed", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"ok: {len(knowledge.entries)} entries, {len(knowledge.passages)} article passages, "
        f"{eval_count} eval questions"
    )
    return EXIT_OK


def evaluate(args: argparse.Namespace, config: Config) -> int:
    from careerbot.cli.render import render_eval, render_misses

    sets = [(name, path) for name, path in eval_sets(config.knowledge.dir) if args.set in (None, name)]
    if not sets:
        print(
            f"careerbot: no eval set {args.set or ''} in {config.knowledge.dir / EVAL_FOLDER}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    answerer = open_answerer(config)
    results: dict[str, list[EvalReport]] = {}
    for name, path in sets:
        cases, problems = load_eval(path, answerer.knowledge)
        if problems:
            return report_problems(problems, answerer.knowledge, 0)
        judgments = load_judgments(path.parent / JUDGED_FOLDER / path.name)
        results[name] = _reports(answerer, cases, args.threshold, args.sweep, judgments)
    if args.json:
        print(
            json.dumps({name: [r.as_dict() for r in reports] for name, reports in results.items()}, indent=2)
        )
    failed: list[str] = []
    for name, reports in results.items():
        report = next(r for r in reports if args.threshold in (None, r.threshold))
        if not args.json:
            print(f"{name} ({report.in_scope + report.out_of_scope + report.not_english} questions)")
            print(render_eval(reports) + "\n")
        if args.misses:
            print(render_misses(report))
        failed += [f"{name}: {failure}" for failure in _gate_failures(args, report)]
    for failure in failed:
        print(f"careerbot: gate failed: {failure}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _reports(
    answerer: Answerer,
    cases: list[EvalCase],
    threshold: float | None,
    sweep: bool,
    judgments: dict[str, Judgment],
) -> list[EvalReport]:
    """The figures at `threshold` (default: the configured one; with the blind judgments, which are of
    the replies at that setting), and with `sweep` at thresholds around it."""
    from careerbot.engine.evaluation import evaluate

    report = evaluate(answerer, cases, threshold, judgments)
    steps = range(-4, 5) if sweep else range(0)
    others = [evaluate(answerer, cases, round(report.threshold + step * 0.025, 3)) for step in steps if step]
    return sorted([report, *others], key=lambda r: r.threshold)


def _gate_failures(args: argparse.Namespace, report: EvalReport) -> list[str]:
    return [
        f"{name} {value:.3f} {'<' if low else '>'} {limit}"
        for name, value, limit, low in (
            ("hit@1", report.hit_at_1, args.min_hit1, True),
            ("hit@3", report.hit_at_3, args.min_hit3, True),
            ("out-of-scope declined", report.decline_recall, args.min_decline_recall, True),
            ("in-scope declined", report.false_decline, args.max_false_decline, False),
        )
        if limit is not None and (value < limit if low else value > limit)
    ]
