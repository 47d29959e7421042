"""`careerbot validate --semantic`: phrasings of different entries that mean the same to the model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from careerbot.knowledge import Entry, KnowledgeBase, Problem
from careerbot.knowledge.yaml_lines import parse_located
from careerbot.retrieval.encoder import Encoder

# Cosine similarity above which two phrasings are the same question to the model, so retrieval
# could not tell their entries apart.
SAME_MEANING = 0.95
# Similarities are computed a block of rows at a time, about this many per block (256 MB of float32),
# never the whole square (14 GB at 10k entries, 1.4 TB at 100k).
SIMILARITIES_PER_BLOCK = 1 << 26


def semantic_duplicates(knowledge: KnowledgeBase, encoder: Encoder) -> list[Problem]:
    owners = [(entry, text) for entry in knowledge.entries for text in (entry.question, *entry.paraphrases)]
    if not owners:
        return []
    vectors = encoder.encode_documents([text for _, text in owners])
    problems = []
    for a, b, similarity in _alike_pairs(vectors):
        (first, first_text), (second, second_text) = owners[a], owners[b]
        if first.id != second.id:
            field, line = _located(second, second_text)
            problems.append(
                Problem(
                    second.path or Path("?"),
                    line,
                    field,
                    f"{second_text!r} means the same as {first_text!r} of {first.id!r} "
                    f"(cosine {similarity:.2f})",
                )
            )
    return problems


def _alike_pairs(vectors: np.ndarray) -> Iterator[tuple[int, int, float]]:
    """Pairs (a, b), a < b, of rows whose dot product is at least SAME_MEANING, in row-major order (as
    np.nonzero over the whole upper triangle would give them), with that product."""
    rows_per_block = max(1, SIMILARITIES_PER_BLOCK // max(len(vectors), 1))
    for start in range(0, len(vectors), rows_per_block):
        block = vectors[start : start + rows_per_block] @ vectors[start:].T  # columns from the diagonal on
        rows, columns = np.nonzero(block >= SAME_MEANING)
        for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
            if column > row:  # above the diagonal: each pair once, and no phrasing with itself
                yield start + row, start + column, float(block[row, column])


def _located(entry: Entry, text: str) -> tuple[str, int | None]:
    """The field and line of one phrasing, read again from its file (only for problems: rare)."""
    if text == entry.question:
        field, item = "question", None
    else:
        field, item = "paraphrases", entry.paraphrases.index(text)
    if entry.path is None:
        return field, None
    try:
        return field, parse_located(entry.path.read_text(encoding="utf-8")).line(field, item)
    except (OSError, ValueError):
        return field, None
