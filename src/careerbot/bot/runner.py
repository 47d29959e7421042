"""Starting the bot, or syncing its commands, from the command line."""

from __future__ import annotations

import asyncio
import logging

import discord

from careerbot.bot.client import create_bot, point_at
from careerbot.config import Config
from careerbot.live import LiveEngine
from careerbot.store import Store

log = logging.getLogger("careerbot")


class StartError(Exception):
    """The bot cannot start; the message says why in one line, without the token."""


def run_bot(config: Config, engine: LiveEngine, token: str) -> None:
    discord.utils.setup_logging(level=logging.INFO)
    asyncio.run(_run(config, engine, token))


async def _run(config: Config, engine: LiveEngine, token: str) -> None:
    point_at(config.discord)
    store = Store(config.storage.database)
    try:
        async with create_bot(engine, store, config.discord) as bot:
            await bot.start(token)
    except discord.LoginFailure:
        raise StartError(
            "Discord rejected the token in DISCORD_TOKEN; check it in the developer portal"
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise StartError(
            "Discord refused the Message Content intent: enable it for the bot in the developer portal"
        ) from None
    finally:
        store.close()


def sync_commands(config: Config, engine: LiveEngine, token: str, guild_id: int | None) -> int:
    return asyncio.run(_sync(config, engine, token, guild_id))


async def _sync(config: Config, engine: LiveEngine, token: str, guild_id: int | None) -> int:
    """Registers the slash commands with Discord: globally (can take up to an hour to show) or, for
    trying things out, in one server at once. Done on request, not at every start."""
    point_at(config.discord)
    store = Store(config.storage.database)
    try:
        async with create_bot(engine, store, config.discord) as bot:
            try:
                await bot.login(token)
            except discord.LoginFailure:
                raise StartError("Discord rejected the token in DISCORD_TOKEN") from None
            guild = discord.Object(id=guild_id) if guild_id else None
            if guild is not None:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            return len(synced)
    finally:
        store.close()
