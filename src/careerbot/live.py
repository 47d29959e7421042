"""The engine that is live, and reloading it without a restart.

A reload builds a whole new engine beside the live one (knowledge validated, only changed texts
embedded) and swaps it in with one assignment, so questions keep being answered throughout and always
by one consistent engine. If any knowledge file is bad, nothing is swapped: the live version stays.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from careerbot.answering import Answerer
from careerbot.config import Config
from careerbot.engine import open_engine
from careerbot.knowledge import KnowledgeError, Problem
from careerbot.retrieval.encoder import Encoder


@dataclass(frozen=True)
class ReloadReport:
    swapped: bool
    entries: int
    seconds: float
    embedded: int = 0
    problems: list[Problem] = field(default_factory=list)


class LiveEngine:
    def __init__(self, config: Config, encoder: Encoder, answerer: Answerer) -> None:
        self._config = config
        self._encoder = encoder
        self._answerer = answerer
        self._reloading = threading.Lock()  # one reload at a time; answering never waits on it

    @property
    def encoder(self) -> Encoder:
        return self._encoder

    @property
    def knowledge_dir(self) -> Path:
        return self._config.knowledge.dir

    @property
    def answerer(self) -> Answerer:
        return self._answerer

    def reload(self) -> ReloadReport:
        """Blocking (it may embed): call it from a worker thread."""
        started = time.perf_counter()
        with self._reloading:
            try:
                answerer, report = open_engine(self._config, encoder=self._encoder)
            except KnowledgeError as exc:
                live = len(self._answerer.knowledge.entries)
                return ReloadReport(False, live, time.perf_counter() - started, problems=exc.problems)
            self._answerer = answerer
        return ReloadReport(
            True, len(answerer.knowledge.entries), time.perf_counter() - started, report.embedded
        )
