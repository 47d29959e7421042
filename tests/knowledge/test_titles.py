from __future__ import annotations

import asyncio
import threading
from datetime import date
from pathlib import Path

import pytest

import careerbot.knowledge.titles as title_module
from careerbot.knowledge import TOPICS, Entry, KnowledgeBase, load_knowledge
from careerbot.knowledge.titles import LiveTitleIndex, TitleIndex, topic_page

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


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


def entry(entry_id: str, question: str, topic: str = "stack") -> Entry:
    paraphrases = (f"{question} please", f"tell me: {question}", f"{question} now")
    return Entry(entry_id, question, paraphrases, "An answer.", topic, (), (), date(2026, 1, 1))


def test_typed_words_stand_for_the_words_they_begin_spell_nearly_or_name_by_id() -> None:
    index = TitleIndex(load_knowledge(KNOWLEDGE))
    assert "pytorch-vs-tensorflow" in [e.id for e in index.find("tensorf")[:3]]  # a prefix
    assert "pytorch" in [e.id for e in index.find("pytroch")[:3]]  # a typo
    assert index.find("aws-ml")[0].id == "aws-ml"  # the id


def test_only_the_phrasings_sharing_the_rarest_words_are_scored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(title_module, "MAX_CANDIDATES", 4)
    common = [entry(f"python-{n}", f"How do I learn python part {n}?") for n in range(50)]
    rare = entry("kubeflow", "How do I learn kubeflow pipelines?")
    index = TitleIndex(KnowledgeBase([*common, rare]))
    assert [e.id for e in index.find("learn kubeflow")][:1] == ["kubeflow"]
    assert len(index.find("how do i learn python")) <= 4  # 50 match; only 4 phrasings were scored


@pytest.mark.asyncio
async def test_while_a_new_version_is_indexed_searches_use_the_previous_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = KnowledgeBase([entry("pandas", "What is pandas for?"), entry("numpy", "What is numpy for?")])
    second = KnowledgeBase([entry("pandas", "What is pandas for, really?")])  # numpy removed
    live = [first]
    titles = LiveTitleIndex(lambda: live[0])
    assert [e.id for e in await titles.find("numpy")] == ["numpy"]
    release = held_builds(monkeypatch, second)
    live[0] = second
    # Answered at once by the first version's index, read again from the live knowledge: the removed
    # entry is not offered, the kept one has its new title.
    assert await asyncio.wait_for(titles.find("numpy"), 5) == []
    assert [e.question for e in await asyncio.wait_for(titles.find("pandas"), 5)] == [
        "What is pandas for, really?"
    ]
    release.set()
    assert (await titles.prepare()).find("really")[0].id == "pandas"
    assert [e.id for e in await titles.find("really")] == ["pandas"]


@pytest.mark.asyncio
async def test_the_first_search_gives_nothing_rather_than_outwait_discord(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    knowledge = KnowledgeBase([entry("pandas", "What is pandas for?")])
    release = held_builds(monkeypatch, knowledge)
    titles = LiveTitleIndex(lambda: knowledge, first_wait=0.05)
    assert await titles.find("pandas") == []
    release.set()
    await titles.prepare()
    assert [e.id for e in await titles.find("pandas")] == ["pandas"]


def held_builds(monkeypatch: pytest.MonkeyPatch, knowledge: KnowledgeBase) -> threading.Event:
    """Makes building `knowledge`'s title index wait (in its worker thread) until the event is set."""
    release = threading.Event()

    class HeldTitleIndex(TitleIndex):
        def __init__(self, building: KnowledgeBase) -> None:
            if building is knowledge:
                assert release.wait(10)
            super().__init__(building)

    monkeypatch.setattr(title_module, "TitleIndex", HeldTitleIndex)
    return release


def test_a_topic_page_decodes_only_its_own_entries() -> None:
    entries = [entry(f"tool-{n}", f"What is tool {n}?", topic=TOPICS[n % 2]) for n in range(40)]
    read: list[int] = []

    def decode(number: int) -> Entry:
        read.append(number)
        return entries[number]

    knowledge = KnowledgeBase.deferred([e.id for e in entries], [e.topic for e in entries], decode, ())
    page = topic_page(knowledge, TOPICS[1], 1, 5)
    assert (page.page, page.pages, page.total) == (1, 4, 20)
    assert [e.id for e in page.entries] == ["tool-11", "tool-13", "tool-15", "tool-17", "tool-19"]
    assert sorted(read) == [11, 13, 15, 17, 19]
    assert topic_page(knowledge, TOPICS[1], 99, 5).page == 3  # past the end: the last page


@pytest.mark.asyncio
async def test_each_indexed_version_is_frozen_out_of_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    freezes: list[str] = []
    live = [KnowledgeBase([entry("pandas", "What is pandas for?")])]
    monkeypatch.setattr(title_module.gc, "freeze", lambda: freezes.append(live[0].entries[0].id))
    titles = LiveTitleIndex(lambda: live[0])
    await titles.prepare()
    live[0] = KnowledgeBase([entry("numpy", "What is numpy for?")])
    await titles.prepare()
    assert freezes == ["pandas", "numpy"]  # once each, when its index is ready
