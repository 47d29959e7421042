"""What checking the index files costs at start-up, on a synthetic index built by bench_scale.py.

    .venv/bin/python benchmarks/bench_verify.py [--size 100000] [--rounds 3] [--no-build]

Each figure is process start to the first answer, in a fresh process (as bench_scale's "start"), with
the index checked three ways, interleaved so that a busy machine weighs on each alike:
- first: the first start after a build, which hashes every file (sha256) and records their stamps;
- usual: every later start, which hashes only files changed since their last check (none);
- off: no check at all (what start-up cost before checksums);
- thorough: every file hashed whatever the stamps say (what `careerbot index` does).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_scale  # noqa: E402
from careerbot.retrieval.integrity import RACY_NS, VERIFIED_FILE  # noqa: E402


def child(size: int, mode: str) -> None:
    from careerbot.engine.loading import load_engine
    from careerbot.retrieval import integrity
    from synthetic import HashEncoder

    if mode == "off":
        integrity.verify = lambda *args, **kwargs: None
    config = bench_scale.settings(size)
    engine, report = load_engine(config, encoder=HashEncoder(), thorough=mode == "thorough")
    engine.answerer.answer("how do I deploy a model to the cloud")
    print(json.dumps({"answered_at": time.time(), "loaded": report.loaded}))


def start(size: int, mode: str) -> float:
    spawned = time.time()
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(size), mode], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(done.stderr[-3000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["loaded"]:
        sys.exit("start-up rebuilt the index: the benchmark would be measuring a build")
    return float(result["answered_at"]) - spawned


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-build", action="store_true", help="reuse the index bench_scale.py left")
    args = parser.parse_args()
    if not args.no_build:
        bench_scale.run_child("build", str(args.size))
    index = bench_scale.settings(args.size).index.dir
    sizes = {path.name: path.stat().st_size for path in index.rglob("*") if path.is_file()}
    print(f"index: {sum(sizes.values()) / 2**20:.0f} MB, vectors {sizes['vectors.faiss'] / 2**20:.0f} MB")
    times: dict[str, list[float]] = {"first": [], "usual": [], "off": [], "thorough": []}
    for _ in range(args.rounds):
        (index / VERIFIED_FILE).unlink(missing_ok=True)
        time.sleep(RACY_NS / 1e9)  # so that the files are old enough for their stamps to be recorded
        for mode in times:
            times[mode].append(start(args.size, "usual" if mode == "first" else mode))
    for mode, seconds in times.items():
        print(f"{mode:>9}: {statistics.median(seconds):.2f} s  ({', '.join(f'{s:.2f}' for s in seconds)})")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        main()
