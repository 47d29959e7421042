"""How long a knowledge edit takes to reach every process sharing one PostgreSQL: three processes, each
with its own copy of the shipped knowledge and the real model (tests.curation.node run with
--real-model), on a throwaway cluster on loopback (tests.postgres). Each round one process (in turn) edits
an entry's answer; the time is from sending the edit to the moment the last of the three serves the new
answer (so it includes the editing process's own write and reload). Goal: p99 <= 2 s.

    .venv/bin/python benchmarks/bench_propagation.py [--edits 50] [--json benchmarks/results/propagation.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the node and the throwaway cluster are the tests' own

from tests.curation.node import NodeProcess, copy_knowledge  # noqa: E402
from tests.postgres import Cluster, binaries  # noqa: E402

from bench_answer import percentile  # noqa: E402

ENTRIES = ["pytorch-vs-tensorflow", "burnout", "career-break", "freelancing", "getting-promoted"]


def edit_everywhere(
    nodes: list[NodeProcess], editor: NodeProcess, entry: str, text: str
) -> tuple[float, float]:
    """Edits `entry` through `editor`; the seconds until all of `nodes` serve it, from when the edit was
    sent (the moderator's submit) and from when the editor said it was saved."""
    started = time.monotonic()
    edited = editor.say(f"edit {entry} {text}")
    saved = time.monotonic()
    assert edited["ok"], edited
    for node in nodes:  # every process waits on its own; the replies are read after
        assert node.popen.stdin is not None
        node.popen.stdin.write(f"wait {entry} {text}\n")
        node.popen.stdin.flush()
    served = max(node.reply()["at"] for node in nodes)
    return served - started, served - saved


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    found = binaries()
    if found is None:
        raise SystemExit("bench_propagation: PostgreSQL's initdb and pg_ctl are not installed")
    cluster = Cluster(found)
    nodes: list[NodeProcess] = []
    rounds: list[tuple[float, float]] = []
    try:
        url = cluster.new_database()
        with tempfile.TemporaryDirectory() as folder:
            for name in ("p0", "p1", "p2"):
                root = copy_knowledge(REPO / "knowledge", Path(folder) / name)
                if nodes:  # the first one embedded the knowledge: the others start from its index
                    shutil.copytree(nodes[0].folder / "index", root / "index")
                nodes.append(NodeProcess(url, root, "--real-model", start_seconds=1800))
            entries = [e for e in ENTRIES if any((REPO / "knowledge" / "faq").glob(f"*/{e}.yaml"))]
            for number in range(-3, 0):  # one unmeasured edit per process: its first edit builds tables
                edit_everywhere(nodes, nodes[number], entries[number], f"Warm-up {number}.")
            rounds = [
                edit_everywhere(
                    nodes, nodes[n % 3], entries[n % len(entries)], f"Round {n}, {nodes[n % 3].folder.name}."
                )
                for n in range(args.edits)
            ]
            memory = [node.say("rss")["rss_mb"] for node in nodes]
    finally:
        for node in nodes:
            node.stop()
        cluster.remove()
    figures: dict[str, object] = {"edits": len(rounds), "rss_mb_per_process": [round(m) for m in memory]}
    print(f"{len(rounds)} edits, each through one of 3 processes (in turn), answerable in all three:")
    for name, seconds in (("from save", [r[1] for r in rounds]), ("from submit", [r[0] for r in rounds])):
        p50, p99 = statistics.median(seconds), percentile(seconds, 0.99)
        figures[name.replace(" ", "_")] = {
            "p50_seconds": p50,
            "p99_seconds": p99,
            "max_seconds": max(seconds),
        }
        print(f"  {name:12} p50 {p50:.3f} s   p99 {p99:.3f} s   max {max(seconds):.3f} s")
    print(f"  resident memory per process: {', '.join(f'{m:.0f} MB' for m in memory)}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
