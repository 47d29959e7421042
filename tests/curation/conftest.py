"""A curator over the test knowledge: a live engine on the fake encoder, a writer over its snapshot and
a store in a temporary folder; and an empty database on each engine (SQLite, PostgreSQL) for the store's
own tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from careerbot.config import Config
from careerbot.curation.curator import Curator, Moderator
from careerbot.curation.postgres import PostgresStore
from careerbot.curation.store import Store
from careerbot.engine.live import LiveEngine
from careerbot.engine.loading import load_engine
from careerbot.knowledge.watch import forget, watch
from careerbot.knowledge.writer import KnowledgeWriter
from tests.fakes import FakeEncoder
from tests.postgres import execute

MOD = Moderator(7, "mod")


@pytest.fixture
def curator(config: Config, tmp_path: Path) -> Iterator[Curator]:
    """With the knowledge folder watched, as the bot's warm-up leaves it: edits learn of hand edits
    from the kernel's events (careerbot.knowledge.watch), and every test here checks they are seen."""
    encoder = FakeEncoder()
    engine, _ = load_engine(config, encoder=encoder)
    live = LiveEngine(config, encoder, engine)
    assert watch(config.knowledge.dir)
    yield Curator(KnowledgeWriter(config.knowledge.dir, live.snapshot), Store(tmp_path / "db.sqlite3"), live)
    forget(config.knowledge.dir)


@dataclass
class Database:
    """One empty database on one engine, as the store tests see it: opened (again) as a Store, and
    reachable with plain SQL (written with ?) for what only a test does."""

    engine: str
    open: Callable[[], Store]
    sql: Callable[..., list[tuple[Any, ...]]]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        path = tmp_path / "db" / "careerbot.sqlite3"

        def sql(statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
            with closing(sqlite3.connect(path)) as connection, connection:
                return connection.execute(statement, parameters).fetchall()

        return Database("sqlite", lambda: Store(path), sql)
    url = request.getfixturevalue("postgres").new_database()
    return Database("postgresql", lambda: PostgresStore(url, "test-node"), partial(execute, url))
