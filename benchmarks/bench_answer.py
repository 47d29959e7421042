"""Answer latency against one bare model call, measured in the same run.

    .venv/bin/python benchmarks/bench_answer.py [--runtime onnx|onnx-int8|torch] [--rounds 5]
                                                [--json benchmarks/results/answer.json] [--phases]

For each eval question, times `Answerer.answer(question)` and one bare model call on it, alternately (so
drift on a shared machine hits both alike), over several rounds; reports medians, p99 and their ratio,
and the median of the paired differences (answer minus the bare call before it: careerbot's own work).
The bare call is what the runtime does for one question and no more: for ONNX, tokenising it and one
`InferenceSession.run`; for torch, `SentenceTransformer.encode(question)`. The index (and, for ONNX, the
export) is made in a temporary directory at start (not timed).

With --phases, a further pass (after the timed one, so its timers cannot slow the figures above) times
each phase of `answer()` (cleaning, language, the model call, faiss, ranking, ...) and prints their
medians and means per question: where the time above the bare call goes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


# (phase, module or class, attribute): what --phases times; indented phases run inside the one above.
PHASES = (
    ("clean", "careerbot.engine.answering:Answerer", "_clean"),
    ("language", "careerbot.engine.answering", "language_of"),
    ("model call (encoder)", None, "encode_queries"),
    ("faiss search", "careerbot.retrieval.index:VectorIndex", "search"),
    ("rows to hits", "careerbot.retrieval.retriever", "_rows_of"),
    ("merge hits", "careerbot.retrieval.retriever", "_best_first"),
    ("rank", "careerbot.retrieval.retriever:Retriever", "_rank"),
    ("rank (no edits: on arrays)", "careerbot.retrieval.retriever:Retriever", "_rank_rows"),
    ("  bm25", "careerbot.retrieval.lexical:LexicalScorer", "scores_at"),
    ("decide (the Answer)", "careerbot.engine.answering:Answerer", "_decide"),
    ("  related", "careerbot.engine.answering:Answerer", "_related"),
)


@contextmanager
def phase_timers(encoder: Any, spent: dict[str, float]) -> Iterator[None]:
    """Wraps each phase's function so that its time adds to spent[phase]; unwraps them after."""
    import importlib

    patched = []
    for phase, where, name in PHASES:
        if where is None:
            owner: Any = type(encoder)
        else:
            module, _, attribute = where.partition(":")
            owner = importlib.import_module(module)
            owner = getattr(owner, attribute) if attribute else owner
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)

        def timed(*args: Any, _phase: str = phase, _run: Any = original, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _run(*args, **kwargs)
            finally:
                spent[_phase] += time.perf_counter() - started

        patched.append((owner, name, original))
        setattr(owner, name, timed)
    try:
        yield
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def time_phases(answerer: Any, encoder: Any, questions: list[str], rounds: int) -> None:
    bare = bare_call(encoder)
    per_phase: dict[str, list[float]] = defaultdict(list)
    spent: dict[str, float] = defaultdict(float)
    with phase_timers(encoder, spent):
        for _ in range(rounds):
            for question in questions:
                started = time.perf_counter()
                bare(question)
                per_phase["bare call (not in answer)"].append(time.perf_counter() - started)
                spent.clear()
                started = time.perf_counter()
                answerer.answer(question)
                total = time.perf_counter() - started
                per_phase["answer()"].append(total)
                outer = sum(value for phase, value in spent.items() if not phase.startswith(" "))
                per_phase["the rest of answer()"].append(total - outer)
                for phase, _, _ in PHASES:
                    per_phase[phase].append(spent.get(phase, 0.0))
    print(f"\n{'phase (ms per question)':<28}{'p50':>8}{'mean':>8}")
    order = [
        "answer()",
        *(phase for phase, _, _ in PHASES),
        "the rest of answer()",
        "bare call (not in answer)",
    ]
    for phase in order:
        values = per_phase[phase]
        print(f"{phase:<28}{statistics.median(values) * 1000:>8.3f}{statistics.fmean(values) * 1000:>8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runtime", choices=RUNTIMES, help="default: bot.toml's model.runtime")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--index", type=Path, help="an index folder to use (default: a new temporary one)")
    parser.add_argument("--phases", action="store_true", help="then time each phase of answer()")
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
        if args.phases:
            time_phases(answerer, encoder, questions, args.rounds)

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
        # careerbot's own work, paired: less noisy than the difference of the medians above, since each
        # answer is compared with the bare call made just before it on the same question.
        "median_of_paired_differences_ms": round(
            statistics.median(a - e for a, e in zip(answer_ms, encode_ms, strict=True)), 3
        ),
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
