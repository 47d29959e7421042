"""Scores the answer path against labelled questions: ranking quality and abstention quality."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from careerbot.engine.answering import Answer, Answerer
from careerbot.engine.language import ENGLISH
from careerbot.knowledge.eval_file import EvalCase, Judgment, judged_key


@dataclass(frozen=True)
class EvalReport:
    threshold: float
    in_scope: int  # in English; the ranking figures are over these
    out_of_scope: int
    not_english: int  # scored apart: careerbot answers in English
    told_english: float  # share of those told so (the rest are misses)
    unlabelled: int  # in scope, answering ids not yet chosen: not scored
    uncovered: int  # in scope, but no entry or passage answers it: a miss whatever is chosen
    # in scope: the top-ranked item is an expected one and was not offered as one of uncertain choices
    # (an uncertain reply is never right at 1); a decline below the threshold still counts its top item
    hit_at_1: float
    hit_at_3: float
    mrr: float
    answered_right: float  # in scope: answered (not declined) with an expected item
    false_decline: float  # share of in-scope questions declined (uncertain replies apart, below)
    decline_recall: float  # share of out-of-scope questions declined (uncertain replies apart, below)
    decline_precision: float  # share of declined questions that were out of scope
    uncertain_in_scope: float = 0.0  # shares given "did you mean" choices instead of an answer
    uncertain_out_of_scope: float = 0.0
    judged: int = 0  # in-scope English replies a blind reader judged (eval/judged/<set>.yaml)
    judged_relevant: float = 0.0
    judged_wrong: float = 0.0
    changed: int = 0  # judged replies that differ now: to be judged again
    # Compound questions (answering.further_answers): second parts shown with English answers (to an
    # out-of-scope question, always wrong), and how many are an expected entry of an in-scope question.
    # The main answer, and so hit@1, is the same either way.
    further_shown: int = 0
    further_right: int = 0
    misses: list[tuple[EvalCase, Answer]] = field(default_factory=list, compare=False)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "threshold": self.threshold,
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "not_english": self.not_english,
            "told_english": round(self.told_english, 4),
            "unlabelled": self.unlabelled,
            "uncovered": self.uncovered,
            "hit@1": round(self.hit_at_1, 4),
            "hit@3": round(self.hit_at_3, 4),
            "mrr": round(self.mrr, 4),
            "answered_right": round(self.answered_right, 4),
            "false_decline": round(self.false_decline, 4),
            "decline_recall": round(self.decline_recall, 4),
            "decline_precision": round(self.decline_precision, 4),
            "uncertain_in_scope": round(self.uncertain_in_scope, 4),
            "uncertain_out_of_scope": round(self.uncertain_out_of_scope, 4),
            "judged": self.judged,
            "judged_relevant": round(self.judged_relevant, 4),
            "judged_wrong": round(self.judged_wrong, 4),
            "changed_since_judged": self.changed,
            "further_shown": self.further_shown,
            "further_right": self.further_right,
            "further_precision": round(self.further_precision, 4),
        }

    @property
    def further_precision(self) -> float:
        return _share(self.further_right, self.further_shown)


def evaluate(
    answerer: Answerer,
    cases: list[EvalCase],
    threshold: float | None = None,
    judgments: dict[str, Judgment] | None = None,
) -> EvalReport:
    scored = [case for case in cases if case.labelled]
    answers = answerer.answer_many([case.question for case in scored], min_score=threshold)
    english = [(c, a) for c, a in zip(scored, answers, strict=True) if c.english]
    others = [(c, a) for c, a in zip(scored, answers, strict=True) if not c.english]
    in_scope = [(c, a) for c, a in english if c.in_scope]
    out_scope = [(c, a) for c, a in english if not c.in_scope]
    ranks = [_rank(c, a) for c, a in in_scope]
    declined = [a for _, a in (*in_scope, *out_scope) if _declined(a)]
    declined_out = sum(1 for _, a in out_scope if _declined(a))
    misses = [
        (c, a)
        for c, a in english
        if (c.in_scope and (a.abstained or a.id not in c.expected)) or (not c.in_scope and not a.abstained)
    ]
    return EvalReport(
        threshold=answerer.threshold if threshold is None else threshold,
        in_scope=len(in_scope),
        out_of_scope=len(out_scope),
        not_english=len(others),
        told_english=_share(sum(1 for _, a in others if a.language != ENGLISH), len(others)),
        unlabelled=len(cases) - len(scored),
        uncovered=sum(1 for c, _ in in_scope if not c.expected),
        hit_at_1=_share(
            sum(1 for r, (_, a) in zip(ranks, in_scope, strict=True) if r == 1 and not a.uncertain),
            len(ranks),
        ),
        hit_at_3=_share(sum(1 for r in ranks if r and r <= 3), len(ranks)),
        mrr=_share(sum(1 / r for r in ranks if r), len(ranks)),
        answered_right=_share(
            sum(1 for c, a in in_scope if not a.abstained and a.id in c.expected), len(ranks)
        ),
        false_decline=_share(sum(1 for _, a in in_scope if _declined(a)), len(in_scope)),
        decline_recall=_share(declined_out, len(out_scope)),
        decline_precision=_share(declined_out, len(declined)) if declined else 1.0,
        uncertain_in_scope=_share(sum(1 for _, a in in_scope if a.uncertain), len(in_scope)),
        uncertain_out_of_scope=_share(sum(1 for _, a in out_scope if a.uncertain), len(out_scope)),
        misses=misses + [(c, a) for c, a in others if a.language == ENGLISH],
        further_shown=sum(len(a.further) for _, a in english),
        further_right=sum(1 for c, a in in_scope for f in a.further if f.id in c.expected),
        **_judged(english, judgments or {}),
    )


def _judged(answered: list[tuple[EvalCase, Answer]], judgments: dict[str, Judgment]) -> dict[str, Any]:
    """The blind verdicts on the in-scope replies, and how many replies changed since they were judged."""
    pairs = [(judgments.get(judged_key(c.question)), a) for c, a in answered]
    judged = [(j, a) for j, a in pairs if j is not None]
    in_scope = [j for j, _ in judged if not j.should_decline]
    return {
        "judged": len(in_scope),
        "judged_relevant": _share(sum(j.verdict == "relevant" for j in in_scope), len(in_scope)),
        "judged_wrong": _share(sum(j.verdict == "wrong" for j in in_scope), len(in_scope)),
        "changed": sum(j.reply != ("declined" if a.abstained else a.id) for j, a in judged),
    }


def _declined(answer: Answer) -> bool:
    """Declined outright: an uncertain reply (choices, no answer) is counted apart."""
    return answer.abstained and not answer.uncertain


def _rank(case: EvalCase, answer: Answer) -> int | None:
    for position, candidate in enumerate(answer.candidates, start=1):
        if candidate.item_id in case.expected:
            return position
    return None


def _share(part: float, whole: int) -> float:
    return part / whole if whole else 0.0
