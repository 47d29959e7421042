"""Where an edit's time goes at scale: each phase of a moderator's edit through Curator live (as
bench_scale.py's "edit live"), on a synthetic folder bench_scale.py built and kept.

    .venv/bin/python benchmarks/bench_edit_phases.py [--size 100000] [--rounds 3] [--folder DIR]

Needs var/bench-scale/<size> (run bench_scale.py --sizes <size> once), or --folder (bench_scale.py
--keep-dir's DIR/<size>). Each edit adds a paraphrase to a random entry and is timed until that
paraphrase is answered with its entry (edit_live). Edits alternate between the knowledge folder watched
(as the bot's warm-up leaves it: careerbot.knowledge.watch) and not watched (every file stat-ed, as
before), so the two compare in one run. Phases:
- listing: the knowledge files' stamps, to see files changed on disk since the live version (from the
  kernel's events when watched, else stat-ing every file);
- clash_check: the edited phrasings against every phrasing (rapidfuzz);
- reload: swapping in the new version (the index's new vectors);
- first_answer: the first answer after the swap;
- phrasings_wait: what the next edit would wait for its phrasings table (rebuilt in the background
  after a reload, or carried over from the live version).
The edits stay in the folder, as bench_scale.py's do. load: the 1-minute load average at each edit.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_scale  # noqa: E402
from careerbot.curation.curator import Curator, Moderator  # noqa: E402
from careerbot.curation.store import Store  # noqa: E402
from careerbot.engine.live import LiveEngine  # noqa: E402
from careerbot.engine.loading import load_engine  # noqa: E402
from careerbot.knowledge import loader, snapshot, watch  # noqa: E402
from careerbot.knowledge.writer import KnowledgeWriter  # noqa: E402
from synthetic import HashEncoder  # noqa: E402

spent: collections.defaultdict[str, float] = collections.defaultdict(float)


def timed(owner: Any, name: str, phase: str) -> None:
    real: Callable[..., Any] = getattr(owner, name)

    def measured(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent[phase] += time.perf_counter() - started

    setattr(owner, name, measured)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="the built folder (default var/bench-scale/<size>)")
    args = parser.parse_args()
    folder = args.folder or bench_scale.WORK / str(args.size)
    if not (folder / "index").is_dir():
        sys.exit(f"{folder} has no index: run bench_scale.py --sizes {args.size} first")
    timed(snapshot, "list_files_now", "listing")
    timed(loader, "_clashing_phrasings", "clash_check")
    timed(LiveEngine, "reload", "reload")
    config, encoder = bench_scale.settings(args.size, folder), HashEncoder()
    engine, _ = load_engine(config, encoder=encoder)
    rng = random.Random()
    edits = 2 * args.rounds  # watched and not, alternated
    ids = [f"synthetic-{rng.randrange(args.size):06d}" for _ in range(edits + 100)]
    knowledge = engine.answerer.knowledge
    for entry_id in ids[edits:]:  # as bench_scale.py: questions, then the warm-up, then edits
        engine.answerer.answer(knowledge.get(entry_id).paraphrases[2])  # type: ignore[union-attr]
    knowledge.phrasings()
    live = LiveEngine(config, encoder, engine)
    writer = KnowledgeWriter(config.knowledge.dir, live.snapshot)
    curator = Curator(writer, Store(config.storage.database), live)
    rows = []
    for number, entry_id in enumerate(ids[:edits]):
        watched = number % 2 == 1
        if watched:
            watch.watch(config.knowledge.dir)  # its first scan, as in the warm-up: not timed
        else:
            watch.forget(config.knowledge.dir)
        spent.clear()
        # Words no earlier run left in the folder, so that the answer can only be this entry.
        phrase = f"zq{rng.getrandbits(48):x} yv{rng.getrandbits(48):x} fresh wording {number}"
        load = os.getloadavg()[0]
        started = time.perf_counter()
        curator.add_paraphrase(entry_id, phrase, Moderator(1, "bench"))
        swapped = time.perf_counter()
        assert live.answerer.answer(phrase).id == entry_id
        answered = time.perf_counter()
        live.answerer.knowledge.phrasings()
        ready = time.perf_counter()
        row = {"edit_live": answered - started, **spent, "first_answer": answered - swapped}
        rows.append({**row, "phrasings_wait": ready - answered, "load": load, "watched": watched})
        live.flush()  # the background save, before the next edit is timed
    for row in rows:
        print("  ".join(f"{key} {value:.3f}" for key, value in row.items()))
    for watched in (False, True):
        mine = [row for row in rows if row["watched"] == watched]
        medians = {key: statistics.median(row[key] for row in mine) for key in mine[0]}
        print(
            f"median, {'watched' if watched else 'every file stat-ed'}:  "
            + "  ".join(f"{key} {value:.3f}" for key, value in medians.items() if key != "watched")
        )


if __name__ == "__main__":
    main()
