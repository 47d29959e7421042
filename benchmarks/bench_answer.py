"""Answer latency against one bare model call, measured in the same run.

    .venv/bin/python benchmarks/bench_answer.py [--runtime onnx|onnx-int8|torch] [--rounds 5]
                                                [--json benchmarks/results/answer.json]

For each eval question, times `Answerer.answer(question)` and one bare model call on it, alternately (so
drift on a shared machine hits both alike), over several rounds; reports medians, p99 and their ratio.
The bare call is what the runtime does for one question and no more: for ONNX, tokenising it and one
`InferenceSession.run`; for torch, `SentenceTransformer.encode(question)`. The index (and, for ONNX, the
export) is made in a temporary directory at start (not timed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from careerbot.config import RUNTIMES, load_config
from careerbot.engine.loading import load_engine
from careerbot.knowledge.eval_file import load_eval
from careerbot.retrieval.runtime import open_encoder

REPO = Path(__file__).resolve().parents[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def bare_call(encoder: Any) -> Callable[[str], object]:
    """One model call on one question, with nothing of careerbot's around it."""
    if hasattr(encoder, "_model"):  # sentence-transformers
        model = encoder._model
        return lambda question: model.encode(question)
    session, tokenizer, inputs = encoder._session, encoder._tokenizer, encoder._inputs

    def run(question: str) -> object:
        encoding = tokenizer.encode(question)
        feed = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
        }
        return session.run(None, {name: feed[name] for name in inputs})

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runtime", choices=RUNTIMES, help="default: bot.toml's model.runtime")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--index", type=Path, help="an index folder to use (default: a new temporary one)")
    args = parser.parse_args()

    config = load_config(REPO / "bot.toml")
    with tempfile.TemporaryDirectory() as temporary:
        index_dir = args.index or Path(temporary)
        config = dataclasses.replace(config, index=dataclasses.replace(config.index, dir=index_dir))
        if args.runtime:
            config = dataclasses.replace(
                config, model=dataclasses.replace(config.model, runtime=args.runtime)
            )
        encoder = open_encoder(config.model, config.index.dir)
        answerer = load_engine(config, encoder=encoder)[0].answerer
        cases, _ = load_eval(config.knowledge.dir / "eval" / "regression.yaml", answerer.knowledge)
        questions = [case.question for case in cases]
        bare = bare_call(encoder)
        for question in questions[:20]:  # warm-up
            answerer.answer(question)
            bare(question)
        answer_ms: list[float] = []
        encode_ms: list[float] = []
        ratios: list[float] = []
        for _ in range(args.rounds):
            for question in questions:
                started = time.perf_counter()
                bare(question)
                encode = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                answerer.answer(question)
                answer = (time.perf_counter() - started) * 1000
                encode_ms.append(encode)
                answer_ms.append(answer)
                ratios.append(answer / encode)

    figures = {
        "runtime": config.model.runtime,
        "machine": f"{platform.machine()}, {platform.python_version()}, cores={__import__('os').cpu_count()}",
        "questions": len(questions),
        "rounds": args.rounds,
        "encode_p50_ms": round(statistics.median(encode_ms), 2),
        "encode_p99_ms": round(percentile(encode_ms, 0.99), 2),
        "answer_p50_ms": round(statistics.median(answer_ms), 2),
        "answer_p99_ms": round(percentile(answer_ms, 0.99), 2),
        "ratio_of_medians": round(statistics.median(answer_ms) / statistics.median(encode_ms), 3),
        "median_of_paired_ratios": round(statistics.median(ratios), 3),
        "ratio_p99": round(percentile(answer_ms, 0.99) / percentile(encode_ms, 0.99), 3),
    }
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
