"""Entries and passages to and from JSON, for the snapshot kept beside the index."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from careerbot.knowledge.models import Entry, Passage, Source


def entry_to_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "question": entry.question,
        "paraphrases": entry.paraphrases,
        "answer": entry.answer,
        "topic": entry.topic,
        "tags": entry.tags,
        "sources": [_source_json(s) for s in entry.sources],
        "reviewed_on": entry.reviewed_on.isoformat(),
    }


def entry_from_json(data: dict[str, Any], root: Path) -> Entry:
    """Raises KeyError, TypeError or ValueError if `data` is not what entry_to_json wrote."""
    return Entry(
        id=data["id"],
        question=data["question"],
        paraphrases=tuple(data["paraphrases"]),
        answer=data["answer"],
        topic=data["topic"],
        tags=tuple(data["tags"]),
        sources=tuple(Source(**s) for s in data["sources"]),
        reviewed_on=date.fromisoformat(data["reviewed_on"]),
        root=root,
    )


def passage_to_json(passage: Passage, root: Path) -> dict[str, Any]:
    return {
        "id": passage.id,
        "title": passage.title,
        "text": passage.text,
        "topic": passage.topic,
        "source": _source_json(passage.source),
        "published": passage.published.isoformat() if passage.published else None,
        "path": passage.path.relative_to(root).as_posix() if passage.path else None,
    }


def passage_from_json(data: dict[str, Any], root: Path) -> Passage:
    return Passage(
        id=data["id"],
        title=data["title"],
        text=data["text"],
        topic=data["topic"],
        source=Source(**data["source"]),
        published=date.fromisoformat(data["published"]) if data["published"] else None,
        path=root / data["path"] if data["path"] else None,
    )


def _source_json(source: Source) -> dict[str, str]:
    return {k: v for k, v in vars(source).items() if v is not None}
