"""/ask, the "Ask careerbot" message menu, and passive answers to mentions and help-channel posts."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from careerbot.bot.render import answer_embed
from careerbot.bot.shared import reply_privately
from careerbot.bot.views import ANSWER_ITEMS, answer_view
from careerbot.engine.answering import QuestionError

if TYPE_CHECKING:
    from careerbot.bot.client import CareerBot

# Answers usually take milliseconds; past this, defer so the 3-second acknowledgement never lapses.
DEFER_AFTER_SECONDS = 2.0
QUESTION_MAX = 4000  # Discord's own cap on a string option
MENTION = re.compile(r"<@[!&]?\d+>|<#\d+>|@(everyone|here)")
REMEMBERED_MESSAGES = 1000
log = logging.getLogger(__name__)


class MemberCooldown:
    """At most `uses` questions per member per `seconds`. Owned by the bot instance (discord.py's
    cooldown decorators keep their state per process, shared by every bot in it)."""

    def __init__(self, uses: int, seconds: float) -> None:
        self.uses, self.seconds = uses, seconds
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def retry_after(self, member_id: int) -> float:
        """0 if the member may ask now (and counts the question), else the seconds to wait."""
        if len(self._buckets) > 10_000:  # forget members whose window has passed
            self._buckets = {k: b for k, b in self._buckets.items() if b.get_tokens() < self.uses}
        bucket = self._buckets.setdefault(member_id, app_commands.Cooldown(self.uses, self.seconds))
        return bucket.update_rate_limit() or 0.0


class AskCog(commands.Cog):
    def __init__(self, bot: CareerBot) -> None:
        self.bot = bot
        self.answered_messages: OrderedDict[int, None] = OrderedDict()  # at most one reply per message
        self.cooldown = MemberCooldown(bot.settings.cooldown_uses, bot.settings.cooldown_seconds)
        self.passive_in_flight = 0  # mentions and help-channel posts being answered now
        self.context_menu = app_commands.ContextMenu(name="Ask careerbot", callback=self.ask_about_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.context_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.context_menu.name, type=self.context_menu.type)

    @app_commands.command(name="ask", description="Ask about the machine learning engineer role")
    @app_commands.describe(question="Your question, in your own words", private="Only you see the answer")
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, QUESTION_MAX],
        private: bool = False,
    ) -> None:
        await self.answer_interaction(interaction, question, private, "slash")

    async def ask_about_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await self.answer_interaction(interaction, message.content, True, "context-menu")

    async def answer_interaction(
        self, interaction: discord.Interaction, question: str, private: bool, kind: str
    ) -> None:
        wait = self.cooldown.retry_after(interaction.user.id)
        if wait:
            await reply_privately(interaction, f"Easy there: you can ask again in {wait:.0f} s.")
            return
        work = self.bot.spawn(self.bot.ask(strip_mentions(question), kind))
        done, _ = await asyncio.wait({work}, timeout=DEFER_AFTER_SECONDS)
        if not done:
            await interaction.response.defer(ephemeral=private, thinking=True)
        try:
            answer, asked_id = await work
        except QuestionError as exc:
            await reply_privately(interaction, str(exc))
            return
        embed, view = answer_embed(answer), answer_view(answer, asked_id)
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, view=view, ephemeral=private)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=private)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.id in self.answered_messages or self.bot.user is None:
            return
        mentioned = self.bot.user in message.mentions
        in_help_channel = _channel_ids(message) & set(self.bot.settings.help_channels)
        if not (mentioned or in_help_channel):
            return
        question = strip_mentions(message.content)
        if not question:
            return
        self._remember(message.id)
        # A flood is dropped, not queued, and without a reply (which would flood the channel in turn);
        # the log line is DEBUG, so a flood cannot fill the logs either.
        if self.passive_in_flight >= self.bot.settings.passive_in_flight:
            log.debug("passive answer dropped: %d already in flight", self.passive_in_flight)
            return
        if self.cooldown.retry_after(message.author.id):
            log.debug("passive answer dropped: the member is cooling down")
            return
        self.passive_in_flight += 1
        try:
            await self._answer_passively(message, question, mentioned)
        finally:
            self.passive_in_flight -= 1

    async def _answer_passively(self, message: discord.Message, question: str, mentioned: bool) -> None:
        kind = "mention" if mentioned else "help-channel"
        # Nobody asked the bot in a help channel: answer there only when quite sure.
        min_score = None if mentioned else self.bot.settings.passive_min_score
        answer, asked_id = await self.bot.ask(question, kind, min_score)
        if answer.abstained and not mentioned:
            return
        await message.reply(
            embed=answer_embed(answer), view=answer_view(answer, asked_id), mention_author=False
        )

    def _remember(self, message_id: int) -> None:
        self.answered_messages[message_id] = None
        while len(self.answered_messages) > REMEMBERED_MESSAGES:
            self.answered_messages.popitem(last=False)


def strip_mentions(text: str) -> str:
    return " ".join(MENTION.sub(" ", text).split())


def _channel_ids(message: discord.Message) -> set[int]:
    """The channel, and for a thread (a forum post) its parent too."""
    ids = {message.channel.id}
    parent_id = getattr(message.channel, "parent_id", None)
    if parent_id:
        ids.add(parent_id)
    return ids


async def setup(bot: CareerBot) -> None:
    await bot.add_cog(AskCog(bot))
    bot.add_dynamic_items(*ANSWER_ITEMS)
