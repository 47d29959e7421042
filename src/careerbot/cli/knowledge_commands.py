"""`careerbot index`, `validate` and `eval`: building the index, checking the knowledge, scoring answers."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from careerbot.cli.wiring import EXIT_FAILED, EXIT_OK, EXIT_USAGE, open_answerer
from careerbot.config import Config
from careerbot.knowledge import KnowledgeBase, Problem, load_knowledge, validate_knowledge
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

# Where `careerbot tune` saves the model when neither --output nor model.tuned says (relative to bot.toml).
TUNED = Path("var/models/tuned")

if TYPE_CHECKING:
    from careerbot.engine.answering import Answerer
    from careerbot.engine.evaluation import EvalReport
    from careerbot.retrieval.encoder import Vectors
    from careerbot.retrieval.tuning import TrainingPair


def index(args: argparse.Namespace, config: Config) -> int:
    from careerbot.engine.loading import load_engine
    from careerbot.retrieval.onnx_export import ExportMismatch
    from careerbot.retrieval.runtime import ReusingEncoder, check_export, open_encoder

    print(f"careerbot: indexing {config.knowledge.dir} into {config.index.dir}", file=sys.stderr)
    encoder = open_encoder(config.model, config.index.dir)  # makes the ONNX export if it is missing
    checked_vectors: dict[str, Vectors] = {}
    try:
        checked = check_export(encoder, config.model, config.knowledge.dir, checked_vectors)
    except ExportMismatch as exc:
        print(f"careerbot: the ONNX export is wrong for this model: {exc}", file=sys.stderr)
        print('careerbot: index not written; set model.runtime = "torch" in bot.toml', file=sys.stderr)
        return EXIT_FAILED
    if checked:
        print(
            f"careerbot: ONNX export checked against sentence-transformers on {checked} texts",
            file=sys.stderr,
        )
    if config.model.runtime == "onnx":  # the check ran this very export in fp32: its vectors are the index's
        encoder = ReusingEncoder(encoder, checked_vectors)
    # Also folds the edits made since the last full build into one base segment (nothing re-embedded),
    # and checksums every index file, where a start checks only the files changed since their last check.
    _, report = load_engine(
        config, encoder, show_progress=True, rebuild=args.rebuild, compact=True, thorough=True
    )
    print(f"careerbot: {report.describe()}", file=sys.stderr)
    return EXIT_OK


def tune(args: argparse.Namespace, config: Config) -> int:
    from careerbot.retrieval.tuning import TuneSettings, tune_model

    for name in ("epochs", "batch_size", "question_weight"):
        if getattr(args, name) < 1:
            print(f"careerbot: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return EXIT_USAGE
    knowledge = load_knowledge(config.knowledge.dir)
    questions = _training_questions(args.questions or [], args.question_weight, config, knowledge)
    if isinstance(questions, int):
        return questions
    if config.model.tuned is not None:
        output = args.output or config.model.tuned
    else:
        output = args.output or (config.source.resolve().parent if config.source else Path.cwd()) / TUNED
    settings = TuneSettings(
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate, seed=args.seed
    )
    print(f"careerbot: tuning {config.model.name} on {config.knowledge.dir}", file=sys.stderr)
    result = tune_model(config.model, knowledge, output, settings, show_progress=True, questions=questions)
    minutes, seconds = divmod(round(result.seconds), 60)
    asked = f" ({result.questions} from real questions)" if result.questions else ""
    print(
        f"careerbot: tuned {result.base_model} on {result.pairs} pairs{asked} from {result.entries} entries "
        f"({settings.epochs} epoch(s), {result.steps} steps) in {minutes}m{seconds:02d}s; saved to "
        f"{result.output}; {_how_to_use(config, output)}"
    )
    return EXIT_OK


def _training_questions(
    names: list[str], weight: int, config: Config, knowledge: KnowledgeBase
) -> list[TrainingPair] | int:
    """The pairs from the named eval sets' questions, or an exit code once the problem is printed."""
    from careerbot.retrieval.tuning import question_pairs, training_set_files

    try:
        files = training_set_files(config.knowledge.dir, names)
    except ValueError as exc:
        print(f"careerbot: --questions: {exc}; nothing was trained", file=sys.stderr)
        return EXIT_USAGE
    pairs: list[TrainingPair] = []
    for path in files:
        cases, problems = load_eval(path, knowledge)
        if problems:
            return report_problems(problems, knowledge, 0)
        pairs += question_pairs(knowledge, cases, weight)
    return pairs


def _how_to_use(config: Config, output: Path) -> str:
    if config.model.tuned is not None and output.resolve() == config.model.tuned.resolve():
        return "in use (model.tuned): run `careerbot index` to re-embed with it"
    where = config.source.resolve().parent if config.source else Path.cwd()
    folder = output.resolve()
    setting = folder.relative_to(where) if folder.is_relative_to(where) else folder
    return (
        f'to use it, set [model] tuned = "{setting}" in {config.source or "bot.toml"}, then `careerbot index`'
    )


def validate(args: argparse.Namespace, config: Config) -> int:
    knowledge, problems = validate_knowledge(config.knowledge.dir, show_progress=sys.stderr.isatty())
    eval_count = 0
    if knowledge is not None:
        for _, path in eval_sets(config.knowledge.dir):
            cases, eval_problems = load_eval(path, knowledge)
            eval_count, problems = eval_count + len(cases), problems + eval_problems
    if knowledge is not None and args.semantic and not problems:
        from careerbot.retrieval.runtime import open_encoder
        from careerbot.retrieval.semantic_duplicates import semantic_duplicates

        problems += semantic_duplicates(knowledge, open_encoder(config.model, config.index.dir))
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
    if args.further:
        config = dataclasses.replace(
            config, answering=dataclasses.replace(config.answering, further_answers=True)
        )
    answerer = open_answerer(config)
    results: dict[str, tuple[EvalReport, list[EvalReport]]] = {}
    for name, path in sets:
        cases, problems = load_eval(path, answerer.knowledge)
        if problems:
            return report_problems(problems, answerer.knowledge, 0)
        judgments = load_judgments(path.parent / JUDGED_FOLDER / path.name)
        results[name] = _reports(answerer, cases, args.threshold, args.sweep, judgments)
    if args.json:
        figures = {name: [r.as_dict() for r in reports] for name, (_, reports) in results.items()}
        print(json.dumps(figures, indent=2))
    failed: list[str] = []
    for name, (report, reports) in results.items():
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
) -> tuple[EvalReport, list[EvalReport]]:
    """The figures at `threshold` (default: the configured one; with the blind judgments, which are of
    the replies at that setting), which gates and misses use, and every report by threshold: that one
    and, with `sweep`, those at thresholds around it."""
    from careerbot.engine.evaluation import evaluate

    report = evaluate(answerer, cases, threshold, judgments)
    steps = range(-4, 5) if sweep else range(0)
    others = [evaluate(answerer, cases, round(report.threshold + step * 0.025, 3)) for step in steps if step]
    return report, sorted([report, *others], key=lambda r: r.threshold)


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
