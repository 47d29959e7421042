"""Which approximate faiss index to switch to at scale: latency and recall@5 against exact search.

    .venv/bin/python benchmarks/ann_choice.py [--size 1000000] [--queries 500]
                                              [--json benchmarks/results/ann.json]

Synthetic, deterministic vectors (seed 0), shaped like sentence embeddings rather than uniform noise:
20,000 random unit "topic" centres; each stored vector is a centre plus Gaussian noise, normalised, so it
lies at a cosine of about 0.7 to its centre. Each query is a stored vector plus fresh noise of the same
size (a paraphrase of a stored text), so it has true near neighbours. Dimension 384, as all-MiniLM-L6-v2.

For each index: build seconds, memory it adds (RssAnon), and one query at a time (as the bot searches)
at k = 256 rows (what the retriever fetches): p50 and p99 latency, and recall@5 (the share of the exact
top 5 that the approximate top 5 holds). The bot's choice is set in bot.toml ([index]).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

DIMENSION = 384
CENTRES = 20_000
NOISE = 0.055  # per dimension: |noise| ~ 1.08, so a stored vector sits at cosine ~0.68 to its centre
ROWS = 256


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def synthetic(size: int, queries: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = unit(rng.standard_normal((CENTRES, DIMENSION)))
    vectors = np.empty((size, DIMENSION), dtype=np.float32)
    for start in range(0, size, 100_000):  # in chunks: the noise would double the memory at once
        stop = min(size, start + 100_000)
        noise = rng.standard_normal((stop - start, DIMENSION)) * NOISE
        vectors[start:stop] = unit(centres[rng.integers(0, CENTRES, stop - start)] + noise)
    picked = vectors[rng.integers(0, size, queries)]
    return vectors, unit(picked + rng.standard_normal(picked.shape) * NOISE)


def anon_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed_searches(index: faiss.Index, queries: np.ndarray) -> tuple[list[float], np.ndarray]:
    latencies, found = [], []
    for query in queries:
        started = time.perf_counter()
        _, rows = index.search(query[None, :], ROWS)
        latencies.append((time.perf_counter() - started) * 1000)
        found.append(rows[0, :5])
    return latencies, np.array(found)


def recall_at_5(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(found, exact, strict=True)]))


def measure(
    name: str,
    build: Callable[[], faiss.Index],
    knobs: list[tuple[str, Callable[[faiss.Index], None]]],
    queries: np.ndarray,
    exact: np.ndarray | None,
) -> list[dict[str, Any]]:
    before = anon_mb()
    started = time.perf_counter()
    index = build()
    built = time.perf_counter() - started
    added = anon_mb() - before
    rows = []
    for knob, apply in knobs:
        apply(index)
        timed_searches(index, queries[:20])  # warm-up
        latencies, found = timed_searches(index, queries)
        ordered = sorted(latencies)
        row = {
            "index": name,
            "setting": knob,
            "build_s": round(built, 1),
            "memory_mb": round(added),
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(ordered[round(0.99 * (len(ordered) - 1))], 2),
            "recall_at_5": 1.0 if exact is None else round(recall_at_5(found, exact), 4),
        }
        print("  ".join(f"{key}={value}" for key, value in row.items()), flush=True)
        rows.append(row)
    del index
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "ann.json")
    args = parser.parse_args()
    vectors, queries = synthetic(args.size, args.queries)

    def flat() -> faiss.Index:
        index = faiss.IndexFlatIP(DIMENSION)
        index.add(vectors)
        return index

    _, exact = flat().search(queries, 5)
    rows = measure("flat (exact)", flat, [("-", lambda index: None)], queries, None)

    def hnsw() -> faiss.Index:
        index = faiss.IndexHNSWFlat(DIMENSION, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.add(vectors)
        return index

    def set_ef(depth: int) -> Callable[[faiss.Index], None]:
        return lambda index: setattr(index.hnsw, "efSearch", depth)

    rows += measure(
        "HNSW M=32", hnsw, [(f"efSearch={d}", set_ef(d)) for d in (256, 512, 768)], queries, exact
    )

    def ivf() -> faiss.Index:
        quantizer = faiss.IndexFlatIP(DIMENSION)
        index = faiss.IndexIVFFlat(quantizer, DIMENSION, 4096, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[
            np.random.default_rng(1).choice(len(vectors), min(len(vectors), 200_000), replace=False)
        ]
        index.train(sample)
        index.add(vectors)
        return index

    def set_probes(probes: int) -> Callable[[faiss.Index], None]:
        return lambda index: setattr(index, "nprobe", probes)

    rows += measure(
        "IVF4096,Flat", ivf, [(f"nprobe={n}", set_probes(n)) for n in (64, 128, 256)], queries, exact
    )
    result = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"faiss {faiss.__version__}",
        "size": args.size,
        "queries": args.queries,
        "rows": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"(written to {args.json})")


if __name__ == "__main__":
    main()
