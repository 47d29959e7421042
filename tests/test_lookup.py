from __future__ import annotations

from pathlib import Path

from careerbot.knowledge import load_knowledge
from careerbot.lookup import TitleIndex

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


def test_fuzzy_titles_and_paraphrases_find_entries_once_each() -> None:
    index = TitleIndex(load_knowledge(KNOWLEDGE))
    found = index.find("pytroch vs tensorflow")
    assert "pytorch-vs-tensorflow" in [entry.id for entry in found[:3]]
    assert len({entry.id for entry in found}) == len(found) <= 25
    assert index.find("sagemaker")[0].id == "aws-ml"


def test_empty_input_lists_entries_and_topic_filters() -> None:
    index = TitleIndex(load_knowledge(KNOWLEDGE))
    assert len(index.find("")) == 25
    assert {entry.topic for entry in index.find("", topic="skills")} == {"skills"}
    assert all(entry.topic == "stack" for entry in index.find("python", topic="stack"))
    assert index.find("zzzzqqqq") == []
