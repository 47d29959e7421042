"""Finding entries by title for autocomplete, and topic pages. No discord here.

At 100k entries there are 800k phrasings (questions, paraphrases, ids). Scoring every one with rapidfuzz
takes seconds and holds the GIL, so the index narrows first: each typed word stands for the vocabulary
words it is, starts, or nearly spells; posting lists give the phrasings that hold them, ranked by how
rare the words they share are; only the best MAX_CANDIDATES of those are scored. The index is built
once per knowledge version in a worker thread (LiveTitleIndex), and every search runs in one too.
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process, utils

from careerbot.knowledge import Entry, KnowledgeBase

MAX_CANDIDATES = 300  # phrasings scored per search: a millisecond or two
WORD_EXPANSIONS = 32  # vocabulary words that one typed word may stand for by its prefix
NEAR_SPELLINGS = 5  # and by spelling ("pytroch" -> "pytorch")
NEAR_SPELLING_SCORE = 75  # rapidfuzz ratio, 0-100
CHUNK = 2048  # phrasings read at a time while building: a few milliseconds with the GIL held
# Autocomplete must answer within Discord's 3 s. Only the very first search waits for an index; later
# ones use the previous knowledge version's while the new one is built.
FIRST_INDEX_WAIT = 2.0
SEARCH_DEADLINE = 2.5  # a search still queued this long after it was asked is skipped: nobody waits


class TitleIndex:
    """Every question, paraphrase and id of one knowledge version. Slow to build (seconds at 100k entries:
    build it in a worker thread), a few milliseconds per search."""

    def __init__(self, knowledge: KnowledgeBase) -> None:
        texts, ids, starts = knowledge.phrasings()  # processed like default_process; shared, not copied
        self._entries = knowledge.entries
        self._texts, self._ids = texts, ids
        counts = np.diff(np.append(starts, len(texts)))
        numbers = np.arange(len(ids), dtype=np.int32)
        # Phrasing p is texts[p], or below that the id of entry p - len(texts).
        self._owners = np.concatenate((np.repeat(numbers, counts), numbers))
        topics = {topic: code for code, topic in enumerate(dict.fromkeys(e.topic for e in self._entries))}
        self._topic_codes = topics
        self._phrasing_topics = np.fromiter(
            (topics[e.topic] for e in self._entries), np.int8, len(self._entries)
        )[self._owners]
        self._vocabulary, self._postings, self._offsets = _posting_lists(
            itertools.chain(texts, map(utils.default_process, ids))
        )

    def find(
        self, typed: str, limit: int = 25, topic: str | None = None, min_score: float = 50
    ) -> list[Entry]:
        """Best matches first, each entry once; with nothing typed, entries in file order."""
        query = utils.default_process(typed)
        if not query:
            pool = (e for e in self._entries if (topic is None or e.topic == topic) and not e.declines)
            return list(itertools.islice(pool, limit))
        candidates = self._candidates(query.split(), topic)
        phrasings = [self._phrasing(position) for position in candidates]
        # cdist, unlike extract, lets go of the GIL while it scores: the event loop keeps running.
        scores = process.cdist(
            [query], phrasings, scorer=fuzz.WRatio, processor=None, score_cutoff=min_score
        )[0]
        found: dict[int, Entry] = {}
        for number in np.argsort(-scores, kind="stable"):  # ties in file order
            if scores[number] == 0:  # below min_score
                break
            owner = int(self._owners[candidates[number]])
            if self._entries[owner].declines:  # out-of-scope entries are not there to be looked up
                continue
            found.setdefault(owner, self._entries[owner])
            if len(found) == limit:
                break
        return list(found.values())

    def _phrasing(self, position: int) -> str:
        if position < len(self._texts):
            return self._texts[position]
        return utils.default_process(self._ids[position - len(self._texts)])

    def _candidates(self, words: list[str], topic: str | None) -> NDArray[np.int64]:
        """Positions of the phrasings worth scoring, in file order: those sharing the rarest typed words."""
        scores = np.zeros(len(self._owners), np.float32)
        for word in dict.fromkeys(words):
            holds = np.zeros(len(self._owners), bool)
            for number in self._stands_for(word):
                holds[self._postings[self._offsets[number] : self._offsets[number + 1]]] = True
            held = int(holds.sum())
            if held:
                scores[holds] += math.log(1 + len(self._owners) / held)
        if topic is not None:
            scores[self._phrasing_topics != self._topic_codes.get(topic, -1)] = 0
        candidates = np.flatnonzero(scores)
        if len(candidates) > MAX_CANDIDATES:
            best = np.argpartition(-scores[candidates], MAX_CANDIDATES)[:MAX_CANDIDATES]
            candidates = np.sort(candidates[best])
        return candidates

    def _stands_for(self, word: str) -> set[int]:
        """Vocabulary numbers of the word itself, of words it begins, and of near spellings that share its
        first letter (typos rarely hit the first letter, and it keeps the comparison short)."""
        vocabulary = self._vocabulary
        start = bisect.bisect_left(vocabulary, word)
        end = bisect.bisect_left(vocabulary, word + "\uffff", start)
        numbers = set(range(start, min(end, start + WORD_EXPANSIONS)))
        if len(word) >= 3:
            first = bisect.bisect_left(vocabulary, word[0])
            last = bisect.bisect_left(vocabulary, word[0] + "\uffff", first)
            # cdist, unlike extract, lets go of the GIL while it compares
            scores = process.cdist(
                [word], vocabulary[first:last], scorer=fuzz.ratio, score_cutoff=NEAR_SPELLING_SCORE
            )[0]
            near = np.argsort(-scores, kind="stable")[:NEAR_SPELLINGS]
            numbers.update(first + int(number) for number in near if scores[number] > 0)
        return numbers


def _posting_lists(phrasings: Iterable[str]) -> tuple[list[str], NDArray[np.int32], NDArray[np.int64]]:
    """The sorted vocabulary, and for vocabulary word n the positions of the phrasings that hold it:
    postings[offsets[n]:offsets[n + 1]]. Arrays, not lists of ints: 5M postings at 100k entries.
    Read in small chunks: each chunk's words are numbered in C (fast) but holding the GIL, so a chunk
    must stay short for the event loop's thread to get its turn in between."""
    numbers: defaultdict[str, int] = defaultdict()
    numbers.default_factory = numbers.__len__  # a new word gets the next number
    words: list[NDArray[np.int32]] = []
    counts: list[NDArray[np.int32]] = []
    phrasings = iter(phrasings)
    while chunk := list(map(str.split, itertools.islice(phrasings, CHUNK))):
        counts.append(np.fromiter(map(len, chunk), np.int32, len(chunk)))
        words.append(np.fromiter(map(numbers.__getitem__, itertools.chain.from_iterable(chunk)), np.int32))
    per_phrasing = np.concatenate(counts) if counts else np.zeros(0, np.int32)
    positions = np.repeat(np.arange(len(per_phrasing), dtype=np.int32), per_phrasing)
    vocabulary = sorted(numbers)
    renumber = np.empty(len(numbers), np.int32)
    renumber[[numbers[word] for word in vocabulary]] = np.arange(len(vocabulary), dtype=np.int32)
    word_numbers = renumber[np.concatenate(words)] if words else np.zeros(0, np.int32)
    order = np.argsort(word_numbers, kind="stable")
    offsets = np.concatenate(([0], np.cumsum(np.bincount(word_numbers, minlength=len(vocabulary)))))
    return vocabulary, positions[order], offsets.astype(np.int64)


