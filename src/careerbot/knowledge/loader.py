"""Load the knowledge folder, validating every file and the set as a whole.

Nothing partial is ever returned: either every file is good and a KnowledgeBase comes back, or the
problems do, each naming file, line and field, so bad content can never replace good content that is live.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process, utils
from tqdm import tqdm

from careerbot.knowledge.article_file import parse_article_file
from careerbot.knowledge.disk import Listing, is_listed, list_files
from careerbot.knowledge.faq_file import parse_entry_file
from careerbot.knowledge.models import Entry, Item, KnowledgeBase, Passage
from careerbot.knowledge.near_duplicates import near_duplicate_pairs
from careerbot.knowledge.problems import SHOWN_IN_ALL, KnowledgeError, Problem, bounded
from careerbot.knowledge.yaml_lines import LocatedYaml

Parsed = tuple[Entry | None, list[Problem], LocatedYaml | None]  # what parse_entry_file gives

# Two phrasings this alike (rapidfuzz ratio on normalised text, 0-100) are the same question twice.
NEAR_DUPLICATE_RATIO = 95.0
# Beyond this many, near-duplicate pairs are only counted (problems are shown up to SHOWN_IN_ALL).
PAIRS_KEPT = 10 * SHOWN_IN_ALL
ARTICLE = re.compile(r"articles/[^/]+\.md")


def load_knowledge(root: Path) -> KnowledgeBase:
    knowledge, problems = validate_knowledge(root)
    if knowledge is None:
        raise KnowledgeError(problems)
    return knowledge


def validate_knowledge(
    root: Path,
    overlay: Mapping[Path, str | None] | None = None,
    show_progress: bool = False,
    listing: Listing | None = None,
) -> tuple[KnowledgeBase | None, list[Problem]]:
    """`overlay` checks changes before they are written: a path's new text, or None for a removal.
    `show_progress` draws progress bars (on stderr) for the two steps that take minutes at 100k entries.
    `listing`: the folder's files as just listed (by the snapshot), else listed here."""
    overlay = overlay or {}
    if not root.is_dir():
        return None, [Problem(root, None, None, "the knowledge folder does not exist")]
    faq_root = root / "faq"
    listing = listing or list_files(root)
    on_disk = {root / path for path in listing.stamps if path.startswith("faq/")}
    paths = on_disk | {p for p, text in overlay.items() if text is not None}
    paths -= {p for p, text in overlay.items() if text is None}
    entries, lines, problems = _parse_entries(root, sorted(paths), overlay, show_progress)
    problems += listing.problems
    passages: list[Passage] = []
    for path in sorted(root / path for path in listing.stamps if ARTICLE.fullmatch(path)):
        found_passages, found = parse_article_file(path)
        problems += found
        passages += found_passages
    if not entries and not problems:
        problems.append(Problem(faq_root, None, None, "no FAQ entries found (faq/<topic>/<id>.yaml)"))
    problems += _duplicate_ids(entries, [*entries, *passages])
    problems += _duplicate_phrasings(entries, lines, show_progress)
    problems += _unknown_sections(entries, {passage.id for passage in passages}, lines)
    if problems:
        return None, bounded(problems)
    return KnowledgeBase(tuple(entries), tuple(passages)), []


def apply_entry_changes(
    knowledge: KnowledgeBase,
    root: Path,
    changed: set[Path],
    overlay: Mapping[Path, str | None] | None = None,
    parsed: dict[Path, Parsed] | None = None,
) -> tuple[KnowledgeBase | None, list[Problem]]:
    """`knowledge` (valid) with the entry files in `changed` re-read (or dropped, if gone): the same
    checks as a full load, but each pair-wise check only for the changed entries. Pairs of unchanged
    entries passed when `knowledge` was loaded, so the result is exactly as valid, in time that grows
    with the change rather than with the knowledge (bar one pass over its phrasings in C). `parsed`
    keeps each file's parse for the next call with the same files and overlay, which then reads none
    of them again."""
    overlay = overlay or {}
    changed = set(changed) | set(overlay)

    def present(path: Path) -> bool:
        return overlay[path] is not None if path in overlay else is_listed(path)

    changed_files = {path.relative_to(root).as_posix() for path in changed}
    # A file faq/<topic>/<id>.yaml holds the entry <id>: the entries replaced are found by id, not by
    # scanning all entries.
    replaced = {
        entry.id
        for path in changed
        if isinstance(entry := knowledge.get(path.stem), Entry) and entry.file in changed_files
    }
    fresh, lines, problems = _parse_entries(
        root, sorted(p for p in changed if present(p)), overlay, parsed=parsed
    )
    if len(knowledge.entries) == len(replaced) and not fresh and not problems:
        problems.append(Problem(root / "faq", None, None, "no FAQ entries found (faq/<topic>/<id>.yaml)"))
    problems += _ids_taken(fresh, knowledge, replaced)
    problems += _clashing_phrasings(fresh, knowledge, replaced, lines)
    problems += _unknown_sections(fresh, {passage.id for passage in knowledge.passages}, lines)
    if problems:
        return None, bounded(problems)
    return knowledge.with_changes(replaced, fresh), []


