"""Deterministic synthetic knowledge for the scale benchmarks, and a fast stand-in encoder.

`write_knowledge(root, entries)` writes `entries` valid FAQ files (faq/<topic>/<id>.yaml) plus the real
article into `root`. Phrasings are random picks from a made-up vocabulary, so no two are near-duplicates
and BM25 sees a realistic spread of rare and common words. The same `seed` always gives the same files.

`HashEncoder` embeds a text as the normalised sum of one pseudo-random unit vector per word. It is
deterministic and costs microseconds, so 100k entries (700k texts) index in seconds; it measures
everything around the model, never answer quality. The real model's own cost is measured separately.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from careerbot.knowledge import TOPICS

REPO = Path(__file__).resolve().parents[1]
SYLLABLES = [a + b for a in "bcdfgklmnprstvz" for b in ("a", "e", "i", "o", "u", "ar", "en", "is", "on")]
DOMAIN = [
    "model",
    "data",
    "pipeline",
    "deploy",
    "train",
    "python",
    "pytorch",
    "tensorflow",
    "cloud",
    "aws",
    "azure",
    "gcp",
    "jupyter",
    "sql",
    "statistics",
    "calculus",
    "algebra",
    "feature",
    "monitoring",
    "drift",
    "latency",
    "batch",
    "gpu",
    "interview",
    "portfolio",
    "salary",
    "career",
    "job",
    "team",
    "research",
    "production",
    "api",
    "docker",
    "kubernetes",
    "notebook",
    "evaluation",
    "metric",
]


def vocabulary(size: int, rng: random.Random) -> list[str]:
    words = set(DOMAIN)
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def write_knowledge(root: Path, entries: int, seed: int = 7) -> None:
    """A knowledge folder of `entries` FAQ files and the shipped article. Written with a template rather
    than yaml.safe_dump: 100k files in seconds, and JSON strings are valid YAML scalars."""
    rng = random.Random(seed)
    words = vocabulary(4000, rng)
    for topic in TOPICS:
        (root / "faq" / topic).mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "knowledge" / "articles", root / "articles", dirs_exist_ok=True)

    def phrase(low: int, high: int) -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(low, high)))

    for number in range(entries):
        entry_id = f"synthetic-{number:06d}"
        topic = TOPICS[number % len(TOPICS)]
        fields = {
            "question": f"How do I {phrase(4, 7)}?",
            "paraphrases": [phrase(4, 9) for _ in range(5)],
            "answer": " ".join(phrase(8, 14) + "." for _ in range(4)),
        }
        text = (
            f"id: {entry_id}\nquestion: {json.dumps(fields['question'])}\nparaphrases:\n"
            + "".join(f"  - {json.dumps(p)}\n" for p in fields["paraphrases"])
            + f"answer: {json.dumps(fields['answer'])}\ntopic: {topic}\n"
            f"tags: [{rng.choice(DOMAIN)}]\nsources:\n  - title: Synthetic benchmark source\n"
            "reviewed_on: 2026-11-23\n"
        )
        (root / "faq" / topic / f"{entry_id}.yaml").write_text(text, encoding="utf-8")


class HashEncoder:
    """Deterministic word-hash embeddings (see the module docstring). Not a model: no meaning."""

    def __init__(self, dimension: int = 384) -> None:
        self._dimension = dimension
        self._words: dict[str, np.ndarray] = {}

    @property
    def model_id(self) -> str:
        return f"synthetic-hash-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()) or ["<empty>"]:
                vectors[row] += self._word_vector(word)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def encode_documents(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        return self.encode_queries(texts)

    def _word_vector(self, word: str) -> np.ndarray:
        vector = self._words.get(word)
        if vector is None:
            rng = np.random.default_rng(zlib.crc32(word.encode()))
            vector = rng.standard_normal(self._dimension).astype(np.float32)
            vector /= np.linalg.norm(vector)
            self._words[word] = vector
        return vector
