"""One FAQ entry file -> an Entry, or the problems that stop it from being one."""

from __future__ import annotations

import re
import reprlib
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from careerbot.knowledge.disk import CONTROL_CHARACTER, MAX_ENTRY_BYTES, check_text, read_text
from careerbot.knowledge.models import (
    FOLDERS,
    MAX_ANSWER_CHARS,
    MAX_PARAPHRASES,
    MAX_QUESTION_CHARS,
    MIN_PARAPHRASES,
    Entry,
    Source,
)
from careerbot.knowledge.problems import Problem
from careerbot.knowledge.yaml_lines import LocatedYaml, YamlSyntaxError, parse_located

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED_FIELDS = ("id", "question", "paraphrases", "answer", "topic", "tags", "sources", "reviewed_on")
MAX_PARAPHRASE_CHARS = 400
MAX_TAGS = 20
UNPRINTABLE = re.compile(f"{CONTROL_CHARACTER.pattern}|[\ud800-\udfff]")
# Messages quote a bad value; this keeps the quote short whatever the value holds.
QUOTE = reprlib.Repr()
QUOTE.maxstring = QUOTE.maxother = 80


class _Report(Protocol):
    def __call__(self, key: str, message: str, item: int | None = None) -> None: ...


def parse_entry_file(
    path: Path, text: str | None = None
) -> tuple[Entry | None, list[Problem], LocatedYaml | None]:
    """The entry, or the problems; and the parsed YAML, whose lines later checks cite. `text`, if given,
    stands for the file's content (a change not yet written)."""
    checked = (
        read_text(path, MAX_ENTRY_BYTES) if text is None else check_text(path, text, MAX_ENTRY_BYTES) or text
    )
    if isinstance(checked, Problem):
        return None, [checked], None
    text = checked
    try:
        located = parse_located(text)
    except YamlSyntaxError as exc:
        return None, [Problem(path, exc.line, None, str(exc))], None
    return (*parse_entry(located, path), located)


def parse_entry(located: LocatedYaml, path: Path) -> tuple[Entry | None, list[Problem]]:
    data = located.data
    if not isinstance(data, dict):
        return None, [Problem(path, 1, None, "an entry file must be a YAML mapping of fields")]
    problems: list[Problem] = []

    def problem(key: str, message: str, item: int | None = None) -> None:
        problems.append(Problem(path, located.line(key, item) or 1, key, message))

    for key in data:
        if key not in REQUIRED_FIELDS:
            problem(str(key), f"unknown field (known: {', '.join(REQUIRED_FIELDS)})")
    for key in REQUIRED_FIELDS:
        if key not in data:
            problems.append(Problem(path, 1, key, "missing"))
    for key, value in data.items():
        if (character := _unprintable(value)) is not None:
            problem(
                str(key), f"holds the character U+{ord(character):04X} (written as an escape): not allowed"
            )
    if problems:
        return None, problems

    entry_id = _text(data, "id", problem)
    if entry_id is not None:
        if not ID_PATTERN.match(entry_id):
            problem("id", f"{QUOTE.repr(entry_id)} must be lowercase letters and digits joined by '-'")
        elif entry_id != path.stem:
            problem("id", f"{QUOTE.repr(entry_id)} must match the file name {path.stem!r}")
    question = _text(data, "question", problem, limit=MAX_QUESTION_CHARS)
    answer = _text(data, "answer", problem, limit=MAX_ANSWER_CHARS)
    paraphrases = _text_list(
        data, "paraphrases", problem, (MIN_PARAPHRASES, MAX_PARAPHRASES), limit=MAX_PARAPHRASE_CHARS
    )
    tags = _text_list(data, "tags", problem, (1, MAX_TAGS), limit=40)
    topic = _text(data, "topic", problem)
    if topic is not None:
        if topic not in FOLDERS:
            problem("topic", f"unknown topic {QUOTE.repr(topic)} (topics: {', '.join(FOLDERS)})")
        elif path.parent.name != topic:
            problem("topic", f"{QUOTE.repr(topic)} does not match the folder {path.parent.name!r}")
    sources = _sources(data["sources"], problem)
    reviewed_on = _date(data["reviewed_on"], problem)
    if problems:
        return None, problems
    assert entry_id and question and answer and topic and paraphrases and tags and sources and reviewed_on
    return Entry(
        id=entry_id,
        question=question,
        paraphrases=tuple(paraphrases),
        answer=answer,
        topic=topic,
        tags=tuple(tags),
        sources=tuple(sources),
        reviewed_on=reviewed_on,
        root=path.parents[2],  # the checks above put the file at <root>/faq/<topic>/<id>.yaml
    ), []


def _unprintable(value: Any) -> str | None:
    """The first control character or lone surrogate in a value's text: escapes in quoted YAML make
    them without putting them in the file."""
    if isinstance(value, str):
        found = UNPRINTABLE.search(value)
        return found.group() if found else None
    inner = [*value, *value.values()] if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in inner:
        if (character := _unprintable(item)) is not None:
            return character
    return None


def _text(data: dict[str, Any], key: str, problem: _Report, limit: int | None = None) -> str | None:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        problem(key, "must be non-empty text")
        return None
    value = value.strip()
    if limit is not None and len(value) > limit:
        problem(key, f"is {len(value)} characters; the limit is {limit}")
        return None
    return value


def _text_list(
    data: dict[str, Any], key: str, problem: _Report, count: tuple[int, int], limit: int
) -> list[str] | None:
    value = data[key]
    if not isinstance(value, list):
        problem(key, "must be a list")
        return None
    minimum, maximum = count
    if len(value) < minimum:
        problem(key, f"has {len(value)} item(s); at least {minimum} needed")
        return None
    if len(value) > maximum:
        problem(key, f"has {len(value):,} items; at most {maximum} are allowed")
        return None
    texts: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            problem(key, f"item {i + 1} must be non-empty text", item=i)
        elif len(item.strip()) > limit:
            problem(key, f"item {i + 1} is {len(item.strip())} characters; the limit is {limit}", item=i)
        else:
            texts.append(item.strip())
    return texts if len(texts) == len(value) else None


def _sources(value: Any, problem: _Report) -> list[Source] | None:
    if not isinstance(value, list) or not value:
        problem("sources", "must be a list of at least one source (title, and url or section)")
        return None
    sources: list[Source] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("title"), str) or not item["title"].strip():
            problem("sources", f"item {i + 1} must be a mapping with a non-empty title", item=i)
            continue
        unknown = set(item) - {"title", "url", "section"}
        url, section = item.get("url"), item.get("section")
        if unknown:
            problem(
                "sources", f"item {i + 1} has unknown key(s) {', '.join(sorted(map(str, unknown)))}", item=i
            )
        elif url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
            problem("sources", f"item {i + 1}: url must start with http:// or https://", item=i)
        elif section is not None and not isinstance(section, str):
            problem("sources", f"item {i + 1}: section must be text", item=i)
        else:
            sources.append(Source(title=item["title"].strip(), url=url, section=section))
    return sources if len(sources) == len(value) else None


def _date(value: Any, problem: _Report) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    problem("reviewed_on", f"must be a date like 2026-11-23, got {QUOTE.repr(value)}")
    return None
