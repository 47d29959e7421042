"""Shards in several `careerbot run` processes against all of them in one, on the same cores: answers per
second through the fake Discord, and each process's memory. Goal: three processes together serve at
least 0.8x the answers per second of one.

    .venv/bin/python benchmarks/bench_processes.py [--shards 6] [--processes 3] [--questions 600]
        [--askers 32] [--rounds 2] [--database '{folder}/careerbot-{process}.sqlite3'] [--fake-encoder]
        [--threads N] [--json benchmarks/results/processes.json]

Each layout starts real `careerbot run` processes (the shipped knowledge, the packaged model, one index
built beforehand in var/bench-processes and shared read-only), pointed by their bot.toml at a fake Discord on loopback
(tests/fake_discord) that serves one server per shard and routes each server's /ask to the process
running its shard. "one" runs every shard; "split" gives each of --processes an equal part of the ids,
all with the same shard_count. --askers members at a time ask the regression set's questions, each
/ask in the next server, each from another member (no cooldown), and wait for the answer; answers per
second is questions / wall time after a warm-up. The layouts alternate within each round; the figure
is the median over --rounds. Memory: each process's resident set (RSS) and proportional set (PSS,
shared pages divided among the processes sharing them) after the load, from /proc.

With the ONNX runtime (the default) --threads also sets each process's model.threads.
--database is each process's storage.database: `{folder}` is this run's work folder and `{process}`
the process number, so the default gives each process its own SQLite file; a postgresql:// URL (once
careerbot takes one) puts all of them on one database. --threads sets OMP_NUM_THREADS and
MKL_NUM_THREADS in each process (torch's intra-op threads; default: torch's own choice, one per core);
`--threads share` gives each process its part of the cores (2 cores, 3 processes: 1 thread each).
--fake-encoder runs them on tests/fakes.py's FakeEncoder (no model: measures the coordination alone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fake Discord lives in the tests package

from tests.fake_discord import FakeDiscord  # noqa: E402
from tests.fake_discord import builders as b  # noqa: E402


def questions(count: int) -> list[str]:
    pool = [
        q["question"]
        for q in yaml.safe_load((REPO / "knowledge/eval/regression.yaml").read_text())["questions"]
    ]
    return (pool * (count // len(pool) + 1))[:count]


def write_settings(
    folder: Path, index: Path, database: str, fake: FakeDiscord | None, threads: int | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bot.toml"
    discord = f'[discord]\napi_base = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n' if fake else ""
    model = f"[model]\nthreads = {threads}\n" if threads else ""  # ONNX Runtime's threads per call
    path.write_text(
        f'[knowledge]\ndir = "{REPO / "knowledge"}"\n[index]\ndir = "{index}"\n'
        f'[storage]\ndatabase = "{database}"\n{model}{discord}'
    )
    return path


def careerbot_command(fake_encoder: bool) -> list[str]:
    module = "tests.bot.careerbot_on_fake_encoder" if fake_encoder else "careerbot"
    return [sys.executable, "-m", module]


def memory_kb(pid: int) -> dict[str, int]:
    """Resident and proportional set size of one process, in kB."""
    figures: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("Rss", "Pss"):
            figures[key.lower()] = int(value.split()[0])
    return figures


async def ask_all(fake: FakeDiscord, channels: list[int], batch: list[str], askers: int) -> float:
    """Answers per second for `batch`, `askers` members at a time, each /ask in the next server."""
    queue = list(enumerate(batch))

    async def asker() -> None:
        while queue:
            n, question = queue.pop()
            member = b.member(b.user(b.DEFAULT_USER_ID + 1000 + n, f"member{n}"))
            interaction = await fake.slash(
                "ask", {"question": question[:200]}, user=member, channel_id=channels[n % len(channels)]
            )
            await interaction.answer(timeout=120)

    started = time.perf_counter()
    await asyncio.gather(*(asker() for _ in range(askers)))
    return len(batch) / (time.perf_counter() - started)


async def one_layout(
    name: str, split: list[list[int]], args: argparse.Namespace, work: Path, index: Path, batch: list[str]
) -> dict[str, Any]:
    fake = FakeDiscord(ack_deadline=float("inf"))  # a slow answer shows in the rate, not as a refusal
    await fake.start()
    channels = [fake.add_server(shard, args.shards)[1] for shard in range(args.shards)]
    env = {**os.environ, "DISCORD_TOKEN": fake.token}
    threads = max(1, (os.cpu_count() or 1) // len(split)) if args.threads == "share" else args.threads
    if threads:
        env |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    processes: list[asyncio.subprocess.Process] = []
    try:
        for number, ids in enumerate(split):
            folder = work / name / str(number)
            database = args.database.format(folder=folder, process=number)
            settings = write_settings(folder, index, database, fake, int(threads) if threads else None)
            shard_args = ["--shard-ids", ",".join(map(str, ids)), "--shard-count", str(args.shards)]
            processes.append(
                await asyncio.create_subprocess_exec(
                    *careerbot_command(args.fake_encoder), "run", "--config", str(settings), *shard_args,
                    cwd=REPO, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )
            )  # fmt: skip
        await fake.wait_until(lambda: len(fake.gateway.identifies) == args.shards, 300, "every shard")
        sync = await asyncio.create_subprocess_exec(
            *careerbot_command(args.fake_encoder), "sync", "--config", str(settings), cwd=REPO, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await sync.communicate()
        if sync.returncode != 0:
            raise SystemExit(f"careerbot sync failed: {err.decode()}")
        await ask_all(fake, channels, batch[: args.askers * 2], args.askers)  # warm-up: every process answers
        rate = await ask_all(fake, channels, batch, args.askers)
        memory = [memory_kb(p.pid) for p in processes]
        if fake.violations:
            raise SystemExit(f"the fake Discord refused: {fake.violations[:3]}")
        return {"answers_per_s": rate, "memory_kb": memory}
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
            await process.wait()
        await fake.close()


def build_index(work: Path, fake_encoder: bool) -> Path:
    """One index for every process (they only read it), embedded before anything is timed and kept in
    var/bench-processes for the next run (`careerbot index` then finds nothing to embed)."""
    index = REPO / "var" / "bench-processes" / ("index-fake-encoder" if fake_encoder else "index")
    settings = write_settings(work / "indexing", index, str(work / "indexing" / "db.sqlite3"), None)
    subprocess.run(
        [*careerbot_command(fake_encoder), "--config", str(settings), "index"], cwd=REPO, check=True
    )
    return index


async def main(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    index = build_index(work, args.fake_encoder)
    batch = questions(args.questions)
    ids = list(range(args.shards))
    per = args.shards // args.processes
    layouts = {"one": [ids], "split": [ids[n * per : (n + 1) * per] for n in range(args.processes)]}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in layouts}
    for round_number in range(args.rounds):
        for name, split in layouts.items():
            figures = await one_layout(name, split, args, work / f"round{round_number}", index, batch)
            runs[name].append(figures)
            print(f"round {round_number + 1} {name:<6} {figures['answers_per_s']:7.1f} answers/s", flush=True)
    results: dict[str, Any] = {}
    for name, split in layouts.items():
        rates = [r["answers_per_s"] for r in runs[name]]
        memory = runs[name][-1]["memory_kb"]
        results[name] = {
            "processes": len(split),
            "answers_per_s": statistics.median(rates),
            "memory_kb": memory,
        }
    results["split_over_one"] = results["split"]["answers_per_s"] / results["one"]["answers_per_s"]
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    encoder = "fake encoder" if args.fake_encoder else "packaged model"
    print(
        f"\n{args.shards} shards, {args.questions} questions, {args.askers} askers, {encoder}, "
        f"{os.cpu_count()} cores, medians of {args.rounds} rounds"
    )
    print(f"{'layout':<8} {'processes':>9} {'answers/s':>10}   memory per process (RSS / PSS, MB)")
    for name in ("one", "split"):
        row = results[name]
        memory = ", ".join(f"{m['rss'] / 1024:.0f} / {m['pss'] / 1024:.0f}" for m in row["memory_kb"])
        print(f"{name:<8} {row['processes']:>9} {row['answers_per_s']:>10.1f}   {memory}")
    print(
        f"split / one: {results['split_over_one']:.2f} (goal >= 0.8); threads: {args.threads or 'torch default'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shards", type=int, default=6, help="shard_count, the same in every layout")
    parser.add_argument("--processes", type=int, default=3, help="processes of the split layout")
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--askers", type=int, default=32, help="members waiting for an answer at once")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database", default="{folder}/careerbot-{process}.sqlite3")
    parser.add_argument(
        "--threads",
        type=lambda text: text if text == "share" else int(text),
        help='OMP_NUM_THREADS for each careerbot process; "share": the cores divided among the layout\'s processes',
    )
    parser.add_argument("--fake-encoder", action="store_true", help="no model: coordination costs only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.shards % args.processes:
        parser.error("--shards must split evenly over --processes")
    with tempfile.TemporaryDirectory(prefix="bench-processes-") as folder:
        results = asyncio.run(main(args, Path(folder)))
    report(results, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"settings": vars(args) | {"json": str(args.json)}, **results}, indent=2) + "\n"
        )
