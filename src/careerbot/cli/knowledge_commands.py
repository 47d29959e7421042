"""`careerbot index`, `validate` and `eval`: building the index, checking the knowledge, scoring answers."""

from __future__ import annotations

import argparse
import json
import os
import sys

from careerbot.cli.wiring import EXIT_FAILED, EXIT_OK, open_answerer
from careerbot.config import Config
from careerbot.knowledge import KnowledgeBase, Problem, validate_knowledge
from careerbot.knowledge.eval_file import load_eval
from careerbot.knowledge.problems import count_problems


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
    eval_path = config.knowledge.dir / "eval.yaml"
    if knowledge is not None and os.path.lexists(eval_path):  # a dangling link is reported, not skipped
        cases, eval_problems = load_eval(eval_path, knowledge)
        eval_count, problems = len(cases), problems + eval_problems
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
    from careerbot.engine import evaluation

    eval_path = config.knowledge.dir / "eval.yaml"
    answerer = open_answerer(config)
    cases, problems = load_eval(eval_path, answerer.knowledge)
    if problems:
        return report_problems(problems, answerer.knowledge, 0)
    report = evaluation.evaluate(answerer, cases, args.threshold)
    reports = [report]
    if args.sweep:
        for step in range(-4, 5):
            if step:
                reports.append(
                    evaluation.evaluate(answerer, cases, round(report.threshold + step * 0.025, 3))
                )
        reports.sort(key=lambda r: r.threshold)
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        print(render_eval(reports))
    if args.misses:
        print(render_misses(report))
    failed = [
        f"{name} {value:.3f} {'<' if low else '>'} {limit}"
        for name, value, limit, low in (
            ("hit@1", report.hit_at_1, args.min_hit1, True),
            ("hit@3", report.hit_at_3, args.min_hit3, True),
            ("out-of-scope declined", report.decline_recall, args.min_decline_recall, True),
            ("in-scope declined", report.false_decline, args.max_false_decline, False),
        )
        if limit is not None and (value < limit if low else value > limit)
    ]
    for failure in failed:
        print(f"careerbot: gate failed: {failure}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK
