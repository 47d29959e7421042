"""The engine that is live, and reloading it without a restart.

A reload builds a new engine beside the live one (only the changed files re-read and validated, only
their texts embedded) and swaps it in with one assignment, so questions keep being answered throughout and always
by one consistent engine. If any knowledge file is bad, nothing is swapped: the live version stays.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from careerbot.config import Config
from careerbot.engine.answering import Answerer
from careerbot.engine.loading import Engine, save_engine, update_engine
from careerbot.knowledge import KnowledgeError, Problem
from careerbot.knowledge.snapshot import Refresh, Snapshot
from careerbot.knowledge.watch import list_files_now, watch
from careerbot.retrieval.encoder import Encoder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadReport:
    swapped: bool
    entries: int
    seconds: float
    embedded: int = 0
    problems: list[Problem] = field(default_factory=list)


class LiveEngine:
    def __init__(self, config: Config, encoder: Encoder, engine: Engine) -> None:
        self._config = config
        self._encoder = encoder
        self._engine = engine
        self._reloading = threading.Lock()  # one reload at a time; answering never waits on it
        self._saves = ThreadPoolExecutor(max_workers=1, thread_name_prefix="careerbot-save")  # in order
        self._warm_ups = ThreadPoolExecutor(max_workers=1, thread_name_prefix="careerbot-warm-up")
        # Every background job until it is done: none is dropped mid-run, and each failure is logged.
        self._pending: set[Future[object]] = set()
        self._pending_lock = threading.Lock()
        self._watching = False

    def _in_background(self, workers: ThreadPoolExecutor, job: Callable[[], object], what: str) -> None:
        def logged() -> None:
            try:
                job()
            except Exception:  # the live engine is fine; only the next start or browse redoes the work
                # logged in the job, not in a done-callback: flush() returns only once it is logged
                log.exception("could not %s", what)

        future: Future[object] = workers.submit(logged)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._finished)

    def _finished(self, done: Future[object]) -> None:
        with self._pending_lock:
            self._pending.discard(done)

    def flush(self) -> None:
        """Waits until every background job so far (saves of reloads, warm-ups) is done."""
        with self._pending_lock:
            pending = list(self._pending)
        wait(pending)

    @property
    def encoder(self) -> Encoder:
        return self._encoder

    @property
    def knowledge_dir(self) -> Path:
        return self._config.knowledge.dir

    @property
    def answerer(self) -> Answerer:
        return self._engine.answerer

    def warm_up_in_background(self) -> None:
        """Prepares, in a thread, what the first /faq browse or edit would otherwise wait for: start-up
        decodes entries only as answers need them (see KnowledgeBase.deferred), and edits are checked
        against a table of every phrasing. The first time, also starts watching the knowledge folder,
        so that an edit learns which files changed by hand from the kernel instead of stat-ing every
        file (careerbot.knowledge.watch), and reloads: an engine loaded with check_files=False learns
        here of the files changed since its index was saved."""
        if not self._watching:
            self._watching = True
            self._in_background(self._warm_ups, self._watch_and_reload, "watch the knowledge folder")
        self._in_background(
            self._warm_ups,
            lambda: self.answerer.knowledge.phrasings(),  # the version live when it runs
            "warm up the knowledge (phrasings table)",
        )

    def _watch_and_reload(self) -> None:
        if self._config.knowledge.watch:
            watch(self.knowledge_dir)  # one full scan; listings after it come from the kernel's events
        if list_files_now(self.knowledge_dir).stamps == self.snapshot().stamps:
            return
        report = self.reload()
        if not report.swapped:
            problems = "\n".join(str(problem) for problem in report.problems)
            log.warning("files changed in the knowledge folder are not loaded:\n%s", problems)

    def snapshot(self) -> Snapshot:
        """The knowledge as the live engine last read it (edits are validated against it)."""
        return self._engine.snapshot

    def reload(self, prepared: Refresh | None = None) -> ReloadReport:
        """Blocking (it may embed): call it from a worker thread. `prepared` is a change's knowledge as
        the writer validated it; it spares reading and checking again if nothing reloaded meanwhile.
        The new index is saved in the background: the files are on disk, so if the process stops
        first, the next start applies them again."""
        started = time.perf_counter()
        with self._reloading, collector_paused():
            try:
                engine, report = update_engine(
                    self._config, self._encoder, self._engine, refreshed=prepared, save=False
                )
            except KnowledgeError as exc:
                live = len(self.answerer.knowledge.entries)
                return ReloadReport(False, live, time.perf_counter() - started, problems=exc.problems)
            self._engine = engine
            if not report.loaded:
                self._in_background(
                    self._saves,
                    lambda: save_engine(self._config, engine, self._encoder.model_id),
                    f"save the index to {self._config.index.dir}",
                )
                self.warm_up_in_background()
        return ReloadReport(
            True, len(engine.answerer.knowledge.entries), time.perf_counter() - started, report.embedded
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """A reload makes a knowledge version: at 100k entries, millions of objects that live until the next
    reload. With the cyclic collector on, every full collection during the reload walks all of them with
    the GIL held (about 50 ms each at 100k, the event loop stalled throughout; benchmarks/bench_loop.py).
    So it is paused while they are made, and what was made is then frozen out of later collections.
    Reference counting still frees a replaced version: a knowledge version holds no reference cycles
    (tests/bot/test_event_loop.py checks). gc.disable is process-wide; reloads run one at a time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
