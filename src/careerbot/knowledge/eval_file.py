"""knowledge/eval/<set>.yaml: labelled questions that answers are scored against, one file per set.

The sets: `test` (real people's questions, restated, frozen: what the README reports), `dev` (real
questions too, the ones tuning may look at) and `regression` (written by the team). A question carries
`expected` (every id that answers it, best first), and may carry `scope` (in or out; without it, a
question with no expected id is out of scope), `language` (when it is not English) and `source` (the
URL of the post it restates)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from rapidfuzz import fuzz, process

from careerbot.knowledge.disk import MAX_EVAL_BYTES, read_text
from careerbot.knowledge.loader import normalise
from careerbot.knowledge.models import KnowledgeBase
from careerbot.knowledge.problems import KnowledgeError, Problem, bounded
from careerbot.knowledge.yaml_lines import YamlSyntaxError, parse_located

# An eval question this close to an entry's own phrasing would measure recall of a copy, not retrieval.
COPY_RATIO = 90.0
EVAL_FOLDER = "eval"
SET_ORDER = ("test", "dev", "regression")  # the others, if any, follow by name
LANGUAGE = re.compile(r"[a-z]{2,3}")  # an ISO 639 code
URL = re.compile(r"https?://\S+")
VERDICTS = ("relevant", "partial", "wrong", "declined")
JUDGED_FOLDER = "judged"  # eval/judged/<set>.yaml: blind verdicts on the replies to that set


@dataclass(frozen=True)
class EvalCase:
    question: str
    expected: tuple[str, ...]  # every id that answers it; empty and in scope: nothing in the knowledge does
    line: int | None = None
    in_scope: bool = True
    language: str = "en"
    source: str | None = None
    labelled: bool = True  # False: in scope, its answering ids not yet chosen; not scored

    @property
    def english(self) -> bool:
        return self.language == "en"


@dataclass(frozen=True)
class Judgment:
    """A blind reader's verdict on careerbot's reply to one eval question (eval/judged/<set>.yaml)."""

    reply: str  # the entry id careerbot answered with, or "declined"
    verdict: str  # relevant | partial | wrong | declined
    should_decline: bool


def judged_key(question: str) -> str:
    """How a question is looked up among the judgments: its words, whatever the YAML's line breaks."""
    return " ".join(question.split())


def load_judgments(path: Path) -> dict[str, Judgment]:
    """The judgments of one set by question text; none if the set has not been judged. A malformed file
    raises KnowledgeError naming it: judged figures are reported, never guessed."""
    if not path.is_file():
        return {}
    text = read_text(path, MAX_EVAL_BYTES)
    if isinstance(text, Problem):
        raise KnowledgeError([text])
    try:
        rows = parse_located(text).data["judgments"]
        judgments = {
            judged_key(row["question"]): Judgment(str(row["reply"]), row["verdict"], row["should_decline"])
            for row in rows
        }
    except YamlSyntaxError as exc:
        raise KnowledgeError([Problem(path, exc.line, None, str(exc))]) from exc
    except (TypeError, KeyError, AttributeError) as exc:
        problem = Problem(path, None, "judgments", "each needs question, reply, verdict and should_decline")
        raise KnowledgeError([problem]) from exc
    odd = [
        j for j in judgments.values() if j.verdict not in VERDICTS or not isinstance(j.should_decline, bool)
    ]
    if odd:
        message = f"verdict must be one of {', '.join(VERDICTS)} and should_decline true or false"
        raise KnowledgeError([Problem(path, None, "judgments", message)])
    return judgments


def eval_sets(knowledge_dir: Path) -> list[tuple[str, Path]]:
    """Each eval set's name and file, in SET_ORDER."""
    files = sorted((knowledge_dir / EVAL_FOLDER).glob("*.yaml"))
    rank = {name: i for i, name in enumerate(SET_ORDER)}
    return sorted(((f.stem, f) for f in files), key=lambda s: (rank.get(s[0], len(rank)), s[0]))


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
        return [], [Problem(path, 1, "questions", "an eval file must hold a list under 'questions'")]
    lines = located.item_lines.get("questions", [])
    cases: list[EvalCase] = []
    problems: list[Problem] = []
    for i, item in enumerate(data["questions"]):
        line = lines[i] if i < len(lines) else None
        case = _case(item, Problem(path, line, "questions", f"item {i + 1}"), knowledge)
        if isinstance(case, Problem):
            problems.append(case)
        else:
            cases.append(case)
    problems += _copies(path, cases, knowledge)
    return cases, bounded(problems)


def _case(item: object, where: Problem, knowledge: KnowledgeBase) -> EvalCase | Problem:
    """One question, or a problem at `where` (its file and line) saying what is wrong with it."""
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("question"), str)
        or not item["question"].strip()
    ):
        return replace(where, message=f"{where.message} needs 'question' text")
    if not isinstance(item.get("expected", []), list) or ("expected" not in item and "scope" not in item):
        return replace(
            where, message=f"{where.message} needs an 'expected' list (or a 'scope' until labelled)"
        )
    expected = tuple(str(x) for x in item.get("expected", []))
    unknown = [x for x in expected if knowledge.get(x) is None]
    if unknown:
        return replace(where, field="expected", message=f"unknown id(s): {', '.join(unknown)}")
    scope = item.get("scope", "in" if expected else "out")
    if scope not in ("in", "out") or (scope == "out" and expected):
        return replace(where, field="scope", message="must be 'in', or 'out' with no expected id")
    language = item.get("language", "en")
    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
        return replace(where, field="language", message="must be a two- or three-letter code such as 'ko'")
    source = item.get("source")
    if source is not None and not (isinstance(source, str) and URL.fullmatch(source)):
        return replace(where, field="source", message="must be an http(s) URL")
    labelled = "expected" in item or scope == "out"
    return EvalCase(item["question"].strip(), expected, where.line, scope == "in", language, source, labelled)


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
