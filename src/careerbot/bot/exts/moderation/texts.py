"""What /kb tells moderators, as plain text made from plain values (an outcome, a refusal, a reload
report, gap groups), each within Discord's message limit. No discord here: tests read these texts
without a Discord, and the cog, forms and buttons only send them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from careerbot.curation.curator import Outcome
from careerbot.curation.gaps import Gap
from careerbot.curation.reports import clip
from careerbot.engine.live import ReloadReport
from careerbot.knowledge.changes import ChangeConflict, ChangeRejected
from careerbot.knowledge.problems import bounded

MESSAGE_LIMIT = 2000  # characters in a Discord message's content
SHOWN_ID_LIMIT = 100
SKIPPED_SHOWN = 5  # bad files elsewhere, listed after a change that went live beside them
REFUSAL = "Only moderators can change what careerbot knows."
BROKEN_FILE = "Its file on disk is not a valid entry (edited by hand?): fix it, then /kb reload."
NO_GAPS = "No gaps: every recent question was answered well."
# discord.utils.escape_mentions's pattern, here so this module needs no discord (a test keeps them equal).
MENTION = re.compile(r"@(everyone|here|[!&]?[0-9]{17,20})")


def within_limit(text: str) -> str:
    """A whole message's text, clipped to fit one Discord message."""
    return clip(text, MESSAGE_LIMIT)


def escape_mentions(text: str) -> str:
    """`text` with @everyone, @here and user or role mentions broken by a zero-width space."""
    return MENTION.sub("@\u200b\\1", text)


def no_such_entry(entry_id: object) -> str:
    """The refusal, with the id shown clipped, on one line, unable to close the code span or ping."""
    shown = "".join(c if c.isprintable() and c != "`" else "?" for c in str(entry_id)[: SHOWN_ID_LIMIT + 1])
    return f"No such entry: `{escape_mentions(clip(shown, SHOWN_ID_LIMIT))}`."


def outcome_text(outcome: Outcome) -> str:
    verb = {"add": "Added", "edit": "Saved", "remove": "Removed", "revert": "Reverted"}[outcome.action]
    live = (
        f"live now ({outcome.reload.entries} entries, reloaded in {outcome.reload.seconds:.1f} s)"
        if outcome.reload.swapped
        else "but the reload failed: " + "; ".join(map(str, outcome.reload.problems))
    )
    text = f"{verb} `{outcome.change.entry_id}` as revision #{outcome.revision_id}, {live}."
    # Files changed by hand that are bad do not stop this change; their live version stays.
    if skipped := outcome.change.prepared.problems if outcome.change.prepared else []:
        listed = "\n".join(f"- {problem}" for problem in bounded(skipped)[:SKIPPED_SHOWN])
        text += f"\nNot loaded, so their live version stays until they are fixed:\n{listed}"
    return within_limit(text)


def failure_text(error: Exception) -> str:
    """Why a change was not saved: a conflict shows what changed meanwhile, a refusal its problems."""
    if isinstance(error, ChangeConflict):
        return within_limit(
            "Not saved: the entry changed since you opened it. Open it again to start from its current "
            f"version. What changed:\n```diff\n{clip(error.diff, 1500)}\n```"
        )
    rejected = cast(ChangeRejected, error)
    problems = "\n".join(f"- {problem.field}: {problem.message}" for problem in rejected.problems)
    why = "the change would break the knowledge" if rejected.invalid else "careerbot could not make it"
    return within_limit(f"Not saved: {why}.\n{problems or '- the entry no longer exists'}")


def reload_text(report: ReloadReport) -> str:
    if report.swapped:
        return (
            f"Reloaded: {report.entries} entries live, {report.embedded} texts embedded, "
            f"in {report.seconds:.1f} s."
        )
    lines = "\n".join(f"- `{problem}`" for problem in report.problems)
    return within_limit(
        f"Not reloaded: the live version ({report.entries} entries) stays. Fix these first:\n{lines}"
    )


def gaps_text(gaps: Sequence[Gap]) -> str:
    """The gap queue, numbered as its buttons are: how often each need was asked, in how many wordings."""
    if not gaps:
        return NO_GAPS
    return within_limit(
        "\n".join(
            f'{number}. {gap.count}x "{clip(gap.example, 150)}" ({len(gap.wordings)} wordings)'
            for number, gap in enumerate(gaps, start=1)
        )
    )


def near_entry_offer(question: str, entry_id: str) -> str:
    return (
        f"This is close to an existing entry: **{question}** (`{entry_id}`). "
        "Add it as a new entry anyway, or add your question as a paraphrase of that one?"
    )


def removal_question(entry_id: str) -> str:
    return f"Remove `{entry_id}`? It can be reverted from /kb history."


def stored_file(text: str) -> str:
    """An entry's file as /kb show displays it."""
    return within_limit(f"```yaml\n{text}```")


def no_history(entry_id: str) -> str:
    return f"No changes to `{clip(entry_id, 100)}` made through careerbot."
