"""Finding entries by title for autocomplete: fuzzy, over questions and paraphrases. No discord here."""

from __future__ import annotations

from rapidfuzz import fuzz, process, utils

from careerbot.knowledge import Entry, KnowledgeBase


class TitleIndex:
    def __init__(self, knowledge: KnowledgeBase) -> None:
        self._phrasings: list[str] = []
        self._owners: list[Entry] = []
        for entry in knowledge.entries:
            for text in (entry.question, *entry.paraphrases, entry.id):
                self._phrasings.append(text)
                self._owners.append(entry)
        self._entries = knowledge.entries

    def find(
        self, typed: str, limit: int = 25, topic: str | None = None, min_score: float = 50
    ) -> list[Entry]:
        """Best matches first, each entry once; with nothing typed, entries in file order."""
        pool = [e for e in self._entries if topic is None or e.topic == topic]
        if not typed.strip():
            return pool[:limit]
        allowed = {e.id for e in pool}
        found: list[Entry] = []
        seen: set[str] = set()
        matches = process.extract(
            typed,
            self._phrasings,
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            limit=len(self._phrasings),
            score_cutoff=min_score,
        )
        for _, _, position in matches:
            entry = self._owners[position]
            if entry.id in allowed and entry.id not in seen:
                seen.add(entry.id)
                found.append(entry)
                if len(found) == limit:
                    break
        return found
