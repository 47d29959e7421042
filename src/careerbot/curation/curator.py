"""What a moderator's change does, in order: record the revision, write the file (validated, atomic,
conflict-checked, see careerbot.curation.journal), mark the revision done, reload the live engine. No discord here: the /kb cog only collects input and renders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from careerbot.curation.journal import RevisionJournal
from careerbot.curation.store import Revision, Store
from careerbot.engine.live import LiveEngine, ReloadReport
from careerbot.knowledge import Entry, Problem
from careerbot.knowledge.changes import Change, ChangeRejected
from careerbot.knowledge.codec import entry_fields
from careerbot.knowledge.writer import KnowledgeWriter

# A new question this close (cosine) to an existing entry is probably that entry asked another way.
NEAR_EXISTING = 0.8
# Ids made from a question stay short enough to type (and far below the file name limit).
MAX_NEW_ID_CHARS = 80


@dataclass(frozen=True)
class Moderator:
    id: int
    name: str


@dataclass(frozen=True)
class Outcome:
    change: Change
    action: str  # add | edit | remove | revert
    revision_id: int
    reload: ReloadReport


class Curator:
    def __init__(self, writer: KnowledgeWriter, store: Store, live: LiveEngine) -> None:
        self.writer, self.store, self.live = writer, store, live

    def near_entry(self, question: str) -> Entry | None:
        """The existing entry a new question most resembles, if it is close enough to ask first."""
        answer = self.live.answerer.answer(question)
        for candidate in answer.candidates[:1]:
            item = self.live.answerer.knowledge.get(candidate.item_id)
            if isinstance(item, Entry) and candidate.score >= NEAR_EXISTING:
                return item
        return None

    def add(self, fields: dict[str, Any], moderator: Moderator) -> Outcome:
        fields = {**fields, "id": fields.get("id") or self.new_id(str(fields["question"]))}
        journal = self._journal(moderator, "add")
        return self._outcome(self.writer.save(fields, expected=None, journal=journal), journal)

    def edit(self, entry_id: str, fields: dict[str, Any], expected: str, moderator: Moderator) -> Outcome:
        old_path = self.writer.locate(entry_id)
        if old_path is None:
            raise self.writer.no_such_entry(entry_id)
        journal = self._journal(moderator, "edit")
        change = self.writer.save({**fields, "id": entry_id}, expected, old_path, journal)
        return self._outcome(change, journal)

    def add_paraphrase(self, entry_id: str, paraphrase: str, moderator: Moderator) -> Outcome:
        current = self.writer.current(entry_id)
        if current is None:
            raise self.writer.no_such_entry(entry_id)
        path, text = current
        fields = entry_fields(text)
        if fields is None:
            raise ChangeRejected([Problem(path, None, None, "is not a valid entry file")], invalid=False)
        fields["paraphrases"] = [*fields.get("paraphrases", []), paraphrase]
        journal = self._journal(moderator, "edit")
        return self._outcome(self.writer.save(fields, text, path, journal), journal)

    def remove(self, entry_id: str, expected: str, moderator: Moderator) -> Outcome:
        journal = self._journal(moderator, "remove")
        return self._outcome(self.writer.remove(entry_id, expected, journal), journal)

    def revert(self, revision: Revision, moderator: Moderator) -> Outcome:
        """Undoes one revision: puts back what was there before it, if nothing changed since. A move is
        undone by moving the entry back."""
        root, journal = self.writer.root, self._journal(moderator, "revert")
        change = self.writer.restore(
            revision.entry_id,
            root / (revision.moved_from or revision.path),
            revision.before,
            expected=revision.after,
            moved_from=root / revision.path if revision.moved_from else None,
            journal=journal,
        )
        return self._outcome(change, journal)

    def new_id(self, question: str) -> str:
        words = re.sub(r"[^a-z0-9]+", " ", question.lower()).split()
        base = "-".join(words[:6])[:MAX_NEW_ID_CHARS].strip("-") or "entry"
        candidate, number = base, 2
        while self.writer.locate(candidate) is not None:
            candidate, number = f"{base}-{number}", number + 1
        return candidate

    def _journal(self, moderator: Moderator, action: str) -> RevisionJournal:
        return RevisionJournal(self.store, self.writer.root, moderator.id, moderator.name, action)

    def _outcome(self, change: Change, journal: RevisionJournal) -> Outcome:
        return Outcome(change, journal.action, journal.revision_id, self.live.reload(change.prepared))
