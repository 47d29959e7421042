"""The `careerbot` command. Heavy imports (torch via sentence-transformers, faiss) happen inside the
commands that need them, so `--help` and `validate` stay fast."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from careerbot import __version__
from careerbot.config import Config, ConfigError, load_config
from careerbot.curation.store import StoreError
from careerbot.knowledge import KnowledgeBase, KnowledgeError, Problem, validate_knowledge
from careerbot.knowledge.eval_file import load_eval
from careerbot.knowledge.problems import count_problems

if TYPE_CHECKING:
    from careerbot.engine.answering import Answerer
    from careerbot.engine.live import LiveEngine

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(Path(args.config))
        return int(args.handler(args, config))
    except ConfigError as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KnowledgeError as exc:
        print(f"careerbot: cannot load the knowledge: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except StoreError as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="careerbot",
        description="Answers questions about the machine-learning-engineer role from curated knowledge.",
    )
    parser.add_argument("--version", action="version", version=f"careerbot {__version__}")
    config_help = "settings file (default: $CAREERBOT_CONFIG or ./bot.toml); paths in it are relative to it"
    parser.add_argument("--config", default=os.environ.get("CAREERBOT_CONFIG", "bot.toml"), help=config_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = commands.add_parser("ask", help="answer one question (or, with --json, each line of stdin)")
    ask.add_argument("question", nargs="?", help="the question; with --json and none given, read stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("--explain", action="store_true", help="show the top candidates and what matched")
    ask.set_defaults(handler=_ask)

    chat = commands.add_parser("chat", help="ask questions interactively in the terminal")
    chat.add_argument("--explain", action="store_true", help="show the top candidates and what matched")
    chat.set_defaults(handler=_chat)

    run = commands.add_parser("run", help="start the Discord bot (token from DISCORD_TOKEN)")
    run.set_defaults(handler=_run)

    sync = commands.add_parser("sync", help="register the slash commands with Discord (needs DISCORD_TOKEN)")
    sync.add_argument("--guild", type=int, metavar="ID", help="in this server only, effective at once")
    sync.set_defaults(handler=_sync)

    index = commands.add_parser("index", help="embed what changed in the knowledge and save the index")
    index.add_argument(
        "--rebuild", action="store_true", help="re-embed everything into a new index (nothing on disk reused)"
    )
    index.set_defaults(handler=_index)

    validate = commands.add_parser("validate", help="check every knowledge file (fast, no model)")
    validate.add_argument(
        "--semantic", action="store_true", help="also flag phrasings of different entries that embed alike"
    )
    validate.set_defaults(handler=_validate)

    evaluate = commands.add_parser("eval", help="score retrieval against knowledge/eval.yaml")
    evaluate.add_argument("--threshold", type=float, help="abstention threshold (default: from bot.toml)")
    evaluate.add_argument("--sweep", action="store_true", help="also show the scores at other thresholds")
    evaluate.add_argument("--misses", action="store_true", help="list the questions it got wrong")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    gates = evaluate.add_argument_group("gates (exit 1 when one fails)")
    gates.add_argument("--min-hit1", type=float, metavar="X")
    gates.add_argument("--min-hit3", type=float, metavar="X")
    gates.add_argument("--min-decline-recall", type=float, metavar="X", help="share of out-of-scope declined")
    gates.add_argument("--max-false-decline", type=float, metavar="X", help="share of in-scope declined")
    evaluate.set_defaults(handler=_eval)
    for command in commands.choices.values():  # `careerbot run --config FILE` as well as before `run`
        command.add_argument("--config", default=argparse.SUPPRESS, help=config_help)
    return parser


def _open(config: Config) -> Answerer:
    return _open_live(config).answerer


def _open_live(config: Config) -> LiveEngine:
    """The engine, loading the persisted index (and saying so when it had to embed anything); the bot
    keeps the LiveEngine, which /kb reload can swap without a restart."""
    from careerbot.engine.live import LiveEngine
    from careerbot.engine.loading import load_engine
    from careerbot.retrieval.encoder import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder(config.model)
    engine, report = load_engine(config, encoder=encoder)
    if not report.loaded:
        print(f"careerbot: {report.describe()}", file=sys.stderr)
    live = LiveEngine(config, encoder, engine)
    live.warm_up_in_background()
    return live


def _ask(args: argparse.Namespace, config: Config) -> int:
    from careerbot.engine.answering import QuestionError
    from careerbot.terminal import render_answer

    if args.question is None and not args.json:
        print("careerbot ask: give a question, or use --json to read questions from stdin", file=sys.stderr)
        return EXIT_USAGE
    answerer = _open(config)
    if args.question is None:
        return _answer_lines(answerer, sys.stdin, sys.stdout)
    if not _is_utf8(args.question):
        print("careerbot: the question is not valid UTF-8", file=sys.stderr)
        return EXIT_USAGE
    try:
        answer = answerer.answer(args.question)
    except QuestionError as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(
        json.dumps(answer.to_json(), ensure_ascii=False) if args.json else render_answer(answer, args.explain)
    )
    return EXIT_OK


def _answer_lines(answerer: Answerer, stdin: TextIO, out: TextIO) -> int:
    """One JSON line per non-blank input line, written as soon as it is answered. A line that cannot
    be answered (not UTF-8, say) gets a JSON line with an error instead, and the rest are answered."""
    from careerbot.engine.answering import QuestionError

    for number, line in _numbered_lines(stdin):
        if line is None:
            result: dict[str, object] = {"question": None, "error": f"line {number} is not valid UTF-8"}
        elif not line.strip():
            continue
        else:
            try:
                result = answerer.answer(line).to_json()
            except QuestionError as exc:
                result = {"question": line.strip(), "error": f"line {number}: {exc}"}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return EXIT_OK


def _numbered_lines(stdin: TextIO) -> Iterator[tuple[int, str | None]]:
    """Each line of the input, numbered from 1, decoded on its own: None for one that is not UTF-8
    (the bytes underneath are read where there are any, so one bad line cannot end the input)."""
    raw: Iterable[bytes | str] = getattr(stdin, "buffer", None) or stdin
    for number, line in enumerate(raw, start=1):
        text = line.decode("utf-8", "surrogateescape") if isinstance(line, bytes) else line
        yield number, text if _is_utf8(text) else None


def _is_utf8(text: str) -> bool:
    """False for text holding bytes that were not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _chat(args: argparse.Namespace, config: Config) -> int:
    from careerbot.engine.answering import QuestionError
    from careerbot.terminal import render_answer

    print("careerbot: loading the model and the index...", file=sys.stderr)
    answerer = _open(config)
    print("Ask about the machine learning engineer role. An empty line or Ctrl-D quits.\n")
    while True:
        try:
            question = input("you> ")
        except EOFError:
            print()
            return EXIT_OK
        if not question.strip() or question.strip().lower() in {"quit", "exit"}:
            return EXIT_OK
        try:
            print(render_answer(answerer.answer(question), args.explain) + "\n")
        except QuestionError as exc:
            print(exc)


