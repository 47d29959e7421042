"""Load the knowledge folder, validating every file and the set as a whole.

Nothing partial is ever returned: either every file is good and a KnowledgeBase comes back, or the
problems do, each naming file, line and field, so bad content can never replace good content that is live.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from rapidfuzz import fuzz, process

from careerbot.knowledge.article_file import parse_article_file
from careerbot.knowledge.faq_file import parse_entry_file
from careerbot.knowledge.models import Entry, KnowledgeBase, Passage
from careerbot.knowledge.problems import KnowledgeError, Problem
from careerbot.knowledge.yaml_lines import LocatedYaml

# Two phrasings this alike (rapidfuzz ratio on normalised text, 0-100) are the same question twice.
NEAR_DUPLICATE_RATIO = 95.0


def load_knowledge(root: Path) -> KnowledgeBase:
    knowledge, problems = validate_knowledge(root)
    if knowledge is None:
        raise KnowledgeError(problems)
    return knowledge


def validate_knowledge(
    root: Path, overlay: Mapping[Path, str | None] | None = None
) -> tuple[KnowledgeBase | None, list[Problem]]:
    """`overlay` checks changes before they are written: a path's new text, or None for a removal."""
    overlay = overlay or {}
    if not root.is_dir():
        return None, [Problem(root, None, None, "the knowledge folder does not exist")]
    problems: list[Problem] = []
    entries: list[Entry] = []
    lines: dict[str, LocatedYaml] = {}
    passages: list[Passage] = []
    faq_root = root / "faq"
    on_disk = set(faq_root.rglob("*")) if faq_root.is_dir() else set()
    paths = {p for p in on_disk if not p.is_dir()} | {p for p, text in overlay.items() if text is not None}
    for path in sorted(paths - {p for p, text in overlay.items() if text is None}):
        if path.suffix == ".yml" or (path.suffix == ".yaml" and path.parent == faq_root):
            problems.append(Problem(path, None, None, "entries live in faq/<topic>/<id>.yaml"))
        elif path.suffix == ".yaml":
            entry, found, located = parse_entry_file(path, overlay.get(path))
            problems += found
            if entry and located:
                entries.append(entry)
                lines[entry.id] = located
    for path in sorted((root / "articles").glob("*.md")):
        found_passages, found = parse_article_file(path)
        problems += found
        passages += found_passages
    if not entries and not problems:
        problems.append(Problem(faq_root, None, None, "no FAQ entries found (faq/<topic>/<id>.yaml)"))
    problems += _duplicate_ids(entries, passages)
    problems += _duplicate_phrasings(entries, lines)
    problems += _unknown_sections(entries, {passage.id for passage in passages}, lines)
    if problems:
        return None, sorted(problems, key=lambda p: (str(p.path), p.line or 0))
    return KnowledgeBase(tuple(entries), tuple(passages)), []


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _duplicate_ids(entries: list[Entry], passages: list[Passage]) -> list[Problem]:
    seen: dict[str, Path | None] = {}
    problems = []
    items: list[Entry | Passage] = [*entries, *passages]
    for item in items:
        if item.id in seen:
            problems.append(
                Problem(item.path or Path("?"), 1, "id", f"duplicate id {item.id!r}, also in {seen[item.id]}")
            )
        seen.setdefault(item.id, item.path)
    return problems


def _duplicate_phrasings(entries: list[Entry], lines: dict[str, LocatedYaml]) -> list[Problem]:
    """Every question and paraphrase must be distinct text, within an entry and across entries."""
    owners: list[tuple[Entry, str, int | None]] = []
    for entry in entries:
        owners.append((entry, "question", None))
        owners += [(entry, "paraphrases", i) for i in range(len(entry.paraphrases))]
    texts = [normalise(_phrasing(entry, field, i)) for entry, field, i in owners]
    matrix = process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE_RATIO, workers=1)
    problems = []
    for a, b in zip(*matrix.nonzero(), strict=True):
        if a >= b:
            continue
        first, second = owners[a], owners[b]
        entry, field, i = second
        label = f"item {i + 1}" if i is not None else "the question"
        problems.append(
            Problem(
                entry.path or Path("?"),
                lines[entry.id].line(field, i),
                field,
                f"{label} is the same as or nearly the same as {first[1]} "
                f"{'' if first[2] is None else f'item {first[2] + 1} '}of {first[0].id!r}: "
                f"{_phrasing(*second)!r} ~ {_phrasing(*first)!r}",
            )
        )
    return problems


def _phrasing(entry: Entry, field: str, i: int | None) -> str:
    return entry.question if i is None else entry.paraphrases[i]


def _unknown_sections(
    entries: list[Entry], passage_ids: set[str], lines: dict[str, LocatedYaml]
) -> list[Problem]:
    return [
        Problem(
            entry.path or Path("?"),
            lines[entry.id].line("sources", i),
            "sources",
            f"item {i + 1}: section {source.section!r} is no article passage",
        )
        for entry in entries
        for i, source in enumerate(entry.sources)
        if source.section is not None and source.section not in passage_ids
    ]
