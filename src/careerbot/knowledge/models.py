"""What the knowledge base holds: curated FAQ entries and article passages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

TOPICS = ("duties", "skills", "stack", "career", "getting-started", "roles")
# An embed field value holds 1,024 characters; a little headroom keeps answers concise.
MAX_ANSWER_CHARS = 1000
# Discord autocomplete choice names hold 100 characters, and the question is the entry's title there.
MAX_QUESTION_CHARS = 100
MIN_PARAPHRASES = 3


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
    path: Path | None = field(default=None, compare=False)

    @property
    def title(self) -> str:
        return self.question


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


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    passages: tuple[Passage, ...]
    _by_id: dict[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {item.id: item for item in self.items})

    def get(self, item_id: str) -> Item | None:
        return self._by_id.get(item_id)

    @property
    def items(self) -> list[Item]:
        items: list[Item] = [*self.entries, *self.passages]
        return items

    def entries_in(self, topic: str) -> tuple[Entry, ...]:
        return tuple(entry for entry in self.entries if entry.topic == topic)