def _parse_entries(
    root: Path,
    paths: list[Path],
    overlay: Mapping[Path, str | None],
    show_progress: bool = False,
    parsed: dict[Path, Parsed] | None = None,
) -> tuple[list[Entry], dict[str, LocatedYaml], list[Problem]]:
    faq_root = root / "faq"
    parsed = {} if parsed is None else parsed
    problems: list[Problem] = []
    entries: list[Entry] = []
    lines: dict[str, LocatedYaml] = {}
    for path in tqdm(paths, desc="reading entries", unit=" files", disable=not show_progress):
        if path.suffix == ".yml" or (path.suffix == ".yaml" and path.parent == faq_root):
            problems.append(Problem(path, None, None, "entries live in faq/<topic>/<id>.yaml"))
        elif path.suffix == ".yaml":
            if path not in parsed:
                parsed[path] = parse_entry_file(path, overlay.get(path))
            entry, found, located = parsed[path]
            problems += found
            if entry and located:
                entries.append(entry)
                lines[entry.id] = located
    return entries, lines, problems


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _duplicate_ids(checked: list[Entry], items: Sequence[Item]) -> list[Problem]:
    """Each checked entry's id must be unique among `items` (which include it)."""
    first: dict[str, Item] = {}
    for item in items:
        first.setdefault(item.id, item)
    owners = {id(entry) for entry in checked}
    problems = []
    for item in items:
        earlier = first[item.id]
        if earlier is not item and (id(item) in owners or id(earlier) in owners):
            problems.append(
                Problem(item.path or Path("?"), 1, "id", f"duplicate id {item.id!r}, also in {earlier.path}")
            )
    return problems


def _duplicate_phrasings(
    entries: list[Entry], lines: dict[str, LocatedYaml], show_progress: bool = False
) -> list[Problem]:
    """Every question and paraphrase must be distinct text, within an entry and across entries."""
    owners = _owners(entries)
    texts = [_phrasing(*owner) for owner in owners]
    pairs, total = near_duplicate_pairs(texts, NEAR_DUPLICATE_RATIO, show_progress, keep=PAIRS_KEPT)
    problems = [_same_phrasing(owners[b], owners[a], lines) for a, b in pairs]
    if total > len(pairs):
        more = total - len(pairs)
        where = entries[0].root / "faq" if entries[0].root else Path("faq")
        problems.append(Problem(where, None, None, f"... and {more:,} more pairs of alike phrasings", more))
    return problems


def _ids_taken(fresh: list[Entry], knowledge: KnowledgeBase, replaced: set[str]) -> list[Problem]:
    problems = []
    seen: dict[str, Entry] = {}
    for entry in fresh:
        other = seen.get(entry.id) or knowledge.get(entry.id)
        if other is not None and (other.id not in replaced or other is seen.get(entry.id)):
            problems.append(
                Problem(entry.path or Path("?"), 1, "id", f"duplicate id {entry.id!r}, also in {other.path}")
            )
        seen.setdefault(entry.id, entry)
    return problems


def _clashing_phrasings(
    fresh: list[Entry], knowledge: KnowledgeBase, replaced: set[str], lines: dict[str, LocatedYaml]
) -> list[Problem]:
    """The changed entries' phrasings against each other and against every unchanged entry's. A text
    the replaced entries already had passed against every unchanged entry when it was loaded: only new
    texts are compared with them (an added paraphrase: one text, not the entry's seven)."""
    problems = _duplicate_phrasings(fresh, lines)
    had = {utils.default_process(_phrasing(*owner)) for owner in _owners(_entries(knowledge, replaced))}
    mine = [
        (owner, text)
        for owner in _owners(fresh)
        if (text := utils.default_process(_phrasing(*owner))) not in had
    ]
    if not mine:
        return problems
    texts, ids, starts = knowledge.phrasings()  # processed as near_duplicate_pairs does: both agree
    matrix = process.cdist(
        [text for _, text in mine],
        texts,
        scorer=fuzz.ratio,
        score_cutoff=NEAR_DUPLICATE_RATIO,
        dtype=np.uint8,
        workers=-1,
    )
    for a, column in zip(*matrix.nonzero(), strict=True):
        number = int(np.searchsorted(starts, column, side="right")) - 1
        if ids[number] in replaced:
            continue
        entry = knowledge.get(ids[number])
        assert isinstance(entry, Entry)
        part = int(column) - int(starts[number])
        other = (entry, "question", None) if part == 0 else (entry, "paraphrases", part - 1)
        problems.append(_same_phrasing(mine[a][0], other, lines))
    return problems


def _entries(knowledge: KnowledgeBase, ids: set[str]) -> list[Entry]:
    return [entry for entry_id in sorted(ids) if isinstance(entry := knowledge.get(entry_id), Entry)]


def _same_phrasing(
    reported: tuple[Entry, str, int | None],
    first: tuple[Entry, str, int | None],
    lines: dict[str, LocatedYaml],
) -> Problem:
    entry, field, i = reported
    label = f"item {i + 1}" if i is not None else "the question"
    return Problem(
        entry.path or Path("?"),
        lines[entry.id].line(field, i),
        field,
        f"{label} is the same as or nearly the same as {first[1]} "
        f"{'' if first[2] is None else f'item {first[2] + 1} '}of {first[0].id!r}: "
        f"{_phrasing(*reported)!r} ~ {_phrasing(*first)!r}",
    )


def _owners(entries: list[Entry]) -> list[tuple[Entry, str, int | None]]:
    owners: list[tuple[Entry, str, int | None]] = []
    for entry in entries:
        owners.append((entry, "question", None))
        owners += [(entry, "paraphrases", i) for i in range(len(entry.paraphrases))]
    return owners


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
