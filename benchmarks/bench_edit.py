"""Time from a moderator's /kb add to the entry being answerable, on the real model and the shipped
knowledge (copied to a temporary folder, so nothing in the repository changes).

    .venv/bin/python benchmarks/bench_edit.py [--entries 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from careerbot.config import config_from_mapping, load_config
from careerbot.curation.curator import Curator, Moderator
from careerbot.curation.store import Store
from careerbot.engine.live import LiveEngine
from careerbot.engine.loading import load_engine
from careerbot.knowledge.writer import KnowledgeWriter
from careerbot.retrieval.torch_encoder import SentenceTransformerEncoder

REPO = Path(__file__).resolve().parents[1]
TOOLS = ["Weights and Biases", "Apache Airflow", "Ray", "Optuna", "Feast", "Dask", "Polars", "DVC"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=5, choices=range(1, len(TOOLS) + 1))
    args = parser.parse_args()
    shipped = load_config(REPO / "bot.toml")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copytree(shipped.knowledge.dir, root / "knowledge")
        config = config_from_mapping(
            {"knowledge": {"dir": "knowledge"}, "index": {"dir": "index"}}, base_dir=root
        )
        encoder = SentenceTransformerEncoder(config.model)
        engine, _ = load_engine(config, encoder=encoder)
        live = LiveEngine(config, encoder, engine)
        store = Store(root / "careerbot.sqlite3")
        curator = Curator(KnowledgeWriter(config.knowledge.dir), store, live)
        seconds = []
        for name in TOOLS[: args.entries]:
            started = time.perf_counter()
            outcome = curator.add(
                {
                    "question": f"What is {name} used for in ML work?",
                    "paraphrases": [f"{name}?", f"should i learn {name.lower()}", f"who uses {name.lower()}"],
                    "answer": f"{name} is a tool some ML teams use.",
                    "topic": "stack",
                    "tags": ["tools"],
                    "sources": [{"title": f"{name} documentation"}],
                },
                Moderator(1, "benchmark"),
            )
            seconds.append(time.perf_counter() - started)
            found = live.answerer.answer(f"should i learn {name.lower()}").id == outcome.change.entry_id
            print(f"{name:<20} written, audited and live in {seconds[-1]:.3f} s; answerable: {found}")
        store.close()
    print(f"median {statistics.median(seconds):.3f} s over {len(seconds)} additions")


if __name__ == "__main__":
    main()
