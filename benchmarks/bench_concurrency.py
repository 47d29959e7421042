"""Many members asking at once, through the bot's async path (no Discord): answers per second and the
longest event-loop stall, with the model calls batched (AnswerBatcher, what the bot uses) and, for
comparison, one worker-thread call per question.

    .venv/bin/python benchmarks/bench_concurrency.py [--questions 256] [--rounds 3] [--json PATH]

Each figure is the median over the rounds; the modes alternate within a round, so drift on a shared
machine hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from careerbot.config import load_config
from careerbot.engine.answering import Answer, Answerer
from careerbot.engine.batching import AnswerBatcher
from careerbot.engine.loading import load_engine
from careerbot.knowledge.eval_file import load_eval

REPO = Path(__file__).resolve().parents[1]
TICK = 0.005


async def run(
    ask: Callable[[str], Awaitable[Answer]], questions: list[str], askers: int
) -> tuple[float, float]:
    """Answers per second, and the longest time the loop was late to wake a 5 ms ticker."""
    stall = 0.0
    done = False

    async def ticker() -> None:
        nonlocal stall
        while not done:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            stall = max(stall, time.perf_counter() - before - TICK)

    queue = list(questions)

    async def asker() -> None:
        while queue:
            await ask(queue.pop())

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    await asyncio.gather(*(asker() for _ in range(askers)))
    elapsed = time.perf_counter() - started
    done = True
    await ticking
    return len(questions) / elapsed, stall


async def main(answerer: Answerer, questions: list[str], rounds: int) -> dict[str, dict[str, float]]:
    batcher = AnswerBatcher(lambda: answerer)

    async def one_thread_each(question: str) -> Answer:
        return await asyncio.to_thread(answerer.answer, question)

    await run(batcher.answer, questions[:32], 8)  # warm-up
    print(
        f"{'askers':>6} {'mode':<16} {'answers/s':>10} {'longest stall':>14}   (medians of {rounds} rounds)"
    )
    modes = (("batched", batcher.answer), ("thread per call", one_thread_each))
    results: dict[str, dict[str, float]] = {}
    for askers in (1, 8, 64):
        figures: dict[str, list[tuple[float, float]]] = {mode: [] for mode, _ in modes}
        for _ in range(rounds):
            for mode, ask in modes:
                figures[mode].append(await run(ask, questions, askers))
        for mode, _ in modes:
            rate = statistics.median(r for r, _ in figures[mode])
            stall = statistics.median(s for _, s in figures[mode])
            print(f"{askers:>6} {mode:<16} {rate:>10.1f} {stall * 1000:>11.1f} ms")
            results[f"{askers} askers, {mode}"] = {"answers_per_s": rate, "longest_stall_ms": stall * 1000}
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    config = load_config(REPO / "bot.toml")
    with tempfile.TemporaryDirectory() as index_dir:
        config = dataclasses.replace(config, index=dataclasses.replace(config.index, dir=Path(index_dir)))
        answerer = load_engine(config)[0].answerer
        cases, _ = load_eval(config.knowledge.dir / "eval" / "regression.yaml", answerer.knowledge)
        pool = [case.question for case in cases]
        questions = (pool * (args.questions // len(pool) + 1))[: args.questions]
        results = asyncio.run(main(answerer, questions, args.rounds))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
