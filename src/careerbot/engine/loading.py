"""Builds the answering engine from settings: the one place that wires knowledge, model and index.

Start-up and reloads take the same path: load the stored index (if any), re-read only the knowledge
files that changed since, bring the index up to date with just those, and save it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from careerbot.config import Config
from careerbot.engine.answering import Answerer
from careerbot.knowledge import KnowledgeError
from careerbot.knowledge.snapshot import Refresh, Snapshot, refresh
from careerbot.retrieval.encoder import Encoder

if TYPE_CHECKING:  # imported lazily below: `careerbot validate` must not pay for faiss
    import numpy as np

    from careerbot.retrieval.retriever import Retriever


@dataclass(frozen=True)
class Engine:
    answerer: Answerer
    snapshot: Snapshot  # the knowledge it answers from, with the file stamps it was read at
    retriever: Retriever


@dataclass(frozen=True)
class IndexReport:
    documents: int
    embedded: int
    changed_items: int
    loaded: bool  # True: loaded from disk with no change to apply
    seconds: float
    unchecked: bool = False  # True: the knowledge files were not compared with the index's stamps

    def describe(self) -> str:
        if self.unchecked:
            return f"index loaded: {self.documents} texts in {self.seconds:.2f} s (files checked next)"
        if self.loaded:
            return f"index up to date: {self.documents} texts loaded in {self.seconds:.2f} s"
        changed = f", {self.changed_items} entries changed" if self.changed_items else ""
        return (
            f"index saved: {self.documents} texts, {self.embedded} embedded{changed}, in {self.seconds:.2f} s"
        )


def load_engine(
    config: Config,
    encoder: Encoder | None = None,
    show_progress: bool = False,
    rebuild: bool = False,
    compact: bool = False,
    thorough: bool = False,
    check_files: bool = True,
) -> tuple[Engine, IndexReport]:
    """`rebuild` re-embeds every text, into new index folders; `compact` folds edits into a new base
    segment (no embedding); `thorough` checksums every index file, even those unchanged since their last
    check. A damaged index is rebuilt (re-embedding only what was lost) and saved. Without
    `check_files`, a whole saved index is served as it is, without stat-ing every knowledge file for
    changes since it was saved (most of a second at 1M texts): the caller then reloads right after
    (LiveEngine.warm_up_in_background does, for the bot)."""
    if encoder is None:
        from careerbot.retrieval.runtime import open_encoder

        encoder = open_encoder(config.model, config.index.dir)
    from careerbot.retrieval import persistence

    started = time.perf_counter()
    current, salvaged = None, None
    if not rebuild:
        loaded = persistence.load(
            config.index.dir,
            config.knowledge.dir,
            encoder,
            config.index,
            config.answering.lexical_weight,
            thorough,
        )
        salvaged = loaded.salvaged
        if loaded.stored is not None:
            snapshot, retriever = loaded.stored
            current = Engine(Answerer(snapshot.knowledge, retriever, config.answering), snapshot, retriever)
            if not check_files:
                seconds = time.perf_counter() - started
                return current, IndexReport(_texts(retriever), 0, 0, True, seconds, unchecked=True)
    return update_engine(config, encoder, current, show_progress, compact, started, salvaged=salvaged)


def update_engine(
    config: Config,
    encoder: Encoder,
    current: Engine | None,
    show_progress: bool = False,
    compact: bool = False,
    started: float | None = None,
    refreshed: Refresh | None = None,
    save: bool = True,
    salvaged: dict[bytes, np.ndarray] | None = None,
) -> tuple[Engine, IndexReport]:
    """`current` brought up to date with the knowledge on disk (or with `refreshed`, if that was computed
    from current's snapshot), and saved unless `save` is false. Leaves `current` untouched. Without
    `current`, texts whose vectors are `salvaged` (by text key) are not embedded again."""
    from careerbot.retrieval.retriever import Retriever

    started = time.perf_counter() if started is None else started
    previous = current.snapshot if current else None
    if refreshed is None or refreshed.previous is not previous or previous is None:
        refreshed = refresh(config.knowledge.dir, previous, show_progress=show_progress)
    if refreshed.snapshot is None:
        raise KnowledgeError(refreshed.problems)
    knowledge = refreshed.snapshot.knowledge
    changed = refreshed.changed_items
    # `careerbot index` leaves one base segment: edits are folded in (their vectors reused)
    folding = compact and current is not None and (current.retriever.delta is not None or bool(changed))
    if current is not None and changed == frozenset() and not folding:
        report = IndexReport(_texts(current.retriever), 0, 0, True, time.perf_counter() - started)
        return Engine(current.answerer, refreshed.snapshot, current.retriever), report
    if current is not None and changed is not None and not folding:
        retriever, embedded = current.retriever.changed(knowledge, changed)
    else:
        retriever, embedded = Retriever.build(
            knowledge,
            encoder,
            config.index,
            config.answering.lexical_weight,
            known=current.retriever.known_vectors() if current else salvaged,
            show_progress=show_progress,
        )
    engine = Engine(Answerer(knowledge, retriever, config.answering), refreshed.snapshot, retriever)
    if save:
        save_engine(config, engine, encoder.model_id)
    report = IndexReport(
        _texts(retriever), embedded, len(changed or ()), False, time.perf_counter() - started
    )
    return engine, report


def save_engine(config: Config, engine: Engine, model_id: str) -> None:
    from careerbot.retrieval import persistence

    persistence.save(config.index.dir, config.knowledge.dir, engine.snapshot, engine.retriever, model_id)


def _texts(retriever: Retriever) -> int:
    return len(retriever.base) + (len(retriever.delta) if retriever.delta is not None else 0)
