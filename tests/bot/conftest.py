"""A careerbot started against the fake Discord, on the fake encoder and the test knowledge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio

from careerbot.bot.client import CareerBot, create_bot, point_at
from careerbot.bot.runner import sync_tree
from careerbot.config import Config, DiscordConfig
from careerbot.curation.store import Store
from careerbot.engine.live import LiveEngine
from careerbot.engine.loading import load_engine
from tests.fakes import FakeEncoder

StartBot = Callable[..., Awaitable[CareerBot]]


@pytest.fixture
def live(config: Config) -> LiveEngine:
    encoder = FakeEncoder()
    engine, _ = load_engine(config, encoder=encoder)
    return LiveEngine(config, encoder, engine)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """The database file of the bots start_bot starts."""
    return tmp_path / "careerbot.sqlite3"


async def _no_wait(shard_id: int | None, *, initial: bool = False) -> None:
    """discord.py sleeps 5 s before every IDENTIFY but the first; the fake has no rate limit."""


@pytest_asyncio.fixture
async def start_bot(fake_discord: Any, live: LiveEngine, database: Path) -> AsyncIterator[StartBot]:
    original = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    running: list[tuple[CareerBot, asyncio.Task[None], Store]] = []

    async def start(engine: LiveEngine | None = None, **overrides: Any) -> CareerBot:
        settings = DiscordConfig(
            api_base=fake_discord.api_base,
            gateway_url=fake_discord.gateway_url,
            help_channels=(fake_discord.help_channel_id,),
            **{"moderation_guilds": (fake_discord.guild_id,), **overrides},
        )
        point_at(settings)
        store = Store(database)
        bot = create_bot(engine or live, store, settings, guild_ready_timeout=0)
        bot.before_identify_hook = _no_wait  # type: ignore[method-assign]
        task = asyncio.create_task(bot.start(fake_discord.token))
        running.append((bot, task, store))
        await fake_discord.wait_identified()
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        await sync_tree(bot)  # as `careerbot sync`: Discord only sends interactions for registered commands
        return bot

    yield start
    for bot, task, store in running:
        await bot.close()
        await task
        store.close()
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = original
