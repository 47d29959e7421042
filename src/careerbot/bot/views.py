"""Buttons and selects. Each keeps its state in its custom_id (discord.py DynamicItem), so clicks on
messages sent before a restart still work."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from careerbot.bot.render import LABEL_LIMIT, clip, item_embed
from careerbot.bot.shared import report_failure
from careerbot.engine.answering import Answer, Suggestion

if TYPE_CHECKING:
    from careerbot.bot.client import CareerBot

OPTIONS_LIMIT = 25


def bot_of(interaction: discord.Interaction) -> CareerBot:
    return cast("CareerBot", interaction.client)


class ReportsFailures:
    """Put first among a DynamicItem's bases: its `act` fails into the one error handler. discord.py
    only logs a dynamic item's exception, so the member would see "This interaction failed"."""

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.act(interaction)
        except Exception as error:
            await report_failure(interaction, error, f"button {type(self).__name__}")

    async def act(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class FeedbackButton(
    ReportsFailures,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"cb:fb:(?P<helpful>[01]):(?P<asked>-?\d+)",
):
    def __init__(self, asked_id: int, helpful: bool) -> None:
        self.asked_id, self.helpful = asked_id, helpful
        super().__init__(
            discord.ui.Button(
                label="Helpful" if helpful else "Not helpful",
                emoji="👍" if helpful else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"cb:fb:{int(helpful)}:{asked_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> FeedbackButton:
        return cls(int(match["asked"]), match["helpful"] == "1")

    async def act(self, interaction: discord.Interaction) -> None:
        store = bot_of(interaction).store
        asked = await asyncio.to_thread(store.asked, self.asked_id)
        if asked is None or asked.answer_id is None:
            await interaction.response.send_message("I can't find that answer any more.", ephemeral=True)
            return
        await asyncio.to_thread(store.record_feedback, asked.id, asked.answer_id, self.helpful)
        thanks = "Thanks, glad it helped." if self.helpful else "Thanks: the moderators will see this one."
        await interaction.response.send_message(thanks, ephemeral=True)


class NotWhatIMeantButton(
    ReportsFailures, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"cb:alt:(?P<asked>-?\d+)"
):
    def __init__(self, asked_id: int) -> None:
        self.asked_id = asked_id
        super().__init__(
            discord.ui.Button(
                label="Not what I meant", style=discord.ButtonStyle.secondary, custom_id=f"cb:alt:{asked_id}"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> NotWhatIMeantButton:
        return cls(int(match["asked"]))

    async def act(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        asked = await asyncio.to_thread(bot.store.asked, self.asked_id)
        if asked is None:
            await interaction.response.send_message("I can't find that question any more.", ephemeral=True)
            return
        if asked.answer_id is not None:
            await asyncio.to_thread(bot.store.record_feedback, asked.id, asked.answer_id, False)
        answer = await bot.batcher.answer(asked.question)
        others = [
            Suggestion(c.item_id, item.title, c.score)
            for c in answer.candidates
            if c.item_id != asked.answer_id and (item := bot.answerer.knowledge.get(c.item_id)) is not None
        ][:5]
        if not others:
            await interaction.response.send_message(
                "I have nothing else close to that question.", ephemeral=True
            )
            return
        view = discord.ui.View(timeout=None)
        view.add_item(OpenItemSelect(asked.id, others, placeholder="Maybe one of these?"))
        await interaction.response.send_message("Here is what else came close:", view=view, ephemeral=True)


class OpenItemSelect(
    ReportsFailures, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"cb:open:(?P<asked>-?\d+)"
):
    """Opens one knowledge entry privately: related questions, "did you mean", and browsing."""

    def __init__(
        self, asked_id: int, suggestions: list[Suggestion] | None = None, placeholder: str = ""
    ) -> None:
        self.asked_id = asked_id
        options = [
            discord.SelectOption(label=clip(s.title, LABEL_LIMIT), value=s.id) for s in (suggestions or [])
        ][:OPTIONS_LIMIT]
        super().__init__(
            discord.ui.Select(
                custom_id=f"cb:open:{asked_id}",
                placeholder=placeholder or "Related questions",
                options=options or [discord.SelectOption(label="-", value="-")],
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> OpenItemSelect:
        return cls(int(match["asked"]))

    async def act(self, interaction: discord.Interaction) -> None:
        values = self.item.values  # discord.py fills these in from the interaction before the callback
        item = bot_of(interaction).answerer.knowledge.get(values[0]) if values else None
        if item is None:
            await interaction.response.send_message("That entry no longer exists.", ephemeral=True)
            return
        await interaction.response.send_message(embed=item_embed(item), ephemeral=True)


def answer_view(answer: Answer, asked_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if answer.abstained:  # declined, or uncertain: the choices, if any, open from this menu
        if answer.did_you_mean:
            view.add_item(OpenItemSelect(asked_id, list(answer.did_you_mean), placeholder="Did you mean..."))
        return view
    # The menu opens a compound question's second part in full, then the related questions.
    shown = [Suggestion(f.id, f.title, f.score) for f in answer.further] + list(answer.related)
    if shown:
        view.add_item(OpenItemSelect(asked_id, shown))
    view.add_item(FeedbackButton(asked_id, helpful=True))
    view.add_item(FeedbackButton(asked_id, helpful=False))
    view.add_item(NotWhatIMeantButton(asked_id))
    return view


# The buttons and menu under an answer: registered by the ask extension, so they work after a restart.
ANSWER_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    FeedbackButton,
    NotWhatIMeantButton,
    OpenItemSelect,
)
