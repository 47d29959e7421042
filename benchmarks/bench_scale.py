"""Build, start-up, queries, edits and memory at 1k, 10k and 100k synthetic entries, and at 1M texts.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 1000,10000,100000] [--rounds 3]
                                               [--json benchmarks/results/scale.json] [--no-model]
    .venv/bin/python benchmarks/bench_scale.py --sizes 142857 --rounds 5 --no-model   # 1,000,004 texts

Knowledge comes from benchmarks/synthetic.py (deterministic) and is embedded with its HashEncoder, so
100k entries (700k texts) build in minutes; the model's own cost is the constant measured by
bench_answer.py and the "real model" row here. Every measurement runs in a fresh child process, so
memory figures are that process's own (VmRSS after start, VmHWM for the peak).

Each entry gives 7 embedded texts (question, 5 paraphrases, answer), the article 5 passages: 142,857
entries are 1,000,004 texts. Sizes up to KEEP_UP_TO are written to var/bench-scale/<size> and kept
(bench_loop.py and bench_verify.py reuse them); larger ones (about 3 GB of files at 1M texts) go to a
temporary folder that is deleted when the run ends, also when it fails or is interrupted.

- build: `careerbot index` from nothing: parse, validate, embed, index, save. Above 10k entries the
  whole-set near-duplicate check is left out (it is quadratic; its time is reported at 1k and 10k).
- start: process start to the first answer, with the index saved by the build; median of --rounds. As
  the bot starts (`careerbot run`: the knowledge files are checked in the warm-up, after the first
  answer), and alternated with it, "start+stat": every file stat-ed first (`ask`, `chat`).
- serve: query latency (p50/p99 over 300 questions, one at a time) right after start ("cold"), the
  warm-up the bot runs in the background after start (watch the knowledge folder: one scan of every
  file, and reload what changed; tabulate every phrasing: what edits need), query latency again over 300 other questions ("warm": the figure the goals
  name), then --rounds moderator edits (a new paraphrase through Curator live: check, write, record,
  reload), each timed until the new paraphrase is answered with its entry.
- disk: the knowledge folder and the index folder after the build (allocated blocks, as `du`).
- load: the machine's 1-minute load average when each phase started (other work skews the times).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = REPO / "var" / "bench-scale"
FULL_CHECK_UP_TO = 10_000
KEEP_UP_TO = 100_000  # larger synthetic folders are temporary
ENCODER_NOTE = (
    "synthetic rows: the HashEncoder (benchmarks/synthetic.py) stands in for the model; the model's own,"
    " constant cost per question is bench_answer.py's, its start-up the 'model' row"
)


def memory_mb() -> dict[str, float]:
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    # RssAnon is the process's own memory; VmRSS adds mapped file pages (the vectors), which the kernel
    # shares with its page cache and can drop.
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "RssAnon", "VmHWM")}


def disk_mb(folder: Path) -> float:
    """Allocated size of everything under `folder`, as `du` counts it."""
    return sum(p.lstat().st_blocks * 512 for p in folder.rglob("*")) / 2**20


def settings(size: int, folder: Path | None = None) -> Any:
    from careerbot.config import config_from_mapping

    folder = folder or WORK / f"{size}"
    return config_from_mapping(
        {"knowledge": {"dir": "knowledge"}, "index": {"dir": "index"}, "storage": {"database": "db"}},
        base_dir=folder,
    )


def child_build(size: int, folder: Path) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from careerbot.engine.loading import load_engine
    from careerbot.knowledge import loader
    from synthetic import HashEncoder, write_knowledge

    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    write_knowledge(folder / "knowledge", size)
    figures: dict[str, Any] = {"write_s": time.perf_counter() - started}
    if size <= FULL_CHECK_UP_TO:
        started = time.perf_counter()
        loader.validate_knowledge(folder / "knowledge")
        figures["validate_s"] = time.perf_counter() - started
    else:
        loader._duplicate_phrasings = lambda *args: []  # quadratic: see the module docstring
    started = time.perf_counter()
    # as `careerbot index` calls it (cli/knowledge_commands.py), with the stand-in encoder
    _, report = load_engine(settings(size, folder), encoder=HashEncoder(), compact=True, thorough=True)
    seconds = time.perf_counter() - started
    return {
        **figures,
        "build_s": seconds,
        "entries_per_s": size / seconds,
        "texts": report.documents,
        "full_check": size <= FULL_CHECK_UP_TO,
        "build_peak_mb": memory_mb()["VmHWM"],
        "knowledge_disk_mb": disk_mb(folder / "knowledge"),
        "index_disk_mb": disk_mb(folder / "index"),
    }


def child_start(size: int, folder: Path, encoder_name: str, check_files: bool = False) -> dict[str, Any]:
    """Prints the moment of its first answer; the parent times from before it spawned this process.
    `check_files`: stat every knowledge file before the first answer (`ask`, `chat`); without, the
    bot's way (`run`): the saved index answers first, the files are checked in the warm-up after."""
    sys.path.insert(0, str(HERE))
    from careerbot.engine.loading import load_engine

    if encoder_name == "model":
        from careerbot.config import load_config
        from careerbot.retrieval.torch_encoder import SentenceTransformerEncoder

        config = load_config(WORK / "model" / "bot.toml")
        encoder: Any = SentenceTransformerEncoder(config.model)
    else:
        from synthetic import HashEncoder

        config, encoder = settings(size, folder), HashEncoder()
    engine, report = load_engine(config, encoder=encoder, check_files=check_files)
    engine.answerer.answer("how do I deploy a model to the cloud")
    return {"answered_at": time.time(), "loaded": report.loaded, **memory_mb()}