def _run(args: argparse.Namespace, config: Config) -> int:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print(
            "careerbot: DISCORD_TOKEN is not set; export the bot's token (or use `careerbot chat`)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from careerbot.bot.runner import StartError, run_bot

    _recover(config)
    try:
        run_bot(config, _open_live(config), token)
    except StartError as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _sync(args: argparse.Namespace, config: Config) -> int:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print("careerbot: set DISCORD_TOKEN to sync the commands", file=sys.stderr)
        return EXIT_USAGE
    from careerbot.bot.runner import StartError, sync_commands

    _recover(config)
    try:
        report = sync_commands(config, _open_live(config), token, args.guild)
    except StartError as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    where = f"server {args.guild}" if args.guild else "all servers (may take up to an hour to show)"
    print(f"careerbot: synced {report.commands} commands to {where}")
    if args.guild is None and report.moderation:
        print(f"careerbot: /kb registered in server(s) {', '.join(map(str, report.moderation))}")
    elif args.guild is None and not config.discord.moderation_guilds:
        print("careerbot: /kb is off: discord.moderation_guilds lists no server")
    for server in report.refused:
        print(
            f"careerbot: Discord refused /kb in server {server} (discord.moderation_guilds): "
            "is careerbot in that server, invited with the applications.commands scope?",
            file=sys.stderr,
        )
    return EXIT_FAILED if report.refused else EXIT_OK


def _recover(config: Config) -> None:
    """Before the knowledge loads: a damaged database stops start-up here (StoreError), and a change a
    crash cut short is finished, so the knowledge is whole again (careerbot.curation.journal)."""
    from careerbot.curation.journal import recover

    for line in recover(config.knowledge.dir, config.storage.database):
        print(f"careerbot: {line}", file=sys.stderr)


def _index(args: argparse.Namespace, config: Config) -> int:
    from careerbot.engine.loading import load_engine

    print(f"careerbot: indexing {config.knowledge.dir} into {config.index.dir}", file=sys.stderr)
    # Also folds the edits made since the last full build into one base segment (nothing re-embedded),
    # and checksums every index file, where a start checks only the files changed since their last check.
    _, report = load_engine(config, show_progress=True, rebuild=args.rebuild, compact=True, thorough=True)
    print(f"careerbot: {report.describe()}", file=sys.stderr)
    return EXIT_OK


def _validate(args: argparse.Namespace, config: Config) -> int:
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
    return _report_problems(problems, knowledge, eval_count)


def _report_problems(problems: list[Problem], knowledge: KnowledgeBase | None, eval_count: int) -> int:
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


def _eval(args: argparse.Namespace, config: Config) -> int:
    from careerbot.engine.evaluation import evaluate
    from careerbot.terminal import render_eval, render_misses

    eval_path = config.knowledge.dir / "eval.yaml"
    answerer = _open(config)
    cases, problems = load_eval(eval_path, answerer.knowledge)
    if problems:
        return _report_problems(problems, answerer.knowledge, 0)
    report = evaluate(answerer, cases, args.threshold)
    reports = [report]
    if args.sweep:
        for step in range(-4, 5):
            if step:
                reports.append(evaluate(answerer, cases, round(report.threshold + step * 0.025, 3)))
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


if __name__ == "__main__":
    raise SystemExit(main())
