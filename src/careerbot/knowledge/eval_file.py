"""knowledge/eval.yaml: labelled questions that retrieval is scored against."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from careerbot.knowledge.disk import MAX_EVAL_BYTES, read_text
from careerbot.knowledge.loader import normalise
from careerbot.knowledge.models import KnowledgeBase
from careerbot.knowledge.problems import Problem, bounded
from careerbot.knowledge.yaml_lines import YamlSyntaxError, parse_located

# An eval question this close to an entry's own phrasing would measure recall of a copy, not retrieval.
COPY_RATIO = 90.0


@dataclass(frozen=True)
class EvalCase:
    question: str
    expected: tuple[str, ...]  # empty: out of scope, must be declined
    line: int | None = None

    @property
    def in_scope(self) -> bool:
        return bool(self.expected)


def load_eval(path: Path, knowledge: KnowledgeBase) -> tuple[list[EvalCase], list[Problem]]:
    text = read_text(path, MAX_EVAL_BYTES)
    if isinstance(text, Problem):
        return [], [text]
    try:
        located = parse_located(text)
    except YamlSyntaxError as exc:
        return [], [Problem(path, exc.line, None, str(exc))]
    data = located.data
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        return [], [Problem(path, 1, "questions", "eval.yaml must hold a list under 'questions'")]
    lines = located.item_lines.get("questions", [])
    cases: list[EvalCase] = []
    problems: list[Problem] = []
    for i, item in enumerate(data["questions"]):
        line = lines[i] if i < len(lines) else None
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("question"), str)
            or not item["question"].strip()
            or not isinstance(item.get("expected"), list)
        ):
            problems.append(
                Problem(path, line, "questions", f"item {i + 1} needs 'question' text and an 'expected' list")
            )
            continue
        unknown = [str(x) for x in item["expected"] if knowledge.get(str(x)) is None]
        if unknown:
            problems.append(Problem(path, line, "expected", f"unknown id(s): {', '.join(unknown)}"))
            continue
        cases.append(EvalCase(item["question"].strip(), tuple(str(x) for x in item["expected"]), line))
    problems += _copies(path, cases, knowledge)
    return cases, bounded(problems)


def _copies(path: Path, cases: list[EvalCase], knowledge: KnowledgeBase) -> list[Problem]:
    phrasings = [p for entry in knowledge.entries for p in (entry.question, *entry.paraphrases)]
    if not cases or not phrasings:
        return []
    matrix = process.cdist(
        [normalise(c.question) for c in cases],
        [normalise(p) for p in phrasings],
        scorer=fuzz.ratio,
        score_cutoff=COPY_RATIO,
        workers=1,
    )
    return [
        Problem(
            path, cases[a].line, "question", f"{cases[a].question!r} copies the FAQ phrasing {phrasings[b]!r}"
        )
        for a, b in zip(*matrix.nonzero(), strict=True)
    ]
