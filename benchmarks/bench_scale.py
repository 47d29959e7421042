"""Build, start-up, queries, edits and memory at 1k, 10k and 100k synthetic entries.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 1000,10000,100000] [--rounds 3]
                                               [--json benchmarks/results/scale.json]

Knowledge comes from benchmarks/synthetic.py (deterministic) and is embedded with its HashEncoder, so
100k entries (700k texts) build in minutes; the model's own cost is the constant measured by
bench_answer.py and the "real model" row here. Every measurement runs in a fresh child process, so
memory figures are that process's own (VmRSS after start, VmHWM for the peak).

- build: `careerbot index` from nothing: parse, validate, embed, index, save. Above 10k entries the
  whole-set near-duplicate check is left out (it is quadratic; its time is reported at 1k and 10k).
- start: process start to the first answer, with the index saved by the build; median of --rounds.
- serve: query latency (p50/p99 over 300 questions, one at a time), the warm-up the bot runs in the
  background after start (decode every entry, tabulate every phrasing: what browsing and edits need),
  then --rounds moderator edits (a new paraphrase through Curator: check, write, record, reload), each
  timed until the new paraphrase is answered with its entry.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = REPO / "var" / "bench-scale"
FULL_CHECK_UP_TO = 10_000


def memory_mb() -> dict[str, float]:
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    # RssAnon is the process's own memory; VmRSS adds mapped file pages (the vectors), which the kernel
    # shares with its page cache and can drop.
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "RssAnon", "VmHWM")}


def settings(size: int) -> Any:
    from careerbot.config import config_from_mapping

    folder = WORK / f"{size}"
    return config_from_mapping(
        {"knowledge": {"dir": "knowledge"}, "index": {"dir": "index"}, "storage": {"database": "db"}},
        base_dir=folder,
    )


def child_build(size: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from careerbot.engine.loading import load_engine
    from careerbot.knowledge import loader
    from synthetic import HashEncoder, write_knowledge

    folder = WORK / f"{size}"
    shutil.rmtree(folder, ignore_errors=True)
    write_knowledge(folder / "knowledge", size)
    figures: dict[str, Any] = {}
    if size <= FULL_CHECK_UP_TO:
        started = time.perf_counter()
        loader.validate_knowledge(folder / "knowledge")
        figures["validate_s"] = time.perf_counter() - started
    else:
        loader._duplicate_phrasings = lambda *args: []  # quadratic: see the module docstring
    started = time.perf_counter()
    _, report = load_engine(settings(size), encoder=HashEncoder())
    seconds = time.perf_counter() - started
    return {
        **figures,
        "build_s": seconds,
        "entries_per_s": size / seconds,
        "texts": report.documents,
        "full_check": size <= FULL_CHECK_UP_TO,
        "build_peak_mb": memory_mb()["VmHWM"],
    }


def child_start(size: int, encoder_name: str) -> dict[str, Any]:
    """Prints the moment of its first answer; the parent times from before it spawned this process."""
    sys.path.insert(0, str(HERE))
    from careerbot.engine.loading import load_engine

    if encoder_name == "model":
        from careerbot.config import load_config
        from careerbot.retrieval.torch_encoder import SentenceTransformerEncoder

        config = load_config(WORK / "model" / "bot.toml")
        encoder: Any = SentenceTransformerEncoder(config.model)
    else:
        from synthetic import HashEncoder

        config, encoder = settings(size), HashEncoder()
    engine, report = load_engine(config, encoder=encoder)
    engine.answerer.answer("how do I deploy a model to the cloud")
    return {"answered_at": time.time(), "loaded": report.loaded, **memory_mb()}


def child_serve(size: int, rounds: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from careerbot.curation.curator import Curator, Moderator
    from careerbot.curation.store import Store
    from careerbot.engine.live import LiveEngine
    from careerbot.engine.loading import load_engine
    from careerbot.knowledge.writer import KnowledgeWriter
    from synthetic import HashEncoder

    config, encoder = settings(size), HashEncoder()
    engine, _ = load_engine(config, encoder=encoder)
    after_start = memory_mb()["RssAnon"]
    rng = random.Random(3)
    ids = [f"synthetic-{rng.randrange(size):06d}" for _ in range(300)]
    questions = [engine.answerer.knowledge.get(i).paraphrases[2] for i in ids]  # type: ignore[union-attr]
    latencies = []
    for question in questions:
        started = time.perf_counter()
        engine.answerer.answer(question)
        latencies.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    engine.answerer.knowledge.phrasings()  # what LiveEngine.warm_up_in_background does
    warm_up = time.perf_counter() - started
    live = LiveEngine(config, encoder, engine)
    curator = Curator(
        KnowledgeWriter(config.knowledge.dir, live.snapshot), Store(config.storage.database), live
    )
    edits = []
    for number in range(rounds):
        entry_id, phrase = ids[number], f"zqx{number} fresh wording for benchmark edit {number}"
        started = time.perf_counter()
        curator.add_paraphrase(entry_id, phrase, Moderator(1, "bench"))
        assert live.answerer.answer(phrase).id == entry_id
        edits.append(time.perf_counter() - started)
    ordered = sorted(latencies)
    return {
        "query_p50_ms": statistics.median(latencies),
        "query_p99_ms": ordered[round(0.99 * (len(ordered) - 1))],
        "warm_up_s": warm_up,
        "edit_live_s": statistics.median(edits),
        "edits": edits,
        "approximate": engine.retriever.base.index.approximate,
        "anon_after_start_mb": after_start,
        "serve_peak_mb": memory_mb()["VmHWM"],
    }


def run_child(*args: str) -> tuple[dict[str, Any], float]:
    spawned = time.time()
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"child {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), spawned


def start_times(size: int, encoder_name: str, rounds: int) -> dict[str, Any]:
    runs = []
    for _ in range(rounds):
        result, spawned = run_child("start", str(size), encoder_name)
        if not result["loaded"]:
            sys.exit("start-up had to rebuild the index: the benchmark would be measuring a build")
        runs.append({**result, "seconds": result["answered_at"] - spawned})
    return {
        "start_s": statistics.median(run["seconds"] for run in runs),
        "rss_after_start_mb": statistics.median(run["VmRSS"] for run in runs),
        "anon_after_start_mb": statistics.median(run["RssAnon"] for run in runs),
    }


def model_row(rounds: int) -> dict[str, Any]:
    """Start-up with the real model on the shipped knowledge: the constant the synthetic rows leave out."""
    folder = WORK / "model"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copytree(REPO / "knowledge", folder / "knowledge")
    (folder / "bot.toml").write_text('[knowledge]\ndir = "knowledge"\n[index]\ndir = "index"\n')
    subprocess.run([REPO / ".venv/bin/careerbot", "--config", folder / "bot.toml", "index"], check=True)
    return start_times(0, "model", rounds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "scale.json")
    args = parser.parse_args()
    rows: dict[str, dict[str, Any]] = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"... {size} entries: build", file=sys.stderr)
        row, _ = run_child("build", str(size))
        print(f"... {size} entries: start-up x{args.rounds}", file=sys.stderr)
        row.update(start_times(size, "hash", args.rounds))
        print(f"... {size} entries: queries and edits", file=sys.stderr)
        serve, _ = run_child("serve", str(size), str(args.rounds))
        row.update({key: value for key, value in serve.items() if key != "anon_after_start_mb"})
        rows[str(size)] = row
    print("... real model, shipped knowledge: start-up", file=sys.stderr)
    rows["model"] = model_row(args.rounds)
    result = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores",
        "rounds": args.rounds,
        "rows": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print_table(result)
    print(f"(written to {args.json})")


def print_table(result: dict[str, Any]) -> None:
    columns = [
        ("build_s", "build s", "{:.1f}"),
        ("entries_per_s", "entries/s", "{:.0f}"),
        ("validate_s", "validate s", "{:.1f}"),
        ("start_s", "start s", "{:.2f}"),
        ("query_p50_ms", "query p50 ms", "{:.1f}"),
        ("query_p99_ms", "query p99 ms", "{:.1f}"),
        ("warm_up_s", "warm-up s", "{:.2f}"),
        ("edit_live_s", "edit live s", "{:.2f}"),
        ("rss_after_start_mb", "RSS start MB", "{:.0f}"),
        ("anon_after_start_mb", "anon start MB", "{:.0f}"),
        ("serve_peak_mb", "peak serve MB", "{:.0f}"),
        ("build_peak_mb", "peak build MB", "{:.0f}"),
    ]
    print(result["machine"])
    print(f"{'entries':>8} " + " ".join(f"{title:>13}" for _, title, _ in columns))
    for name, row in result["rows"].items():
        cells = [form.format(row[key]) if key in row else "-" for key, _, form in columns]
        print(f"{name:>8} " + " ".join(f"{cell:>13}" for cell in cells))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, size = sys.argv[2], int(sys.argv[3])
        if kind == "build":
            output = child_build(size)
        elif kind == "start":
            output = child_start(size, sys.argv[4])
        else:
            output = child_serve(size, int(sys.argv[4]))
        print(json.dumps(output))
    else:
        main()
