"""`careerbot validate --semantic`: phrasings of different entries that mean the same to the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from careerbot.knowledge import Entry, KnowledgeBase, Problem
from careerbot.knowledge.yaml_lines import parse_located
from careerbot.retrieval.encoder import Encoder

# Cosine similarity above which two phrasings are the same question to the model, so retrieval
# could not tell their entries apart.
SAME_MEANING = 0.95


def semantic_duplicates(knowledge: KnowledgeBase, encoder: Encoder) -> list[Problem]:
    owners = [(entry, text) for entry in knowledge.entries for text in (entry.question, *entry.paraphrases)]
    if not owners:
        return []
    vectors = encoder.encode_documents([text for _, text in owners])
    similarity = vectors @ vectors.T
    problems = []
    for a, b in zip(*np.nonzero(np.triu(similarity, k=1) >= SAME_MEANING), strict=True):
        (first, first_text), (second, second_text) = owners[a], owners[b]
        if first.id != second.id:
            field, line = _located(second, second_text)
            problems.append(
                Problem(
                    second.path or Path("?"),
                    line,
                    field,
                    f"{second_text!r} means the same as {first_text!r} of {first.id!r} "
                    f"(cosine {similarity[a, b]:.2f})",
                )
            )
    return problems


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
