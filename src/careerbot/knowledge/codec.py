"""The one mapping between the knowledge's dataclasses and plain data: entries as the YAML files
careerbot writes and as the JSON the index keeps, passages as that JSON, and sources wherever they are
cited (the files, the index, `careerbot ask --json`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from careerbot.knowledge.models import Entry, Passage, Source
from careerbot.knowledge.yaml_lines import YamlSyntaxError, parse_located

# The order of an entry's fields in its file and in the index (README documents the file format).
FIELD_ORDER = ("id", "question", "paraphrases", "answer", "topic", "tags", "sources", "reviewed_on")


def source_to_dict(source: Source) -> dict[str, str]:
    """A source with only the fields it has."""
    return {key: value for key, value in vars(source).items() if value is not None}


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """An entry's fields in FIELD_ORDER, as YAML or JSON can hold them (lists; `reviewed_on` a date)."""
    return {
        "id": entry.id,
        "question": entry.question,
        "paraphrases": list(entry.paraphrases),
        "answer": entry.answer,
        "topic": entry.topic,
        "tags": list(entry.tags),
        "sources": [source_to_dict(source) for source in entry.sources],
        "reviewed_on": entry.reviewed_on,
    }


def entry_text(entry: Entry | dict[str, Any]) -> str:
    """An entry as the YAML file careerbot writes: the fields in FIELD_ORDER, any others after them."""
    fields = entry_to_dict(entry) if isinstance(entry, Entry) else entry
    ordered = {key: fields[key] for key in FIELD_ORDER if key in fields}
    ordered.update({key: value for key, value in fields.items() if key not in ordered})
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


def entry_fields(text: str) -> dict[str, Any] | None:
    """An entry file's fields, parsed as the loader parses them (no aliases, bounded nesting); None if
    the text is not a YAML mapping. Never yaml.safe_load: a file edited by hand may be a YAML bomb."""
    try:
        data = parse_located(text).data
    except YamlSyntaxError:
        return None
    return data if isinstance(data, dict) else None


def entry_to_json(entry: Entry) -> dict[str, Any]:
    fields = entry_to_dict(entry)
    fields["reviewed_on"] = entry.reviewed_on.isoformat()
    return fields


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
        "source": source_to_dict(passage.source),
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
