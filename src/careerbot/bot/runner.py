"""Starting the bot, or syncing its commands, from the command line."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import discord

from careerbot.bot.client import CareerBot, create_bot, point_at
from careerbot.config import Config
from careerbot.curation.propagation import open_store
from careerbot.engine.live import LiveEngine

log = logging.getLogger("careerbot")


class StartError(Exception):
    """The bot cannot start; the message says why in one line, without the token."""


def run_bot(config: Config, engine: LiveEngine, token: str) -> None:
    discord.utils.setup_logging(level=logging.INFO)
    asyncio.run(_run(config, engine, token))


async def _run(config: Config, engine: LiveEngine, token: str) -> None:
    point_at(config.discord)
    store = open_store(config.storage.database, config.knowledge.dir, engine)  # follows other processes
    if config.discord.shard_count:
        shards = ", ".join(map(str, config.discord.shard_ids)) or "all"
        log.info("running shard(s) %s of shard_count %s", shards, config.discord.shard_count)
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


@dataclass(frozen=True)
class SyncReport:
    commands: int  # members' commands registered (globally, or in the one server asked for)
    moderation: list[int] = field(default_factory=list)  # servers /kb was registered in
    refused: list[int] = field(default_factory=list)  # moderation servers Discord refused


def sync_commands(config: Config, engine: LiveEngine, token: str, guild_id: int | None) -> SyncReport:
    return asyncio.run(_sync(config, engine, token, guild_id))


async def _sync(config: Config, engine: LiveEngine, token: str, guild_id: int | None) -> SyncReport:
    point_at(config.discord)
    store = open_store(config.storage.database, config.knowledge.dir)
    try:
        async with create_bot(engine, store, config.discord) as bot:
            try:
                await bot.login(token)
            except discord.LoginFailure:
                raise StartError("Discord rejected the token in DISCORD_TOKEN") from None
            return await sync_tree(bot, guild_id)
    finally:
        store.close()


async def sync_tree(bot: CareerBot, guild_id: int | None = None) -> SyncReport:
    """Registers the commands with Discord, on request rather than at every start. Members' commands
    are global (they can take up to an hour to show); /kb is a guild command of each moderation server
    (shown at once). With `guild_id`, for trying things out: everything in that one server at once."""
    if guild_id is not None:
        guild = discord.Object(id=guild_id)
        bot.tree.copy_global_to(guild=guild)
        return SyncReport(len(await bot.tree.sync(guild=guild)))
    report = SyncReport(len(await bot.tree.sync()))
    for server in bot.settings.moderation_guilds:
        try:
            await bot.tree.sync(guild=discord.Object(id=server))
        except discord.Forbidden:  # careerbot is not in that server, or lacks the applications.commands scope
            report.refused.append(server)
        else:
            report.moderation.append(server)
    return report
