"""Start-up to the first answer, and resident memory after it, per model runtime.

    .venv/bin/python benchmarks/bench_startup.py [--rounds 5] [--runtimes onnx,onnx-int8,torch]
                                                 [--json benchmarks/results/startup.json]

For each runtime, builds an index of the shipped knowledge into a temporary folder with `careerbot index`
(not timed), then runs `careerbot ask QUESTION` in a fresh process per round, the runtimes taking turns
(so drift on a shared machine hits each alike). Reports the median wall time from process start to exit
(the answer is the last thing it does) and the median peak resident memory (ru_maxrss of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CAREERBOT = Path(sys.executable).parent / "careerbot"
QUESTION = "what does a machine learning engineer do all day?"


def settings(folder: Path, runtime: str) -> Path:
    path = folder / "bot.toml"
    path.write_text(
        f'[knowledge]\ndir = "{REPO / "knowledge"}"\n[index]\ndir = "{folder / "index"}"\n'
        f'[storage]\ndatabase = "{folder / "careerbot.sqlite3"}"\n[model]\nruntime = "{runtime}"\n'
    )
    return path


def ask_once(config: Path) -> tuple[float, float]:
    """Seconds from start to exit, and peak resident MB, of one `careerbot ask` process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(CAREERBOT), "--config", str(config), "ask", QUESTION],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"careerbot ask failed: {process.stderr.read().decode() if process.stderr else ''}")
    return seconds, usage.ru_maxrss / 1024  # Linux: kB


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runtimes", default="onnx,onnx-int8,torch")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--seed",
        type=Path,
        help="an index folder (with its export) to start from: `careerbot index` then adds only what is missing",
    )
    args = parser.parse_args()
    runtimes = args.runtimes.split(",")

    with tempfile.TemporaryDirectory() as work:
        configs = {}
        for number, runtime in enumerate(runtimes):
            folder = Path(work) / runtime
            if number:  # the export and (same model id) the vectors are reused: only int8 re-embeds
                shutil.copytree(Path(work) / runtimes[0], folder)
            else:
                folder.mkdir()
                if args.seed:
                    shutil.copytree(args.seed, folder / "index")
            configs[runtime] = settings(folder, runtime)
            subprocess.run(
                [str(CAREERBOT), "--config", str(configs[runtime]), "index"],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            ask_once(configs[runtime])  # warm the page cache: a restart, not a cold boot, is measured
        seconds: dict[str, list[float]] = {runtime: [] for runtime in runtimes}
        memory: dict[str, list[float]] = {runtime: [] for runtime in runtimes}
        for _ in range(args.rounds):
            for runtime in runtimes:
                wall, rss = ask_once(configs[runtime])
                seconds[runtime].append(wall)
                memory[runtime].append(rss)

    figures: dict[str, object] = {
        "machine": f"{platform.machine()}, {platform.python_version()}, cores={os.cpu_count()}",
        "rounds": args.rounds,
        "question": QUESTION,
    }
    first = runtimes[0]
    print(f"{'runtime':<10}  {'start to answer s':>17}  {'peak RSS MB':>11}  {'time vs ' + first:>14}")
    for runtime in runtimes:
        wall, rss = statistics.median(seconds[runtime]), statistics.median(memory[runtime])
        ratio = wall / statistics.median(seconds[first])
        print(f"{runtime:<10}  {wall:>17.2f}  {rss:>11.0f}  {ratio:>14.2f}")
        figures[runtime] = {
            "start_to_answer_s_p50": round(wall, 3),
            "peak_rss_mb_p50": round(rss),
            "seconds": [round(s, 3) for s in seconds[runtime]],
        }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
