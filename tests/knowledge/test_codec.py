"""The one mapping between entries and plain data, pinned byte for byte: the YAML file careerbot writes,
the JSON line the index keeps, and the sources in `careerbot ask --json`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from careerbot.engine.answering import Answer
from careerbot.knowledge.codec import (
    entry_from_json,
    entry_text,
    entry_to_json,
    passage_from_json,
    passage_to_json,
)
from careerbot.knowledge.models import Entry, Passage, Source

ENTRY = Entry(
    id="pytorch",
    question="What is PyTorch used for?",
    paraphrases=("pytorch uses", "why pytorch", "what does pytorch do"),
    answer="A deep learning framework: tensors, autograd, and training loops. Ünïcode stays as it is.",
    topic="stack",
    tags=("frameworks", "deep-learning"),
    sources=(Source("PyTorch docs", url="https://pytorch.org/docs"), Source("Course notes", section="2.1")),
    reviewed_on=date(2026, 3, 14),
)

WRITTEN = """\
id: pytorch
question: What is PyTorch used for?
paraphrases:
- pytorch uses
- why pytorch
- what does pytorch do
answer: 'A deep learning framework: tensors, autograd, and training loops. Ünïcode stays as it is.'
topic: stack
tags:
- frameworks
- deep-learning
sources:
- title: PyTorch docs
  url: https://pytorch.org/docs
- title: Course notes
  section: '2.1'
reviewed_on: 2026-03-14
"""

INDEXED = (
    '{"id": "pytorch", "question": "What is PyTorch used for?", "paraphrases": ["pytorch uses", "why pytorch",'
    ' "what does pytorch do"], "answer": "A deep learning framework: tensors, autograd, and training loops.'
    ' \\u00dcn\\u00efcode stays as it is.", "topic": "stack", "tags": ["frameworks", "deep-learning"],'
    ' "sources": [{"title": "PyTorch docs", "url": "https://pytorch.org/docs"}, {"title": "Course notes",'
    ' "section": "2.1"}], "reviewed_on": "2026-03-14"}'
)


def test_an_entry_is_written_as_this_yaml() -> None:
    assert entry_text(ENTRY) == WRITTEN


def test_a_form_dict_is_written_in_the_documented_field_order() -> None:
    fields = {"reviewed_on": date(2026, 3, 14), "topic": "stack", "id": "pytorch", "extra": 1}
    assert entry_text(fields) == "id: pytorch\ntopic: stack\nreviewed_on: 2026-03-14\nextra: 1\n"


def test_an_entry_is_indexed_as_this_json_and_read_back(tmp_path: Path) -> None:
    assert json.dumps(entry_to_json(ENTRY)) == INDEXED
    again = entry_from_json(json.loads(INDEXED), tmp_path)
    assert again == ENTRY and again.root == tmp_path


def test_a_passage_round_trips_with_its_path_relative_to_the_knowledge(tmp_path: Path) -> None:
    passage = Passage(
        "mle-guide-1",
        "Tools",
        "Text.",
        "stack",
        Source("Guide", url="https://x.org"),
        date(2025, 1, 2),
        tmp_path / "articles" / "guide.md",
    )
    data = passage_to_json(passage, tmp_path)
    assert data["path"] == "articles/guide.md" and data["source"] == {
        "title": "Guide",
        "url": "https://x.org",
    }
    again = passage_from_json(json.loads(json.dumps(data)), tmp_path)
    assert again == passage and again.path == passage.path


def test_an_answer_cites_its_sources_as_the_index_does() -> None:
    answer = Answer(
        question="pytorch?",
        abstained=False,
        text=ENTRY.answer,
        id=ENTRY.id,
        title=ENTRY.title,
        topic=ENTRY.topic,
        score=0.812345,
        confidence="high",
        sources=ENTRY.sources,
        reviewed_on=ENTRY.reviewed_on,
    )
    shown = answer.to_json()["answer"]
    assert shown["sources"] == entry_to_json(ENTRY)["sources"]
    assert (shown["score"], shown["reviewed_on"]) == (0.8123, "2026-03-14")
