"""The bot: discord.py's client with the engine, the store and the settings passed in."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from careerbot.bot.shared import NO_MENTIONS, log_failure, reply_privately, report_failure
from careerbot.config import AUTO, DiscordConfig
from careerbot.curation.curator import Curator
from careerbot.curation.store import Store
from careerbot.engine.answering import Answer, Answerer
from careerbot.engine.batching import AnswerBatcher
from careerbot.engine.live import LiveEngine
from careerbot.knowledge.titles import LiveTitleIndex
from careerbot.knowledge.writer import KnowledgeWriter

log = logging.getLogger(__name__)
T = TypeVar("T")
EXTENSIONS = (
    "careerbot.bot.exts.ask",
    "careerbot.bot.exts.lookup",
    "careerbot.bot.exts.privacy",
    "careerbot.bot.exts.moderation",
)


def point_at(settings: DiscordConfig) -> None:
    """Where discord.py connects. Process-wide in discord.py, so set once, before the client starts."""
    discord.http.Route.BASE = settings.api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def create_bot(engine: LiveEngine, store: Store, settings: DiscordConfig, **options: Any) -> CareerBot:
    """A plain bot on one gateway connection, or, when bot.toml or the command line asks for shards,
    discord.py's AutoShardedBot running exactly this process's shards (see `shard_options`)."""
    sharding = shard_options(settings)
    if sharding is None:
        return CareerBot(engine, store, settings, **options)
    return ShardedCareerBot(engine, store, settings, **sharding, **options)


def shard_options(settings: DiscordConfig) -> dict[str, Any] | None:
    """AutoShardedBot's arguments: None for no sharding; shard_count None asks Discord for its
    recommended count; shard_ids None runs all shard_count shards here. Discord routes each server to
    shard (server id >> 22) % shard_count, so processes that share one shard_count and split the ids
    between them serve every server exactly once."""
    if settings.shard_count == AUTO:
        return {"shard_count": None}
    if not settings.shard_count:
        return None
    return {"shard_count": settings.shard_count, "shard_ids": list(settings.shard_ids) or None}


class CareerBot(commands.Bot):
    def __init__(self, engine: LiveEngine, store: Store, settings: DiscordConfig, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # passive answers read the text of posts in help channels
        super().__init__(
            command_prefix=(),  # no text commands; see on_message
            help_command=None,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            chunk_guilds_at_startup=False,
            **options,
        )
        self.engine = engine
        self.store = store
        self.curator = Curator(KnowledgeWriter(engine.knowledge_dir, engine.snapshot), store, engine)
        self.batcher = AnswerBatcher(lambda: self.engine.answerer)
        self.titles = LiveTitleIndex(lambda: self.engine.answerer.knowledge)
        self.settings = settings
        # asyncio keeps only weak references to tasks: these are the bot's, until each is done.
        self.background: set[asyncio.Task[Any]] = set()
        self.tree.error(self.on_app_command_error)

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Runs `work` as a task the bot holds on to until it is done."""
        task = asyncio.create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    @property
    def answerer(self) -> Answerer:
        """The live engine's answerer: read it per use, since a reload swaps it."""
        return self.engine.answerer

    async def setup_hook(self) -> None:
        # Each feature is an extension whose setup() adds its cog and buttons: loaded by name, so the
        # client never imports the cogs that import it.
        for extension in EXTENSIONS:
            await self.load_extension(extension)

    async def ask(
        self, question: str, channel_kind: str, min_score: float | None = None
    ) -> tuple[Answer, int]:
        """Answers off the event loop, batched with questions asked at the same moment (one model call
        for all), and records the question, with no user id, for feedback buttons and the gap queue."""
        answer = await self.batcher.answer(question, min_score)
        asked_id = await asyncio.to_thread(
            self.store.record_question,
            answer.question,
            answer.id,
            answer.score,
            answer.abstained,
            channel_kind,
        )
        return answer, asked_id

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CommandOnCooldown):
            await reply_privately(interaction, f"Easy there: you can ask again in {error.retry_after:.0f} s.")
        elif isinstance(error, app_commands.CheckFailure):
            if not interaction.response.is_done():  # else the check has told the member why
                await reply_privately(interaction, "You can't use that here.")
        elif isinstance(error, app_commands.CommandNotFound):
            # Registered at Discord but not here: /kb in a server since taken out of moderation_guilds.
            log.warning("an interaction named a command careerbot does not have here; run `careerbot sync`")
            await reply_privately(interaction, "That command is not available here.")
        else:
            name = interaction.command.qualified_name if interaction.command else "unknown"
            await report_failure(interaction, error, f"command /{name}")

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """An event handler failed (a passive answer, say): logged without the message's text."""
        error = sys.exc_info()[1]
        if error is not None:
            log_failure(f"event {event_method}", error)


class ShardedCareerBot(CareerBot, commands.AutoShardedBot):
    pass
