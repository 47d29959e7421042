"""What a moderator's change does, in order: write the file (validated, atomic, conflict-checked), record
the revision, reload the live engine. No discord here: the /kb cog only collects input and renders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from careerbot.knowledge import Entry
from careerbot.knowledge.writer import Change, ChangeConflict, ChangeRejected, KnowledgeWriter
from careerbot.live import LiveEngine, ReloadReport
from careerbot.store import Revision, Store

# A new question this close (cosine) to an existing entry is probably that entry asked another way.
NEAR_EXISTING = 0.8


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
        return self._apply(self.writer.save(fields, expected=None), moderator, "add")

    def edit(self, entry_id: str, fields: dict[str, Any], expected: str, moderator: Moderator) -> Outcome:
        old_path = self.writer.find(entry_id)
        if old_path is None:
            raise ChangeRejected([])
        change = self.writer.save({**fields, "id": entry_id}, expected=expected, old_path=old_path)
        return self._apply(change, moderator, "edit")

    def add_paraphrase(self, entry_id: str, paraphrase: str, moderator: Moderator) -> Outcome:
        current = self.writer.current(entry_id)
        if current is None:
            raise ChangeRejected([])
        path, text = current
        fields = yaml.safe_load(text)
        fields["paraphrases"] = [*fields.get("paraphrases", []), paraphrase]
        return self._apply(self.writer.save(fields, expected=text, old_path=path), moderator, "edit")

    def remove(self, entry_id: str, expected: str, moderator: Moderator) -> Outcome:
        return self._apply(self.writer.remove(entry_id, expected), moderator, "remove")

    def revert(self, revision: Revision, moderator: Moderator) -> Outcome:
        """Undoes one revision: puts back what was there before it, if nothing changed since."""
        path = self.writer.root / revision.path
        change = self.writer.restore(revision.entry_id, path, revision.before, expected=revision.after)
        return self._apply(change, moderator, "revert")

    def new_id(self, question: str) -> str:
        words = re.sub(r"[^a-z0-9]+", " ", question.lower()).split()
        base = "-".join(words[:6]) or "entry"
        candidate, number = base, 2
        while self.writer.find(candidate) is not None:
            candidate, number = f"{base}-{number}", number + 1
        return candidate

    def _apply(self, change: Change, moderator: Moderator, action: str) -> Outcome:
        relative = str(change.path.relative_to(self.writer.root))
        revision_id = self.store.record_revision(
            change.entry_id, relative, moderator.id, moderator.name, action, change.before, change.after
        )
        return Outcome(change, action, revision_id, self.live.reload(change.prepared))


__all__ = ["ChangeConflict", "ChangeRejected", "Curator", "Moderator", "Outcome"]
