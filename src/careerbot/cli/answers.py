"""`careerbot ask` and `careerbot chat`: the engine's answers in the terminal, or as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TextIO

from careerbot.cli.wiring import EXIT_OK, EXIT_USAGE, open_answerer
from careerbot.config import Config

if TYPE_CHECKING:
    from careerbot.engine.answering import Answerer


def ask(args: argparse.Namespace, config: Config) -> int:
    from careerbot.cli.render import render_answer
    from careerbot.engine.answering import QuestionError

    if args.question is None and not args.json:
        print("careerbot ask: give a question, or use --json to read questions from stdin", file=sys.stderr)
        return EXIT_USAGE
    answerer = open_answerer(config)
    if args.question is None:
        return answer_lines(answerer, sys.stdin, sys.stdout)
    if not is_utf8(args.question):
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


def answer_lines(answerer: Answerer, stdin: TextIO, out: TextIO) -> int:
    """One JSON line per non-blank input line, written as soon as it is answered. A line that cannot
    be answered (not UTF-8, say) gets a JSON line with an error instead, and the rest are answered."""
    from careerbot.engine.answering import QuestionError

    for number, line in numbered_lines(stdin):
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


def numbered_lines(stdin: TextIO) -> Iterator[tuple[int, str | None]]:
    """Each line of the input, numbered from 1, decoded on its own: None for one that is not UTF-8
    (the bytes underneath are read where there are any, so one bad line cannot end the input)."""
    raw: Iterable[bytes | str] = getattr(stdin, "buffer", None) or stdin
    for number, line in enumerate(raw, start=1):
        text = line.decode("utf-8", "surrogateescape") if isinstance(line, bytes) else line
        yield number, text if is_utf8(text) else None


def is_utf8(text: str) -> bool:
    """False for text holding bytes that were not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def chat(args: argparse.Namespace, config: Config) -> int:
    from careerbot.cli.render import render_answer
    from careerbot.engine.answering import QuestionError

    print("careerbot: loading the model and the index...", file=sys.stderr)
    answerer = open_answerer(config)
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