class LiveTitleIndex:
    """The title index of whatever knowledge is live. Each version's index is built once, in a worker
    thread; until it is ready, searches use the previous version's (a reload changes a few entries of
    many), with what they find read again from the live knowledge, so a removed entry is never offered."""

    def __init__(self, knowledge: Callable[[], KnowledgeBase], first_wait: float = FIRST_INDEX_WAIT) -> None:
        self._knowledge = knowledge  # read per use: a reload swaps it
        self._first_wait = first_wait
        self._ready: tuple[int, KnowledgeBase, TitleIndex] | None = None
        self._building: tuple[int, KnowledgeBase, asyncio.Task[TitleIndex]] | None = None
        self._versions = itertools.count(1)
        # One thread for every search: on a busy server they queue (a few ms each) instead of crowding
        # the event loop's thread off the CPU and the GIL, and the shared pool stays free for answers.
        self._searches = ThreadPoolExecutor(max_workers=1, thread_name_prefix="careerbot-titles")

    def prepare(self) -> asyncio.Task[TitleIndex]:
        """Starts building the live knowledge's index unless it is built or being built."""
        knowledge = self._knowledge()
        building = self._building
        if building is None or building[1] is not knowledge or _failed(building[2]):
            version = next(self._versions)
            task = asyncio.get_running_loop().create_task(self._build(version, knowledge))
            self._building = building = (version, knowledge, task)
        return building[2]

    async def _build(self, version: int, knowledge: KnowledgeBase) -> TitleIndex:
        index = await asyncio.to_thread(TitleIndex, knowledge)
        # This knowledge version is now decoded and tabulated: millions of objects that live until the
        # next reload. Left to the cyclic collector, every full collection walks them all with the GIL
        # held (250 ms at 100k entries, the event loop stalled throughout); frozen, it walks only what
        # came later. They are still freed when the version is dropped: a knowledge version holds no
        # reference cycles (tests/bot/test_event_loop.py checks), so reference counting frees it.
        gc.freeze()
        if self._ready is None or self._ready[0] < version:
            self._ready = (version, knowledge, index)
        return index

    async def current(self) -> TitleIndex | None:
        """The live knowledge's index, else the latest built; None if none is ready in `first_wait`."""
        knowledge = self._knowledge()
        if self._ready is not None and self._ready[1] is knowledge:
            return self._ready[2]
        building = self.prepare()
        if self._ready is not None:
            return self._ready[2]
        try:
            return await asyncio.wait_for(asyncio.shield(building), self._first_wait)
        except TimeoutError:
            return None

    async def find(
        self, typed: str, limit: int = 25, topic: str | None = None, min_score: float = 50
    ) -> list[Entry]:
        """TitleIndex.find, off the event loop; nothing while the very first index is still building."""
        index = await self.current()
        if index is None:
            return []
        knowledge = self._knowledge()
        deadline = time.monotonic() + SEARCH_DEADLINE

        def search() -> list[Entry]:
            if time.monotonic() > deadline:  # queued too long: Discord has given up on the answer
                return []
            found = (knowledge.get(entry.id) for entry in index.find(typed, limit, topic, min_score))
            return [entry for entry in found if isinstance(entry, Entry)]

        return await asyncio.get_running_loop().run_in_executor(self._searches, search)


def _failed(task: asyncio.Task[TitleIndex]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


@dataclass(frozen=True)
class TopicPage:
    topic: str
    page: int  # from 0, within range
    pages: int
    total: int  # entries on the topic
    entries: tuple[Entry, ...]


def topic_page(knowledge: KnowledgeBase, topic: str, page: int, size: int) -> TopicPage:
    """One page of a topic's entries in file order; decodes only that page's entries (the first call per
    knowledge version lists every id by topic, so call it from a worker thread)."""
    ids = knowledge.ids_in(topic)
    pages = max(1, -(-len(ids) // size))
    page = min(max(page, 0), pages - 1)
    shown = (knowledge.get(entry_id) for entry_id in ids[page * size : (page + 1) * size])
    return TopicPage(topic, page, pages, len(ids), tuple(e for e in shown if isinstance(e, Entry)))
