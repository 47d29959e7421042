"""Measures the compound-question rule ([answering] further_*) on the dev and regression sets.

For each setting of the rule's thresholds it prints how many second parts careerbot would show and how
many of them are an expected entry of the question (precision). The main answers do not depend on these
settings. The test split is never read here: settings are chosen on dev, checked on regression.

    .venv/bin/python benchmarks/further_answers.py            # the grid, on dev and regression
    .venv/bin/python benchmarks/further_answers.py --set dev  # one set
    .venv/bin/python benchmarks/further_answers.py --speed    # time answers with the rule on and off

With the rule on, a post whose ranking leaves room for a second part has its question sentences searched
in a second model call; --speed times each question's answer with the rule on and off, alternately, and
prints the ratio (read it beside the load average: the machine may be shared).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from careerbot.cli.wiring import open_answerer
from careerbot.config import load_config
from careerbot.engine.answering import Answerer, Searcher
from careerbot.engine.evaluation import evaluate
from careerbot.knowledge.eval_file import EvalCase, load_eval
from careerbot.retrieval.candidate import Candidate

REPO = Path(__file__).resolve().parent.parent
SETS = ("dev", "regression")  # never "test": it is frozen and measured by the lead only
MIN_SCORES = (0.55, 0.6, 0.62, 0.65, 0.68, 0.7)
MARGINS = (0.0, 0.02, 0.04)
WITHIN = (2, 3)
# bot.toml turns further answers on by default only at this precision over at least this many.
GOOD_PRECISION, ENOUGH_SHOWN = 0.8, 20


class CachedSearcher:
    """Each text searched once: the grid's settings change the decision, not the search."""

    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher
        self._found: dict[str, list[Candidate]] = {}

    def search_many(self, questions: Sequence[str], limit: int = 10) -> list[list[Candidate]]:
        new = [q for q in dict.fromkeys(questions) if q not in self._found]
        if new:
            self._found.update(zip(new, self._searcher.search_many(new, limit), strict=True))
        return [self._found[q] for q in questions]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", choices=SETS, help="only this set (default: dev and regression)")
    parser.add_argument("--speed", action="store_true", help="time answers with the rule on and off")
    args = parser.parse_args()
    config = load_config(REPO / "bot.toml")
    on = dataclasses.replace(config, answering=dataclasses.replace(config.answering, further_answers=True))
    base = open_answerer(on)
    searcher = CachedSearcher(base._searcher)  # the engine's own searcher, its results cached
    names = [args.set] if args.set else list(SETS)
    cases: dict[str, list[EvalCase]] = {}
    for name in names:
        loaded, problems = load_eval(config.knowledge.dir / "eval" / f"{name}.yaml", base.knowledge)
        if problems:
            raise SystemExit(f"{name}: {problems[0]}")
        cases[name] = loaded
    if args.speed:
        off = Answerer(base.knowledge, base._searcher, config.answering)
        for name in names:
            time_on_and_off(name, base, off, [case.question for case in cases[name]])
        return
    configured = config.answering
    print(
        f"bot.toml: further_answers = {str(configured.further_answers).lower()}, further_min_score = "
        f"{configured.further_min_score}, further_sentence_margin = {configured.further_sentence_margin}, "
        f"further_within = {configured.further_within}"
    )
    print(f"{'min_score':>9} {'margin':>6} {'within':>6}  " + "  ".join(f"{n:>18}" for n in names))
    for min_score, margin, within in itertools.product(MIN_SCORES, MARGINS, WITHIN):
        settings = dataclasses.replace(
            on.answering, further_min_score=min_score, further_sentence_margin=margin, further_within=within
        )
        answerer = Answerer(base.knowledge, searcher, settings)
        cells = []
        for name in names:
            report = evaluate(answerer, cases[name])
            shown, right = report.further_shown, report.further_right
            mark = "*" if shown >= ENOUGH_SHOWN and right / shown >= GOOD_PRECISION else " "
            cells.append(f"{right:>3} of {shown:>3} ({report.further_precision:>4.0%}){mark}")
        print(f"{min_score:>9.2f} {margin:>6.2f} {within:>6}  " + "  ".join(f"{c:>18}" for c in cells))
    print(
        f"(* = precision >= {GOOD_PRECISION:.0%} over >= {ENOUGH_SHOWN} second parts: enough to turn it on)"
    )


def time_on_and_off(name: str, on: Answerer, off: Answerer, questions: list[str]) -> None:
    for question in questions[:20]:  # warm-up
        on.answer(question)
        off.answer(question)
    seconds: dict[str, list[float]] = {"on": [], "off": []}
    for round_ in range(2):
        for question in questions:
            pairs = [("on", on), ("off", off)]
            for label, answerer in pairs if round_ == 0 else pairs[::-1]:
                start = time.perf_counter()
                answerer.answer(question)
                seconds[label].append(time.perf_counter() - start)
    means = {label: statistics.mean(times) for label, times in seconds.items()}
    medians = {label: statistics.median(times) for label, times in seconds.items()}
    print(
        f"{name}: {len(questions)} questions; mean {means['on'] * 1000:.1f} ms on, {means['off'] * 1000:.1f} ms off "
        f"({means['on'] / means['off']:.2f}x); median {medians['on'] / medians['off']:.2f}x; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
