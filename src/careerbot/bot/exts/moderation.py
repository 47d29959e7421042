"""/kb: moderators keep the knowledge. So far: reload the files from disk without a restart."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from careerbot.bot.permissions import is_moderator
from careerbot.bot.render import clip

if TYPE_CHECKING:
    from careerbot.bot.client import CareerBot

MESSAGE_LIMIT = 2000
REFUSAL = "Only moderators can change what careerbot knows."


class ModerationCog(commands.Cog):
    kb = app_commands.Group(
        name="kb",
        description="Moderators: keep careerbot's knowledge",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    def __init__(self, bot: CareerBot) -> None:
        self.bot = bot

    @kb.command(name="reload", description="Load the knowledge files again (after a git pull or a hand edit)")
    async def reload(self, interaction: discord.Interaction) -> None:
        if not is_moderator(interaction, self.bot.settings):
            await interaction.response.send_message(REFUSAL, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)  # a reload may embed for seconds
        report = await asyncio.to_thread(self.bot.engine.reload)
        if report.swapped:
            text = (
                f"Reloaded: {report.entries} entries live, {report.embedded} texts embedded, "
                f"in {report.seconds:.1f} s."
            )
        else:
            lines = "\n".join(f"- `{problem}`" for problem in report.problems)
            text = (
                f"Not reloaded: the live version ({report.entries} entries) stays. Fix these first:\n{lines}"
            )
        await interaction.followup.send(clip(text, MESSAGE_LIMIT), ephemeral=True)
