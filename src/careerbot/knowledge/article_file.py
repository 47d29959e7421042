"""One article (Markdown with a YAML header) -> passages, one per `## ` section."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from careerbot.knowledge.disk import MAX_ARTICLE_BYTES, read_text
from careerbot.knowledge.models import MAX_ANSWER_CHARS, TOPICS, Passage, Source
from careerbot.knowledge.problems import Problem
from careerbot.knowledge.yaml_lines import YamlSyntaxError, parse_located

HEADER_FIELDS = ("title", "author", "published")
TOPIC_MARK = re.compile(r"^<!--\s*topic:\s*(?P<topic>[\w-]+)\s*-->$")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def parse_article_file(path: Path) -> tuple[list[Passage], list[Problem]]:
    text = read_text(path, MAX_ARTICLE_BYTES)
    if isinstance(text, Problem):
        return [], [text]
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---" or "---" not in (line.strip() for line in lines[1:]):
        return [], [Problem(path, 1, None, "an article starts with a YAML header between '---' lines")]
    header_end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    try:
        header = parse_located("\n".join(lines[1:header_end]))
    except YamlSyntaxError as exc:
        return [], [Problem(path, (exc.line or 0) + 1, "header", str(exc))]
    if not isinstance(header.data, dict):
        return [], [Problem(path, 2, "header", "must be a YAML mapping")]
    problems = [
        Problem(path, 1, key, "missing from the header") for key in HEADER_FIELDS if not header.data.get(key)
    ]
    if problems:
        return [], problems
    title, author = str(header.data["title"]), str(header.data["author"])
    published = header.data["published"] if isinstance(header.data["published"], date) else None
    name = slugify(path.stem)
    passages: list[Passage] = []
    for heading_line, heading, body in _sections(lines, header_end + 1, path, problems):
        topic_match = TOPIC_MARK.match(body[0].strip()) if body else None
        if topic_match is None or topic_match["topic"] not in TOPICS:
            problems.append(
                Problem(
                    path,
                    heading_line + 1,
                    "topic",
                    f"the line after '## {heading}' must be <!-- topic: X --> with X one of {', '.join(TOPICS)}",
                )
            )
            continue
        text = " ".join(line.strip() for line in body[1:] if line.strip())
        passage_id = f"{name}/{slugify(heading)}"
        if not text:
            problems.append(Problem(path, heading_line, "text", f"section '{heading}' is empty"))
        elif len(text) > MAX_ANSWER_CHARS:
            problems.append(
                Problem(
                    path,
                    heading_line,
                    "text",
                    f"section '{heading}' is {len(text)} characters; the limit is {MAX_ANSWER_CHARS}: split it",
                )
            )
        else:
            source = Source(title=f"{title} ({author})", section=passage_id)
            passages.append(Passage(passage_id, heading, text, topic_match["topic"], source, published, path))
    return (passages, []) if not problems else ([], problems)


def _sections(
    lines: list[str], start: int, path: Path, problems: list[Problem]
) -> list[tuple[int, str, list[str]]]:
    sections: list[tuple[int, str, list[str]]] = []
    for number, line in enumerate(lines[start:], start=start + 1):
        if line.startswith("## "):
            sections.append((number, line[3:].strip(), []))
        elif sections:
            sections[-1][2].append(line)
        elif line.strip():
            problems.append(
                Problem(path, number, None, "text before the first '## ' heading belongs to no passage")
            )
    return sections
