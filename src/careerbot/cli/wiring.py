"""Where the command line builds the engine and checks the store: the one place objects are wired together."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from careerbot.config import Config

if TYPE_CHECKING:
    from careerbot.engine.answering import Answerer
    from careerbot.engine.live import LiveEngine

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def open_answerer(config: Config) -> Answerer:
    return open_live(config).answerer


def open_live(config: Config, check_files: bool = True) -> LiveEngine:
    """The engine, loading the persisted index (and saying so when it had to embed anything); the bot
    keeps the LiveEngine, which /kb reload can swap without a restart. Without `check_files` (the bot)
    the saved index answers at once and files changed since it was saved go live a moment later (see
    load_engine)."""
    from careerbot.engine.live import LiveEngine
    from careerbot.engine.loading import load_engine
    from careerbot.retrieval.runtime import open_encoder

    encoder = open_encoder(config.model, config.index.dir)
    engine, report = load_engine(config, encoder=encoder, check_files=check_files)
    if not report.loaded:
        print(f"careerbot: {report.describe()}", file=sys.stderr)
    live = LiveEngine(config, encoder, engine)
    live.warm_up_in_background()
    return live


def recover_store(config: Config) -> bool:
    """Before the knowledge loads: a damaged or unreachable database stops start-up here (StoreError), a
    change a crash cut short is finished, so the knowledge is whole again (careerbot.curation.journal),
    and with PostgreSQL the changes other processes made meanwhile are applied
    (careerbot.curation.propagation). True if it changed any knowledge file."""
    from careerbot.curation.propagation import recover

    lines = recover(config.knowledge.dir, config.storage.database)
    for line in lines:
        print(f"careerbot: {line}", file=sys.stderr)
    return bool(lines)