def latencies_ms(answer: Any, questions: list[str]) -> dict[str, float]:
    times = []
    for question in questions:
        started = time.perf_counter()
        answer(question)
        times.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times)
    return {"p50": statistics.median(times), "p99": ordered[round(0.99 * (len(ordered) - 1))]}


def child_serve(size: int, folder: Path, rounds: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from careerbot.curation.curator import Curator, Moderator
    from careerbot.curation.store import Store
    from careerbot.engine.live import LiveEngine
    from careerbot.engine.loading import load_engine
    from careerbot.knowledge.writer import KnowledgeWriter
    from synthetic import HashEncoder

    config, encoder = settings(size, folder), HashEncoder()
    engine, _ = load_engine(config, encoder=encoder, check_files=False)
    after_start = memory_mb()["RssAnon"]
    rng = random.Random(3)
    ids = [f"synthetic-{rng.randrange(size):06d}" for _ in range(600)]
    knowledge = engine.answerer.knowledge
    questions = [knowledge.get(i).paraphrases[2] for i in ids]  # type: ignore[union-attr]
    cold = latencies_ms(engine.answerer.answer, questions[:300])
    live = LiveEngine(config, encoder, engine)
    started = time.perf_counter()
    live.warm_up_in_background()  # as the bot: watch the knowledge folder, reload, phrasings table
    live.flush()
    warm_up = time.perf_counter() - started
    warm = latencies_ms(live.answerer.answer, questions[300:])
    after_warm_up = memory_mb()
    curator = Curator(
        KnowledgeWriter(config.knowledge.dir, live.snapshot), Store(config.storage.database), live
    )
    edits = []
    for number in range(rounds):
        # words no earlier run on a kept folder (--keep-dir) left in it
        entry_id, phrase = ids[number], f"zq{os.urandom(6).hex()} fresh wording for benchmark edit {number}"
        started = time.perf_counter()
        curator.add_paraphrase(entry_id, phrase, Moderator(1, "bench"))
        assert live.answerer.answer(phrase).id == entry_id
        edits.append(time.perf_counter() - started)
        live.flush()  # the background save of this edit, before the next one is timed
    return {
        "cold_p50_ms": cold["p50"],
        "cold_p99_ms": cold["p99"],
        "query_p50_ms": warm["p50"],
        "query_p99_ms": warm["p99"],
        "warm_up_s": warm_up,
        "rss_warm_mb": after_warm_up["VmRSS"],
        "anon_warm_mb": after_warm_up["RssAnon"],
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


def start_times(size: int, folder: Path, encoder_name: str, rounds: int) -> dict[str, Any]:
    """The bot's start-up (files checked after the first answer) and, alternated with it in the same
    run, start-up with every file stat-ed first (`ask`, `chat`, and the bot before issue 13)."""
    runs: dict[str, list[dict[str, Any]]] = {"bot": [], "checked": []}
    for _ in range(rounds):
        for way, checked in (("bot", "0"), ("checked", "1")):
            result, spawned = run_child("start", str(size), encoder_name, checked, str(folder))
            if not result["loaded"]:
                sys.exit("start-up had to rebuild the index: the benchmark would be measuring a build")
            runs[way].append({**result, "seconds": result["answered_at"] - spawned})
    return {
        "start_s": statistics.median(run["seconds"] for run in runs["bot"]),
        "start_checked_s": statistics.median(run["seconds"] for run in runs["checked"]),
        "rss_after_start_mb": statistics.median(run["VmRSS"] for run in runs["bot"]),
        "anon_after_start_mb": statistics.median(run["RssAnon"] for run in runs["bot"]),
    }


def model_row(rounds: int) -> dict[str, Any]:
    """Start-up with the real model on the shipped knowledge: the constant the synthetic rows leave out."""
    folder = WORK / "model"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copytree(REPO / "knowledge", folder / "knowledge")
    (folder / "bot.toml").write_text('[knowledge]\ndir = "knowledge"\n[index]\ndir = "index"\n')
    subprocess.run([REPO / ".venv/bin/careerbot", "--config", folder / "bot.toml", "index"], check=True)
    return start_times(0, folder, "model", rounds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "scale.json")
    parser.add_argument("--no-model", action="store_true", help="leave out the real-model start-up row")
    parser.add_argument(
        "--keep-dir",
        type=Path,
        help="keep every size's folder under KEEP_DIR/<size> (also above 100k entries), and reuse one"
        " that already has an index instead of building it again (edits change it: rebuild by deleting)",
    )
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the temporary folders are deleted either way
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    rows: dict[str, dict[str, Any]] = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        with work_folder(size, args.keep_dir) as folder:
            rows[str(size)] = synthetic_row(size, folder, args.rounds, reuse=args.keep_dir is not None)
    if not args.no_model:
        print("... real model, shipped knowledge: start-up", file=sys.stderr)
        rows["model"] = model_row(args.rounds)
    result = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores",
        "note": ENCODER_NOTE,
        "rounds": args.rounds,
        "rows": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print_table(result)
    print(f"(written to {args.json})")


@contextmanager
def work_folder(size: int, keep_dir: Path | None = None) -> Iterator[Path]:
    """keep_dir/<size> when given; var/bench-scale/<size>, kept for the other benchmarks; or, above
    KEEP_UP_TO, a temporary folder deleted afterwards whatever happens."""
    if keep_dir is not None:
        yield keep_dir.resolve() / f"{size}"
        return
    if size <= KEEP_UP_TO:
        yield WORK / f"{size}"
        return
    WORK.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{size}-", dir=WORK))
    try:
        yield folder
    finally:
        print(f"... deleting {folder}", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)


def synthetic_row(size: int, folder: Path, rounds: int, reuse: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {}
    if reuse and (folder / "index").is_dir():
        print(f"... {size} entries: reusing the build in {folder}", file=sys.stderr)
    else:
        print(f"... {size} entries: build (load {os.getloadavg()[0]:.1f})", file=sys.stderr)
        row, _ = run_child("build", str(size), str(folder))
        row["load_build"] = os.getloadavg()[0]
    print(f"... {size} entries: start-up x{rounds}", file=sys.stderr)
    row["load_start"] = os.getloadavg()[0]
    row.update(start_times(size, folder, "hash", rounds))
    print(f"... {size} entries: queries and edits", file=sys.stderr)
    row["load_serve"] = os.getloadavg()[0]
    serve, _ = run_child("serve", str(size), str(rounds), str(folder))
    row.update({key: value for key, value in serve.items() if key != "anon_after_start_mb"})
    return row


def print_table(result: dict[str, Any]) -> None:
    columns = [
        ("texts", "texts", "{:,}"),
        ("build_s", "build s", "{:.1f}"),
        ("entries_per_s", "entries/s", "{:.0f}"),
        ("validate_s", "validate s", "{:.1f}"),
        ("start_s", "start s", "{:.2f}"),
        ("start_checked_s", "start+stat s", "{:.2f}"),
        ("cold_p50_ms", "cold p50 ms", "{:.1f}"),
        ("cold_p99_ms", "cold p99 ms", "{:.1f}"),
        ("warm_up_s", "warm-up s", "{:.2f}"),
        ("query_p50_ms", "query p50 ms", "{:.1f}"),
        ("query_p99_ms", "query p99 ms", "{:.1f}"),
        ("edit_live_s", "edit live s", "{:.2f}"),
        ("rss_after_start_mb", "RSS start MB", "{:.0f}"),
        ("anon_after_start_mb", "anon start MB", "{:.0f}"),
        ("rss_warm_mb", "RSS warm MB", "{:.0f}"),
        ("anon_warm_mb", "anon warm MB", "{:.0f}"),
        ("serve_peak_mb", "peak serve MB", "{:.0f}"),
        ("build_peak_mb", "peak build MB", "{:.0f}"),
        ("knowledge_disk_mb", "knowledge MB", "{:.0f}"),
        ("index_disk_mb", "index MB", "{:.0f}"),
        ("load_serve", "load (serve)", "{:.1f}"),
    ]
    print(result["machine"])
    print(result["note"])
    print(f"{'entries':>8} " + " ".join(f"{title:>13}" for _, title, _ in columns))
    for name, row in result["rows"].items():
        cells = [form.format(row[key]) if key in row else "-" for key, _, form in columns]
        print(f"{name:>8} " + " ".join(f"{cell:>13}" for cell in cells))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        # --child KIND SIZE [ENCODER CHECK | ROUNDS] [FOLDER]; bench_loop.py, bench_verify.py build in WORK
        kind, size, *rest = sys.argv[2:]
        extra = rest[:-1] if kind != "build" else []
        folder = Path(rest[-1]) if len(rest) > len(extra) else WORK / size
        if kind == "build":
            output = child_build(int(size), folder)
        elif kind == "start":
            output = child_start(int(size), folder, extra[0], extra[1:] == ["1"])
        else:
            output = child_serve(int(size), folder, int(extra[0]))
        print(json.dumps(output))
    else:
        main()
