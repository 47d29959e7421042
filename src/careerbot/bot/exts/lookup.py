"""/faq (exact lookup with autocomplete), /topics (browse a topic page by page), /duties, /skills, /stack."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from careerbot.bot.render import LABEL_LIMIT, clip, item_embed
from careerbot.bot.shared import Topic
from careerbot.bot.views import OpenItemSelect, bot_of
from careerbot.engine.answering import Suggestion
from careerbot.knowledge import TOPICS
from careerbot.knowledge.titles import TopicPage, topic_page

if TYPE_CHECKING:
    from careerbot.bot.client import CareerBot

PAGE_SIZE = 10
TYPED_MATCH = 85  # rapidfuzz WRatio, 0-100


class LookupCog(commands.Cog):
    def __init__(self, bot: CareerBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.titles.prepare()  # in the background, so the first autocomplete finds it ready

    async def entry_choices(self, typed: str, topic: str | None = None) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=clip(entry.question, LABEL_LIMIT), value=entry.id)
            for entry in await self.bot.titles.find(typed, limit=25, topic=topic)
        ]

    @app_commands.command(name="faq", description="Look up a curated answer")
    @app_commands.describe(entry="Start typing a question")
    async def faq(self, interaction: discord.Interaction, entry: str) -> None:
        await self.show_entry(interaction, entry)

    @faq.autocomplete("entry")
    async def faq_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.entry_choices(current)

    @app_commands.command(name="duties", description="What machine learning engineers do")
    async def duties(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(**await topic_message("duties", 0, self.bot))

    @app_commands.command(name="skills", description="The skills the role takes")
    @app_commands.describe(area="A skill to read about (leave empty for the list)")
    async def skills(self, interaction: discord.Interaction, area: str | None = None) -> None:
        await self.show_topic_or_entry(interaction, "skills", area)

    @skills.autocomplete("area")
    async def skills_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.entry_choices(current, topic="skills")

    @app_commands.command(name="stack", description="Tools and platforms ML engineers use")
    @app_commands.describe(area="A tool or platform to read about (leave empty for the list)")
    async def stack(self, interaction: discord.Interaction, area: str | None = None) -> None:
        await self.show_topic_or_entry(interaction, "stack", area)

    @stack.autocomplete("area")
    async def stack_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.entry_choices(current, topic="stack")

    @app_commands.command(name="topics", description="Browse every answer on a topic")
    async def topics(self, interaction: discord.Interaction, topic: Topic) -> None:
        await interaction.response.send_message(**await topic_message(topic, 0, self.bot))

    async def show_topic_or_entry(
        self, interaction: discord.Interaction, topic: str, area: str | None
    ) -> None:
        if area:
            await self.show_entry(interaction, area)
        else:
            await interaction.response.send_message(**await topic_message(topic, 0, self.bot))

    async def show_entry(self, interaction: discord.Interaction, entry_id: str) -> None:
        item = self.bot.answerer.knowledge.get(entry_id.strip())
        if item is None:
            # A member may type instead of picking: take a title that matches closely, never a guess.
            matches = await self.bot.titles.find(entry_id, limit=1, min_score=TYPED_MATCH)
            item = matches[0] if matches else None
        if item is None:
            await interaction.response.send_message(
                "I have no entry like that. Start typing in `/faq` and pick one of the suggestions.",
                ephemeral=True,
            )
            return
        await interaction.response.send_message(embed=item_embed(item))


async def topic_message(topic: str, page: int, bot: CareerBot) -> dict[str, Any]:
    """A topic page, read off the event loop: listing a topic takes a while at 100k entries."""
    return render_topic_page(
        await asyncio.to_thread(topic_page, bot.answerer.knowledge, topic, page, PAGE_SIZE)
    )


def render_topic_page(found: TopicPage) -> dict[str, Any]:
    topic, page, pages, shown = found.topic, found.page, found.pages, found.entries
    embed = discord.Embed(
        title=f"{topic}: {found.total} answers",
        description="\n".join(f"- {entry.question}" for entry in shown) or "Nothing here yet.",
    )
    embed.set_footer(text=f"page {page + 1} of {pages} · pick one below to read it")
    view = discord.ui.View(timeout=None)
    if shown:
        suggestions = [Suggestion(entry.id, entry.question, 0.0) for entry in shown]
        view.add_item(OpenItemSelect(0, suggestions, placeholder="Read an answer"))
    if pages > 1:
        view.add_item(PageButton(topic, page - 1, "Previous", disabled=page == 0))
        view.add_item(PageButton(topic, page + 1, "Next", disabled=page == pages - 1))
    return {"embed": embed, "view": view}


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"cb:page:(?P<topic>[a-z-]+):(?P<page>-?\d+):(?P<label>\w+)",
):
    def __init__(self, topic: str, page: int, label: str, disabled: bool = False) -> None:
        self.topic, self.page = topic, page
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"cb:page:{topic}:{page}:{label}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PageButton:
        return cls(match["topic"], int(match["page"]), match["label"])

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.topic not in TOPICS:
            await interaction.response.send_message("That topic no longer exists.", ephemeral=True)
            return
        await interaction.response.edit_message(
            **await topic_message(self.topic, self.page, bot_of(interaction))
        )


async def setup(bot: CareerBot) -> None:
    await bot.add_cog(LookupCog(bot))
    bot.add_dynamic_items(PageButton)
