"""The longest event-loop stall while a moderator edits an entry and 64 members ask, autocomplete and
browse at once, at 10k and 100k synthetic entries. Goal: 50 ms or less.

    .venv/bin/python benchmarks/bench_loop.py [--sizes 10000,100000] [--rounds 3] [--members 64]
                                              [--json benchmarks/results/loop.json]

The knowledge and index are bench_scale.py's (var/bench-scale/<size>, built there first if missing: a
few minutes at 100k), embedded with synthetic.py's HashEncoder. The bot's own objects run on one event
loop with no Discord connection: CareerBot.ask (batched answers and the question record), /faq and /kb
autocomplete (LookupCog and ModerationCog.entry_choices) and /topics pages (their command callback), and
the moderator's edit as /kb runs it (Curator in a worker thread), then the title index rebuilt for the
new knowledge version. A ticker that sleeps 1 ms records how late the loop wakes it: that lateness is
the stall every member's interaction would have waited through. Before each round the same ticker runs
on the idle loop for 2 s: that "idle" stall is the machine's own noise (other processes on the cores).
Each figure is the median of --rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_scale import WORK, run_child, settings  # noqa: E402
from careerbot.bot.client import CareerBot, create_bot  # noqa: E402
from careerbot.bot.exts.lookup import LookupCog  # noqa: E402
from careerbot.bot.exts.moderation.cog import ModerationCog  # noqa: E402
from careerbot.config import DiscordConfig  # noqa: E402
from careerbot.curation.curator import Moderator  # noqa: E402
from careerbot.curation.store import Store  # noqa: E402
from careerbot.engine.live import LiveEngine  # noqa: E402
from careerbot.engine.loading import load_engine  # noqa: E402
from careerbot.knowledge import TOPICS  # noqa: E402
from synthetic import HashEncoder  # noqa: E402

TICK = 0.001
GOAL_MS = 50
IDLE_SECONDS = 2.0


class Dropped:
    """The interaction a slash command's callback answers; the answer is dropped (no Discord here)."""

    def __init__(self) -> None:
        self.response = self

    async def send_message(self, *args: Any, **kwargs: Any) -> None:
        pass


class Ticker:
    """Sleeps TICK over and over; `longest` is the latest the loop ever woke it."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._running = True
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while self._running:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            self.longest = max(self.longest, time.perf_counter() - before - TICK)

    async def stop(self) -> float:
        self._running = False
        await self._task
        return self.longest


async def timed(work: Any, into: list[float]) -> Any:
    started = time.perf_counter()
    result = await work
    into.append(time.perf_counter() - started)
    return result


async def one_round(bot: CareerBot, questions: list[str], members: int, entry_id: str) -> dict[str, float]:
    lookup, moderation = LookupCog(bot), ModerationCog(bot)
    asks: list[float] = []
    completions: list[float] = []
    edits: list[float] = []
    edited = asyncio.Event()

    async def member(number: int) -> None:
        async def ask_type_browse(turn: int) -> None:
            question = questions[(number * 7 + turn) % len(questions)]
            await timed(bot.ask(question, "slash"), asks)
            for cut in (6, 14, len(question)):  # three keystrokes' worth of autocomplete
                await timed(lookup.entry_choices(question[:cut]), completions)
            topic = TOPICS[(number + turn) % len(TOPICS)]
            await lookup.topics.callback(lookup, Dropped(), topic)  # type: ignore[arg-type]

        turn = 0
        while turn < 2 or not edited.is_set():
            await ask_type_browse(turn)
            turn += 1
        await ask_type_browse(turn)  # on the edited knowledge: its title index is not built yet

    async def moderator() -> None:
        await asyncio.sleep(0.2)  # the members are busy by now
        phrase = f"loopbench {uuid.uuid4().hex[:10]} wording"
        await timed(
            asyncio.to_thread(bot.curator.add_paraphrase, entry_id, phrase, Moderator(1, "bench")), edits
        )
        edited.set()
        await timed(moderation.entry_choices(None, phrase[:14]), completions)  # type: ignore[arg-type]

    ticker = Ticker()
    started = time.perf_counter()
    await asyncio.gather(moderator(), *(member(n) for n in range(members)))
    prepare = getattr(bot.titles, "prepare", None)  # the old code built the index inside a search
    if prepare is not None:
        await prepare()  # the new knowledge version's title index, built while the ticker runs
    seconds = time.perf_counter() - started
    stall = await ticker.stop()
    ordered = sorted(completions)
    return {
        "longest_stall_ms": stall * 1000,
        "autocomplete_p50_ms": statistics.median(completions) * 1000,
        "autocomplete_max_ms": ordered[-1] * 1000,
        "ask_p50_ms": statistics.median(asks) * 1000,
        "edit_s": edits[0],
        "round_s": seconds,
        "autocompletes": len(completions),
        "asks": len(asks),
    }


async def measure(size: int, rounds: int, members: int) -> dict[str, Any]:
    config, encoder = settings(size), HashEncoder()
    engine, _ = load_engine(config, encoder=encoder)
    live = LiveEngine(config, encoder, engine)
    live.warm_up_in_background()  # as `careerbot run` does
    knowledge = live.answerer.knowledge
    ids = [f"synthetic-{number:06d}" for number in range(0, size, max(1, size // 200))]
    questions = [entry.paraphrases[1] for i in ids if (entry := knowledge.get(i)) is not None]  # type: ignore[union-attr]
    store = Store(config.storage.database)
    bot = create_bot(live, store, DiscordConfig())
    try:
        await LookupCog(bot).entry_choices("warm up")  # the first index: built before the rounds
        prepare = getattr(bot.titles, "prepare", None)
        if prepare is not None:
            await prepare()
        runs = []
        for number in range(rounds):
            idle = Ticker()  # the same loop with nothing to do: the machine's own noise floor
            await asyncio.sleep(IDLE_SECONDS)
            idle_stall = await idle.stop()
            runs.append(await one_round(bot, questions, members, ids[number + 1]))
            runs[-1]["idle_stall_ms"] = idle_stall * 1000
    finally:
        await bot.close()
        store.close()
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]} | {"runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=64)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    rows: dict[str, Any] = {}
    print(
        f"{'entries':>8} {'longest stall':>14} {'idle':>8} {'autocomplete p50/max':>21} {'ask p50':>9} {'edit':>7}"
    )
    for size in [int(s) for s in args.sizes.split(",")]:
        if not (WORK / str(size) / "index").is_dir():
            print(f"... {size} entries: building the knowledge and index (bench_scale.py)", file=sys.stderr)
            run_child("build", str(size))
        row = asyncio.run(measure(size, args.rounds, args.members))
        rows[str(size)] = row
        print(
            f"{size:>8} {row['longest_stall_ms']:>11.1f} ms {row['idle_stall_ms']:>5.1f} ms "
            f"{row['autocomplete_p50_ms']:>9.0f} / {row['autocomplete_max_ms']:>5.0f} ms "
            f"{row['ask_p50_ms']:>6.0f} ms {row['edit_s']:>5.1f} s"
        )
    print(f"(medians of {args.rounds} rounds, {args.members} members; goal: longest stall <= {GOAL_MS} ms)")
    result = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores",
        "load_average_at_end": os.getloadavg(),
        "rounds": args.rounds,
        "members": args.members,
        "rows": rows,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
