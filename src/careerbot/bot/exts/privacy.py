"""/privacy tells any member what careerbot keeps; a background task deletes it after the retention period."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

if TYPE_CHECKING:
    from careerbot.bot.client import CareerBot

log = logging.getLogger(__name__)


def privacy_text(retention_days: int) -> str:
    return (
        "What careerbot keeps about members:\n"
        "- the text of questions asked to it (by /ask, the message menu, a mention or a help-channel post), "
        "which answer it gave, and how sure it was\n"
        "- Helpful / Not helpful votes, with the question and answer they were about\n"
        "No user ids, names or message ids are kept with any of these, so nothing links them to you.\n"
        f"All of it is deleted after {retention_days} days. It is used to improve the answers: moderators see "
        "questions careerbot could not answer, and how often each answer helped.\n"
        "Moderators' changes to the knowledge are kept with the moderator's name, as an audit trail."
    )


class PrivacyCog(commands.Cog):
    def __init__(self, bot: CareerBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.purge.start()

    async def cog_unload(self) -> None:
        self.purge.cancel()

    @app_commands.command(
        name="privacy", description="What careerbot keeps about your questions, and for how long"
    )
    async def privacy(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            privacy_text(self.bot.settings.retention_days), ephemeral=True
        )

    @tasks.loop(hours=6)
    async def purge(self) -> None:
        deleted = await asyncio.to_thread(self.bot.store.purge, self.bot.settings.retention_days)
        if deleted:
            log.info("deleted %d questions older than %d days", deleted, self.bot.settings.retention_days)


async def setup(bot: CareerBot) -> None:
    await bot.add_cog(PrivacyCog(bot))
