"""`careerbot validate` at 1k, 10k and 100k synthetic entries: the whole-set checks' growth.

    .venv/bin/python benchmarks/bench_validate.py [--sizes 1000,10000,100000] [--rounds 3]
                                                  [--json benchmarks/results/validate.json]
                                                  [--keep DIR]

Knowledge comes from benchmarks/synthetic.py (deterministic), written into a temporary folder that is
deleted after, with a near-copy of some phrasings added so that the check has pairs to find. Each round
runs `python -m careerbot --config <folder>/bot.toml validate` in a fresh process, as an operator
would, and is timed from before the process starts to its exit; the figure is the median of --rounds
(one round above 10k entries: a round there takes the longest). To time another checkout's code, run
this file with that checkout's interpreter: the code measured is the one `careerbot` imports.
With --keep DIR the folders are written to DIR/<size> and kept (to profile validate on them), and a
folder already there is used as it is.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic import write_knowledge  # noqa: E402

ROUNDS_UP_TO = 10_000  # above this size, one round
NEAR_COPIES = 20  # entries whose question gets a near-copy paraphrase: validate must report each


def prepare(folder: Path, size: int, near_copies: bool) -> None:
    write_knowledge(folder / "knowledge", size)
    (folder / "bot.toml").write_text('[knowledge]\ndir = "knowledge"\n', encoding="utf-8")
    if near_copies:
        for path in sorted((folder / "knowledge" / "faq").rglob("*.yaml"))[:NEAR_COPIES]:
            text = path.read_text(encoding="utf-8")
            question = text.split("question: ", 1)[1].split("\n", 1)[0]
            path.write_text(text.replace("paraphrases:\n", f'paraphrases:\n  - {question[:-2]}s?"\n'))


def validate_once(folder: Path) -> tuple[float, int, str]:
    command = [sys.executable, "-m", "careerbot", "--config", str(folder / "bot.toml"), "validate"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done.returncode, done.stdout + done.stderr


def measure(size: int, rounds: int, near_copies: bool, keep: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="careerbot-bench-validate-") as name:
        folder = keep / str(size) if keep else Path(name)
        if not (folder / "bot.toml").exists():
            prepare(folder, size, near_copies)
        times = []
        for _ in range(rounds if size <= ROUNDS_UP_TO else 1):
            seconds, code, output = validate_once(folder)
            times.append(seconds)
    expected = 1 if near_copies else 0
    if code != expected:
        raise SystemExit(f"validate at {size} entries exited {code}, not {expected}:\n{output[-2000:]}")
    found = output.count("is the same as or nearly the same as")
    if near_copies and found != NEAR_COPIES:
        raise SystemExit(f"validate at {size} entries reported {found} near-copies, not {NEAR_COPIES}")
    return {"entries": size, "validate_s": statistics.median(times), "rounds": times, "pairs_found": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--clean", action="store_true", help="no near-copies: validate passes (exit 0) instead of reporting"
    )
    parser.add_argument("--keep", type=Path, help="write the folders to DIR/<size> and keep them")
    args = parser.parse_args()
    figures = []
    for size in (int(s) for s in args.sizes.split(",")):
        result = measure(size, max(args.rounds, 1), not args.clean, args.keep)
        figures.append(result)
        print(
            f"{size:>7} entries: validate {result['validate_s']:7.1f} s "
            f"(median of {len(result['rounds'])}), {result['pairs_found']} near-copies reported",
            flush=True,
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        machine = {"python": platform.python_version(), "machine": platform.machine()}
        args.json.write_text(json.dumps({"machine": machine, "sizes": figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
