"""The bot: discord.py's client with the engine, the store and the settings passed in."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from careerbot.answering import Answer, Answerer
from careerbot.batching import AnswerBatcher
from careerbot.config import DiscordConfig
from careerbot.curation import Curator
from careerbot.knowledge.writer import KnowledgeWriter
from careerbot.live import LiveEngine
from careerbot.lookup import LiveTitleIndex
from careerbot.store import Store

log = logging.getLogger(__name__)
# Replies ping nobody, whatever the member typed (@everyone, roles, users).
NO_MENTIONS = discord.AllowedMentions.none()


def point_at(settings: DiscordConfig) -> None:
    """Where discord.py connects. Process-wide in discord.py, so set once, before the client starts."""
    discord.http.Route.BASE = settings.api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def create_bot(engine: LiveEngine, store: Store, settings: DiscordConfig, **options: Any) -> CareerBot:
    """A plain bot, or with `sharded = true` in bot.toml discord.py's AutoShardedBot, which runs several
    gateway connections in one process (shard_count 0 asks Discord for its recommended count)."""
    if settings.sharded:
        options["shard_count"] = settings.shard_count or None
        return ShardedCareerBot(engine, store, settings, **options)
    return CareerBot(engine, store, settings, **options)


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
        self.tree.error(self.on_app_command_error)

    @property
    def answerer(self) -> Answerer:
        """The live engine's answerer: read it per use, since a reload swaps it."""
        return self.engine.answerer

    async def setup_hook(self) -> None:
        from careerbot.bot.exts.ask import AskCog
        from careerbot.bot.exts.lookup import LookupCog, PageButton
        from careerbot.bot.exts.moderation import MODERATION_ITEMS, ModerationCog
        from careerbot.bot.exts.privacy import PrivacyCog
        from careerbot.bot.views import DYNAMIC_ITEMS

        await self.add_cog(AskCog(self))
        await self.add_cog(LookupCog(self))
        await self.add_cog(ModerationCog(self))
        await self.add_cog(PrivacyCog(self))
        self.add_dynamic_items(*DYNAMIC_ITEMS, PageButton, *MODERATION_ITEMS)

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
            return
        log.error("command %r failed", interaction.command and interaction.command.name, exc_info=error)
        await reply_privately(
            interaction, "Sorry, something went wrong on my side. The moderators can see what."
        )


class ShardedCareerBot(CareerBot, commands.AutoShardedBot):
    pass


async def reply_privately(interaction: discord.Interaction, text: str, **kwargs: Any) -> None:
    """An ephemeral reply, whether or not the interaction was already answered or deferred."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(text, ephemeral=True, **kwargs)
