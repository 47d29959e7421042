"""Answer latency against one bare model call, measured in the same run.

    .venv/bin/python benchmarks/bench_answer.py [--rounds 5] [--json benchmarks/results/answer.json]

For each eval question, times `Answerer.answer(question)` and a bare `SentenceTransformer.encode(question)`
alternately (so drift on a shared machine hits both alike), over several rounds; reports medians, p99 and
their ratio. The index is loaded from a temporary directory built at start (not timed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from careerbot.config import load_config
from careerbot.engine.loading import load_engine
from careerbot.knowledge.eval_file import load_eval
from careerbot.retrieval.torch_encoder import SentenceTransformerEncoder

REPO = Path(__file__).resolve().parents[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    config = load_config(REPO / "bot.toml")
    with tempfile.TemporaryDirectory() as index_dir:
        config = dataclasses.replace(config, index=dataclasses.replace(config.index, dir=Path(index_dir)))
        encoder = SentenceTransformerEncoder(config.model)
        answerer = load_engine(config, encoder=encoder)[0].answerer
        cases, _ = load_eval(config.knowledge.dir / "eval" / "regression.yaml", answerer.knowledge)
        questions = [case.question for case in cases]
        model = encoder._model  # the bare model, to time one plain encode call against
        for question in questions[:20]:  # warm-up
            answerer.answer(question)
            model.encode(question)
        answer_ms: list[float] = []
        encode_ms: list[float] = []
        ratios: list[float] = []
        for _ in range(args.rounds):
            for question in questions:
                started = time.perf_counter()
                model.encode(question)
                encode = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                answerer.answer(question)
                answer = (time.perf_counter() - started) * 1000
                encode_ms.append(encode)
                answer_ms.append(answer)
                ratios.append(answer / encode)

    figures = {
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
