"""What /kb stats and /kb history report, as text. Both read every entry or parse stored versions, so
the bot calls them from a worker thread. No discord here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from careerbot.curation.store import Revision, Store
from careerbot.knowledge import TOPICS, KnowledgeBase
from careerbot.knowledge.codec import entry_fields

FIELD_LIMIT = 1024  # characters in an embed field's value


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    inline: bool = True


def knowledge_stats(knowledge: KnowledgeBase, store: Store, review_days: int, today: date) -> list[Field]:
    """Entries per topic, the most asked, votes, and the entries not reviewed for `review_days`."""
    most_asked = store.most_asked(5)
    votes = store.votes()
    due = today - timedelta(days=review_days)
    stale = (entry.id for entry in knowledge.entries if entry.reviewed_on < due)
    return [
        Field("Entries per topic", "\n".join(f"{t}: {len(knowledge.ids_in(t))}" for t in TOPICS)),
        Field("Most asked", "\n".join(f"{i}: {n}" for i, n in most_asked) or "nothing yet"),
        Field(
            "Votes (helpful / not)",
            bounded_join("\n", (f"{i}: {y} / {n}" for i, (y, n) in sorted(votes.items()))) or "none yet",
            inline=False,
        ),
        Field(f"Not reviewed for {review_days} days", bounded_join(", ", stale) or "none", inline=False),
    ]


def clip(text: str, limit: int) -> str:
    """`text`, cut with "…" to at most `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bounded_join(separator: str, parts: Iterable[str], limit: int = FIELD_LIMIT) -> str:
    """The parts joined and cut with "…" to fit `limit`, reading no part past it (100k ids need not be)."""
    text = ""
    for part in parts:
        text = f"{text}{separator}{part}" if text else part
        if len(text) > limit:
            return clip(text, limit)
    return text


def history_text(revisions: Sequence[Revision], current: str | None) -> str:
    """One line per revision, newest first, and a warning when the file on disk (`current`, None when
    gone) is not what the newest revision left."""
    lines = [
        f"#{r.id} <t:{int(r.changed_at)}:f> {r.moderator_name}: {r.action} ({changed_fields(r.before, r.after)})"
        for r in revisions
    ]
    if revisions and current != revisions[0].after:
        lines.insert(
            0, "The file has changed outside careerbot since the last revision (git or a hand edit)."
        )
    return "\n".join(lines)


def changed_fields(before: str | None, after: str | None) -> str:
    if before is None:
        return "created"
    if after is None:
        return "removed"
    old, new = entry_fields(before) or {}, entry_fields(after) or {}
    changed = [key for key in {**old, **new} if old.get(key) != new.get(key)]
    return "changed " + ", ".join(changed) if changed else "no change"
