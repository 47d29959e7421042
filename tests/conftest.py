from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from careerbot.config import Config, config_from_mapping
from tests.fakes import FakeEncoder
from tests.postgres import Cluster, binaries

pytest_plugins = ["tests.fake_discord.plugin"]

ARTICLE = """\
---
title: "A Test Article"
author: Test Author
published: 2023-05-09
---

## What the job involves
<!-- topic: duties -->
Gathering data, training models, shipping them to production and watching them there.

## The usual stack
<!-- topic: stack -->
Python with TensorFlow, PyTorch and scikit-learn, on a cloud platform.
"""

ENTRIES = {
    "stack/pytorch": (
        "What is PyTorch used for?",
        ["pytorch uses", "torch for deep learning", "why use pytorch"],
        "PyTorch builds and trains neural networks.",
    ),
    "stack/scikit-learn": (
        "What is scikit-learn used for?",
        ["sklearn uses", "scikit learn for tabular data", "is sklearn still used"],
        "scikit-learn covers classical machine learning.",
    ),
    "skills/math-needed": (
        "How much math does an ML engineer need?",
        ["maths for ml", "do I need calculus", "how much linear algebra"],
        "Linear algebra, calculus, probability and statistics.",
    ),
    "duties/typical-day": (
        "What does a typical day look like?",
        ["day in the life", "daily routine of an mle", "what do you do all day"],
        "Meetings, data work, training runs and reviews.",
    ),
    "roles/vs-data-scientist": (
        "How is an ML engineer different from a data scientist?",
        ["mle vs ds", "data scientist or ml engineer", "difference between ds and mle"],
        "Data scientists explore; ML engineers ship.",
    ),
    "career/salary": (
        "How much do ML engineers earn?",
        ["mle pay", "ml engineer salary", "how much money"],
        "It depends on country and seniority.",
    ),
}


# A new entry's fields as the writer takes them; the curator takes them without the id and review date,
# which it fills in itself.
NEW = {
    "id": "jupyter",
    "question": "What is Jupyter for?",
    "paraphrases": ["notebooks?", "jupyter lab", "ipynb files"],
    "answer": "Interactive notebooks.",
    "topic": "stack",
    "tags": ["jupyter"],
    "sources": [{"title": "Jupyter", "url": "https://jupyter.org/"}],
    "reviewed_on": "2026-11-23",
}


def write_entry(root: Path, key: str, question: str, paraphrases: list[str], answer: str) -> Path:
    topic, entry_id = key.split("/")
    path = root / "faq" / topic / f"{entry_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(f"  - {p}" for p in paraphrases)
    path.write_text(
        textwrap.dedent(f"""\
        id: {entry_id}
        question: {question}
        paraphrases:
        {{lines}}
        answer: {answer}
        topic: {topic}
        tags: [{topic}]
        sources:
          - title: A Test Article
            section: a-test-article/what-the-job-involves
        reviewed_on: 2026-11-23
        """).replace("{lines}", lines),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    (root / "articles").mkdir(parents=True)
    (root / "articles" / "a-test-article.md").write_text(ARTICLE, encoding="utf-8")
    for key, (question, paraphrases, answer) in ENTRIES.items():
        write_entry(root, key, question, paraphrases, answer)
    return root


@pytest.fixture
def config(tmp_path: Path, knowledge_dir: Path) -> Config:
    return config_from_mapping(
        {
            "knowledge": {"dir": str(knowledge_dir)},
            "index": {"dir": str(tmp_path / "index")},
            "answering": {"min_score": 0.5},
        },
        base_dir=tmp_path,
    )


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for the session (tests.postgres); skipped only without its binaries."""
    found = binaries()
    if found is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)")
    cluster = Cluster(found)
    yield cluster
    cluster.remove()
