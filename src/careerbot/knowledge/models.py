"""What the knowledge base holds: curated FAQ entries and article passages."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

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
T = TypeVar("T")
# Processed phrasings, the entry ids in order, and where each entry's phrasings start (see phrasings()).
Phrasings = tuple[list[str], list[str], NDArray[np.int64]]


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
        self._phrasings: Phrasings | None = None
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

    def phrasings(self) -> Phrasings:
        """Every question and paraphrase as the near-duplicate check compares them (rapidfuzz's
        default_process: lower case, punctuation to spaces), with the entry ids in order and where each
        entry's phrasings start: its question, then its paraphrases. Built once per knowledge version,
        ideally in the background, for the checks of edits (600k strings take a while); a version made
        by with_changes from one that had it derives it from that one's."""
        with self._tabulating:  # a second caller waits for the first rather than repeating its work
            if self._phrasings is None:
                self._phrasings = self._tabulate_phrasings()
        return self._phrasings

    def _tabulate_phrasings(self) -> Phrasings:
        entries = self.entries
        texts = [default_process(text) for entry in entries for text in (entry.question, *entry.paraphrases)]
        counts = np.fromiter((1 + len(entry.paraphrases) for entry in entries), np.int64, len(entries))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(entries) else counts
        return texts, [entry.id for entry in entries], starts.astype(np.int64)

    def with_changes(self, replaced: Set[str], fresh: Sequence[Entry]) -> KnowledgeBase:
        """This knowledge without the entries `replaced` (ids) and with `fresh` after the rest: equal to
        KnowledgeBase((*kept, *fresh), passages), but its lookup tables (by id, by topic, phrasings) are
        this one's, copied and patched, so an edit costs a few copies in C instead of rebuilding them
        entry by entry."""
        gone = [(i, i + 1) for i in self._positions_of(replaced)]
        changed = KnowledgeBase((), self.passages)
        changed._entries = (*_without_runs(self.entries, gone), *fresh)
        changed._topics = [*_without_runs(self._topics, gone), *(entry.topic for entry in fresh)]
        by_id = dict(self._by_id)
        for entry_id in replaced:
            del by_id[entry_id]
        by_id.update((entry.id, entry) for entry in fresh)
        changed._by_id = by_id
        if self._ids_by_topic is not None:
            changed._ids_by_topic = self._ids_by_topic_changed(replaced, fresh)
        if self._phrasings is not None:
            changed._phrasings = self._phrasings_changed(gone, fresh)
        return changed

    def _positions_of(self, replaced: Set[str]) -> list[int]:
        """Where these entries are in entry order, sorted: a scan in C of the phrasings' id column if
        it is there."""
        if not replaced:
            return []
        ids = self._phrasings[1] if self._phrasings is not None else [entry.id for entry in self.entries]
        return sorted(ids.index(entry_id) for entry_id in replaced)

    def _ids_by_topic_changed(self, replaced: Set[str], fresh: Sequence[Entry]) -> dict[str, list[str]]:
        assert self._ids_by_topic is not None
        by_topic = {topic: list(ids) for topic, ids in self._ids_by_topic.items()}
        for entry_id in replaced:
            entry = self._by_id[entry_id]
            by_topic[entry.topic].remove(entry_id)
        for entry in fresh:
            by_topic.setdefault(entry.topic, []).append(entry.id)
        return by_topic  # a topic left empty keeps an empty list: ids_in gives [] either way

    def _phrasings_changed(self, gone: list[tuple[int, int]], fresh: Sequence[Entry]) -> Phrasings:
        """The phrasings table with the `gone` entries' runs cut out and the fresh entries' appended, in
        entry order as _tabulate_phrasings would make it."""
        assert self._phrasings is not None
        texts, ids, starts = self._phrasings
        ends = np.append(starts[1:], len(texts))
        runs = [(int(starts[i]), int(ends[i])) for i, _ in gone]
        kept_texts, kept_ids = _without_runs(texts, runs), _without_runs(ids, gone)
        new_texts = [
            default_process(text) for entry in fresh for text in (entry.question, *entry.paraphrases)
        ]
        counts = np.concatenate(
            (
                np.delete(ends - starts, [i for i, _ in gone]),
                np.fromiter((1 + len(e.paraphrases) for e in fresh), np.int64),
            )
        )
        new_starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(counts) else counts
        kept_texts += new_texts
        kept_ids += [entry.id for entry in fresh]
        return kept_texts, kept_ids, new_starts.astype(np.int64)

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


def _without_runs(items: Sequence[T], runs: list[tuple[int, int]]) -> list[T]:
    """`items` without the slices [a, b) in `runs` (sorted, apart): copied slice by slice, in C."""
    kept: list[T] = []
    start = 0
    for a, b in runs:
        kept += items[start:a]
        start = b
    kept += items[start:]
    return kept
