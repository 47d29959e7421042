"""Answers and reports as readable terminal text."""

from __future__ import annotations

import textwrap

from careerbot.engine.answering import Answer
from careerbot.engine.evaluation import EvalReport
from careerbot.knowledge import Source

WIDTH = 100


def render_answer(answer: Answer, explain: bool = False) -> str:
    lines: list[str] = []
    if answer.truncated:
        lines.append(f"(a long question: answered on its first {len(answer.question)} characters)")
    if answer.uncertain:
        lines.append(f"Not sure; did you mean: (best score {answer.score:.2f}, with a close runner-up)")
        lines += [f"  - {s.title}  [{s.id}]" for s in answer.did_you_mean]
    elif answer.abstained:
        lines.append(answer.text)
    else:
        lines.append(f"{answer.title}  [{answer.id}, {answer.topic}]")
        lines += _wrap(answer.text)
        lines.append(f"confidence: {answer.confidence} (score {answer.score:.2f})")
        lines += [f"source: {format_source(source)}" for source in answer.sources]
        if answer.reviewed_on:
            lines.append(f"reviewed: {answer.reviewed_on.isoformat()}")
        for further in answer.further:
            lines += ["", f"also, for another part of your question: {further.title}  [{further.id}]"]
            lines += _wrap(further.text)
            if further.shortened:
                lines.append("(first lines only)")
            lines += [f"source: {format_source(source)}" for source in further.sources]
    if answer.did_you_mean and not answer.uncertain:
        lines.append("did you mean:")
        lines += [f"  - {s.title}  [{s.id}]" for s in answer.did_you_mean]
    if answer.related:
        lines.append("related:")
        lines += [f"  - {s.title}  [{s.id}]" for s in answer.related]
    if explain:
        lines.append(render_candidates(answer))
    return "\n".join(lines)


def render_candidates(answer: Answer) -> str:
    rows = ["candidates (score: cosine of the best-matching text; rank: mean of the best 3 + keyword boost):"]
    for position, c in enumerate(answer.candidates[:5], start=1):
        matched = textwrap.shorten(c.matched_text, 70, placeholder="...")
        rows.append(
            f"  {position}. {c.item_id:<48} score {c.score:.3f}  rank {c.rank_score:.3f}  "
            f"via {c.matched_kind}: {matched!r}"
        )
    return "\n".join(rows)


def format_source(source: Source) -> str:
    parts = [source.title]
    if source.section:
        parts.append(f"section {source.section}")
    if source.url:
        parts.append(source.url)
    return ", ".join(parts)


def render_eval(reports: list[EvalReport]) -> str:
    header = (
        f"{'threshold':>9} {'hit@1':>6} {'hit@3':>6} {'MRR':>6} {'right':>6} "
        f"{'in-scope declined':>18} {'out-of-scope declined':>22} {'decline precision':>18} "
        f"{'uncertain in/out':>17}"
    )
    rows = [header]
    for r in reports:
        rows.append(
            f"{r.threshold:>9.2f} {r.hit_at_1:>6.3f} {r.hit_at_3:>6.3f} {r.mrr:>6.3f} {r.answered_right:>6.3f} "
            f"{r.false_decline:>18.3f} {r.decline_recall:>22.3f} {r.decline_precision:>18.3f} "
            f"{r.uncertain_in_scope:>11.3f}/{r.uncertain_out_of_scope:.3f}"
        )
    first = reports[0]
    apart = [
        f"{count} {what}"
        for count, what in (
            (first.uncovered, "of the in-scope ones answered by no entry"),
            (
                first.not_english,
                f"not in English, {first.told_english:.0%} of them told careerbot answers in English",
            ),
            (first.unlabelled, "not labelled yet, not scored"),
        )
        if count
    ]
    judged = [r for r in reports if r.judged]
    if judged:
        j = judged[0]
        rows.append(
            f"judged blind at {j.threshold:.2f}: {j.judged_relevant:.1%} of {j.judged} in-scope replies relevant, "
            f"{j.judged_wrong:.1%} wrong; {j.changed} replies changed since, to be judged again"
        )
    configured = next((r for r in reports if r.further_shown), None)
    if configured:
        rows.append(
            f"further answers at {configured.threshold:.2f}: {configured.further_right} of "
            f"{configured.further_shown} second parts are an expected entry ({configured.further_precision:.0%})"
        )
    rows.append(
        f"({first.in_scope} in-scope and {first.out_of_scope} out-of-scope questions"
        + "".join(f"; {part}" for part in apart)
        + "; 'right' = answered, not declined, with an expected entry; 'uncertain' = did-you-mean choices"
        " instead of an answer, counted apart from the declines and never right, not even at hit@1)"
    )
    return "\n".join(rows)


def render_misses(report: EvalReport) -> str:
    rows = [f"misses at threshold {report.threshold:.2f}:"]
    for case, answer in report.misses:
        got = (
            f"uncertain ({answer.score:.2f}): {', '.join(s.id for s in answer.did_you_mean)}"
            if answer.uncertain
            else "declined"
            if answer.abstained
            else f"{answer.id} ({answer.score:.2f})"
        )
        got += f" (taken for language {answer.language!r})" if answer.language != case.language else ""
        top = answer.candidates[0] if answer.candidates else None
        best = (
            f"; top {top.item_id} {top.score:.2f}"
            if top and answer.abstained and not answer.uncertain
            else ""
        )
        want = ", ".join(case.expected) or ("decline" if not case.in_scope else "an entry nobody wrote yet")
        want = want if case.english else f"the English-only reply ({case.language})"
        rows.append(f"  line {case.line}: {case.question!r}\n      want {want}; got {got}{best}")
    return "\n".join(rows)


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines += textwrap.wrap(
            paragraph, WIDTH, subsequent_indent="  " if paragraph.startswith("- ") else ""
        ) or [""]
    return lines
