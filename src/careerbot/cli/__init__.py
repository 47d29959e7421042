"""The `careerbot` command: its arguments, and which module runs each subcommand. Heavy imports (torch via sentence-transformers, faiss) happen inside the
commands that need them, so `--help` and `validate` stay fast."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from careerbot import __version__
from careerbot.cli import answers, discord_commands, knowledge_commands
from careerbot.cli.wiring import EXIT_FAILED, EXIT_USAGE
from careerbot.config import ConfigError, load_config
from careerbot.curation.store import StoreError
from careerbot.knowledge import KnowledgeError


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
    ask.set_defaults(handler=answers.ask)

    chat = commands.add_parser("chat", help="ask questions interactively in the terminal")
    chat.add_argument("--explain", action="store_true", help="show the top candidates and what matched")
    chat.set_defaults(handler=answers.chat)

    run = commands.add_parser("run", help="start the Discord bot (token from DISCORD_TOKEN)")
    run.add_argument(
        "--shard-ids",
        type=discord_commands.shard_id_list,
        metavar="0,1",
        help="run only these shards of --shard-count (default: discord.shard_ids, else all)",
    )
    run.add_argument(
        "--shard-count",
        type=discord_commands.shard_count,
        metavar="N",
        help='the shards in all, the same N in every process; "auto": Discord\'s count, all here '
        "(default: discord.shard_count)",
    )
    run.set_defaults(handler=discord_commands.run)

    sync = commands.add_parser("sync", help="register the slash commands with Discord (needs DISCORD_TOKEN)")
    sync.add_argument("--guild", type=int, metavar="ID", help="in this server only, effective at once")
    sync.set_defaults(handler=discord_commands.sync)

    index = commands.add_parser("index", help="embed what changed in the knowledge and save the index")
    index.add_argument(
        "--rebuild", action="store_true", help="re-embed everything into a new index (nothing on disk reused)"
    )
    index.set_defaults(handler=knowledge_commands.index)

    validate = commands.add_parser("validate", help="check every knowledge file (fast, no model)")
    validate.add_argument(
        "--semantic", action="store_true", help="also flag phrasings of different entries that embed alike"
    )
    validate.set_defaults(handler=knowledge_commands.validate)

    evaluate = commands.add_parser("eval", help="score the answers against each set in knowledge/eval/")
    evaluate.add_argument("--set", metavar="NAME", help="only this set (test, dev or regression)")
    evaluate.add_argument("--threshold", type=float, help="abstention threshold (default: from bot.toml)")
    evaluate.add_argument("--sweep", action="store_true", help="also show the scores at other thresholds")
    evaluate.add_argument("--misses", action="store_true", help="list the questions it got wrong")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.add_argument(
        "--further",
        action="store_true",
        help="give compound questions their second part whatever bot.toml says, to measure its precision",
    )
    gates = evaluate.add_argument_group("gates (exit 1 when one fails)")
    gates.add_argument("--min-hit1", type=float, metavar="X")
    gates.add_argument("--min-hit3", type=float, metavar="X")
    gates.add_argument("--min-decline-recall", type=float, metavar="X", help="share of out-of-scope declined")
    gates.add_argument("--max-false-decline", type=float, metavar="X", help="share of in-scope declined")
    evaluate.set_defaults(handler=knowledge_commands.evaluate)
    tune = commands.add_parser(
        "tune",
        help="fine-tune the model on the FAQ entries' own phrasings, and real questions with --questions "
        "(minutes; saves a model folder)",
    )
    tune.add_argument(
        "--output", type=Path, help="where to save it (default: model.tuned, else var/models/tuned)"
    )
    tune.add_argument("--epochs", type=int, default=1, help="passes over the pairs (default: 1)")
    tune.add_argument("--batch-size", type=int, default=32, help="pairs per step, the in-batch negatives")
    tune.add_argument("--learning-rate", type=float, default=2e-5, help="AdamW's, after warm-up")
    tune.add_argument("--seed", type=int, default=20261129, help="seeds random, numpy and torch")
    tune.add_argument(
        "--questions",
        action="append",
        metavar="SET",
        help="also train on this eval set's labelled in-scope questions (e.g. dev; repeatable; never test)",
    )
    tune.add_argument(
        "--question-weight", type=int, default=1, help="times each question is trained on (default: 1)"
    )
    tune.set_defaults(handler=knowledge_commands.tune)
    for command in commands.choices.values():  # `careerbot run --config FILE` as well as before `run`
        command.add_argument("--config", default=argparse.SUPPRESS, help=config_help)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
