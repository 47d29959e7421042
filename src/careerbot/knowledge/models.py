"""What the knowledge base holds: curated FAQ entries and article passages."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rapidfuzz.utils import default_process

TOPICS = ("duties", "skills", "stack", "career", "getting-started", "roles")
# Entries in faq/out-of-scope/ describe asks careerbot declines (debugging a setup, other careers...):
# when one is the best match, its answer is the reply, saying why and where to ask instead.
OUT_OF_SCOPE = "out-of-scope"
FOLDERS = (*TOPICS, OUT_OF_SCOPE)
# An embed field value holds 1,024 characters; a little headroom keeps answers concise.
MAX_ANSWER_CHARS = 1000
# Discord autocomplete choice names hold 100 characters, and the question is the entry's title there.
MAX_QUESTION_CHARS = 100
MIN_PARAPHRASES = 3
# Every paraphrase is embedded and compared with every other phrasing: dozens cover any question's
# wordings; thousands (a script gone wrong) would cost minutes and millions of near-duplicate reports.
MAX_PARAPHRASES = 50


@dataclass(frozen=True)
class Source:
    title: str
    url: str | None = None
    section: str | None = None


@dataclass(frozen=True)
class Entry:
    """A curated FAQ entry, one YAML file."""

    id: str
    question: str
    paraphrases: tuple[str, ...]
    answer: str
    topic: str
    tags: tuple[str, ...]
    sources: tuple[Source, ...]
    reviewed_on: date
    # The knowledge folder it was read from. The file's path follows from it (the loader insists on
    # faq/<topic>/<id>.yaml), so 100k entries share one Path object instead of building 100k of them.
    root: Path | None = field(default=None, compare=False, repr=False)

    @property
    def title(self) -> str:
        return self.question

    @property
    def declines(self) -> bool:
        """An out-of-scope entry: matching it means declining, with its answer as the reason."""
        return self.topic == OUT_OF_SCOPE

    @property
    def file(self) -> str:
        """The entry's file, relative to the knowledge folder."""
        return f"faq/{self.topic}/{self.id}.yaml"

    @property
    def path(self) -> Path | None:
        return self.root / self.file if self.root is not None else None


@dataclass(frozen=True)
class Passage:
    """One `## ` section of an article."""

    id: str
    title: str
    text: str
    topic: str
    source: Source
    published: date | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def sources(self) -> tuple[Source, ...]:
        return (self.source,)


Item = Entry | Passage


class KnowledgeBase:
    """Entries and passages, looked up by id. Immutable once made.

    `deferred` makes one whose entries are decoded only when asked for: one by one for answers, all at
    once for browsing or edits. Start-up then costs the same at 100k entries as at 100.
    """

    def __init__(self, entries: Sequence[Entry] = (), passages: Sequence[Passage] = ()) -> None:
        self._entries: tuple[Entry, ...] | None = tuple(entries)
        self.passages = tuple(passages)
        self._by_id: dict[str, Item] = {item.id: item for item in self.items}
        self._positions: dict[str, int] = {}
        self._read: Callable[[int], Entry] | None = None
        self._decoding = threading.Lock()
        self._topics = [entry.topic for entry in self._entries]
        self._ids_by_topic: dict[str, list[str]] | None = None
        self._phrasings: tuple[list[str], list[str], NDArray[np.int64]] | None = None
        self._tabulating = threading.Lock()

    @classmethod
    def deferred(
        cls,
        ids: Sequence[str],
        topics: Sequence[str],
        read: Callable[[int], Entry],
        passages: Sequence[Passage],
    ) -> KnowledgeBase:
        """Entry number i has id ids[i] and topic topics[i], and is decoded by read(i) when first needed."""
        knowledge = cls((), passages)
        knowledge._entries = None
        knowledge._positions = {entry_id: i for i, entry_id in enumerate(ids)}
        knowledge._topics = list(topics)
        knowledge._read = read
        return knowledge

    def phrasings(self) -> tuple[list[str], list[str], NDArray[np.int64]]:
        """Every question and paraphrase as the near-duplicate check compares them (rapidfuzz's
        default_process: lower case, punctuation to spaces), with the entry ids in order and where each
        entry's phrasings start: its question, then its paraphrases. Built once per knowledge version,
        ideally in the background, for the checks of edits (600k strings take a while)."""
        with self._tabulating:  # a second caller waits for the first rather than repeating its work
            if self._phrasings is None:
                self._phrasings = self._tabulate_phrasings()
        return self._phrasings

    def _tabulate_phrasings(self) -> tuple[list[str], list[str], NDArray[np.int64]]:
        entries = self.entries
        texts = [default_process(text) for entry in entries for text in (entry.question, *entry.paraphrases)]
        counts = np.fromiter((1 + len(entry.paraphrases) for entry in entries), np.int64, len(entries))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(entries) else counts
        return texts, [entry.id for entry in entries], starts.astype(np.int64)

    def ids_in(self, topic: str) -> list[str]:
        """Ids of the entries on a topic, in file order, without decoding any entry."""
        if self._ids_by_topic is None:
            ids = self._positions or {entry.id: i for i, entry in enumerate(self._entries or ())}
            by_topic: dict[str, list[str]] = {}
            for entry_id, i in ids.items():
                by_topic.setdefault(self._topics[i], []).append(entry_id)
            self._ids_by_topic = by_topic
        return self._ids_by_topic.get(topic, [])

    @property
    def entries(self) -> tuple[Entry, ...]:
        if self._entries is None:
            with self._decoding:
                if self._entries is None:
                    assert self._read is not None
                    read = self._read
                    entries = tuple(
                        found if isinstance(found := self._by_id.get(entry_id), Entry) else read(i)
                        for entry_id, i in self._positions.items()
                    )
                    self._by_id.update((entry.id, entry) for entry in entries)
                    self._entries = entries
        return self._entries

    def get(self, item_id: str) -> Item | None:
        item = self._by_id.get(item_id)
        if item is None and item_id in self._positions:
            assert self._read is not None
            item = self._by_id.setdefault(item_id, self._read(self._positions[item_id]))
        return item

    @property
    def items(self) -> list[Item]:
        items: list[Item] = [*self.entries, *self.passages]
        return items

    def __eq__(self, other: object) -> bool:
        """The same entries and passages (the order entries were read in does not matter)."""
        if not isinstance(other, KnowledgeBase):
            return NotImplemented

        def by_id(knowledge: KnowledgeBase) -> dict[str, Entry]:
            return {entry.id: entry for entry in knowledge.entries}

        return by_id(self) == by_id(other) and self.passages == other.passages

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        count = len(self._entries) if self._entries is not None else len(self._positions)
        return f"KnowledgeBase({count} entries, {len(self.passages)} passages)"
