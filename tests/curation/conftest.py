"""A curator over the test knowledge: a live engine on the fake encoder, a writer over its snapshot and
a store in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from careerbot.config import Config
from careerbot.curation.curator import Curator, Moderator
from careerbot.curation.store import Store
from careerbot.engine.live import LiveEngine
from careerbot.engine.loading import load_engine
from careerbot.knowledge.writer import KnowledgeWriter
from tests.fakes import FakeEncoder

MOD = Moderator(7, "mod")


@pytest.fixture
def curator(config: Config, tmp_path: Path) -> Curator:
    encoder = FakeEncoder()
    engine, _ = load_engine(config, encoder=encoder)
    live = LiveEngine(config, encoder, engine)
    return Curator(KnowledgeWriter(config.knowledge.dir, live.snapshot), Store(tmp_path / "db.sqlite3"), live)
