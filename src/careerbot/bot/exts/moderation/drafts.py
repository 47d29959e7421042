"""The button that finishes a moderator's pending change, stored as a draft so it survives a restart:
add a form's entry anyway, add its question as a paraphrase of the near entry, or confirm a removal."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import discord

from careerbot.bot.exts.moderation.actions import apply, moderator_draft, moderator_of, refuse_unknown_entry
from careerbot.bot.views import ReportsFailures, bot_of


class DraftButton(
    ReportsFailures,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"cb:kbdraft:(?P<draft>\d+):(?P<choice>new|paraphrase|remove)",
):
    """Finishes a moderator's pending change stored as a draft: add anyway, add as paraphrase, or remove."""

    LABELS: ClassVar[dict[str, str]] = {
        "new": "Add as a new entry",
        "paraphrase": "Add as a paraphrase",
        "remove": "Yes, remove it",
    }
    NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "new": ("fields",),
        "paraphrase": ("fields", "near"),
        "remove": ("entry_id", "text"),
    }

    def __init__(self, draft_id: int, choice: str) -> None:
        self.draft_id, self.choice = draft_id, choice
        style = discord.ButtonStyle.danger if choice == "remove" else discord.ButtonStyle.primary
        super().__init__(
            discord.ui.Button(
                label=self.LABELS[choice], style=style, custom_id=f"cb:kbdraft:{draft_id}:{choice}"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DraftButton:
        return cls(int(match["draft"]), match["choice"])

    async def act(self, interaction: discord.Interaction) -> None:
        draft = await moderator_draft(
            interaction, self.draft_id, "That change expired; start again.", self.NEEDS[self.choice]
        )
        if draft is None:
            return
        names = {"paraphrase": draft.get("near"), "remove": draft.get("entry_id")}
        if self.choice in names and await refuse_unknown_entry(interaction, names[self.choice]):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot, who = bot_of(interaction), moderator_of(interaction)
        if self.choice == "new":
            await apply(interaction, bot.curator.add, draft["fields"], who)
        elif self.choice == "paraphrase":
            await apply(
                interaction, bot.curator.add_paraphrase, draft["near"], draft["fields"]["question"], who
            )
        else:
            await apply(interaction, bot.curator.remove, draft["entry_id"], draft["text"], who)
