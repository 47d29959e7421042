"""The gap queue in Discord: what members asked that careerbot could not answer well, grouped, each
group saved as a draft behind buttons that turn it into knowledge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from careerbot.bot.exts.moderation.actions import apply, moderator_draft, moderator_of, refuse_unknown_entry
from careerbot.bot.exts.moderation.forms import EntryModal
from careerbot.bot.render import clip
from careerbot.bot.views import ReportsFailures, bot_of
from careerbot.curation.gaps import Gap, group_gaps
from careerbot.knowledge import Entry, Item

if TYPE_CHECKING:
    from careerbot.bot.client import CareerBot

LOW_CONFIDENCE_MARGIN = 0.05  # answered, but this close to the threshold: counted as a gap too


@dataclass(frozen=True)
class QueuedGap:
    gap: Gap
    near: Item | None  # what the group's example question retrieves first
    draft_id: int  # the stored draft the group's buttons name


def queue_gaps(bot: CareerBot) -> list[QueuedGap]:
    """The recent gaps, grouped, each with its nearest item and a draft its buttons name. Reads the
    store, embeds and saves: call it from a worker thread."""
    answerer = bot.answerer
    questions = bot.store.gaps(answerer.threshold + LOW_CONFIDENCE_MARGIN)
    groups = group_gaps(questions, bot.engine.encoder)
    nearest = answerer.answer_many([gap.example for gap in groups])
    queued = []
    for gap, answer in zip(groups, nearest, strict=True):
        near = answerer.knowledge.get(answer.candidates[0].item_id) if answer.candidates else None
        payload = {
            "wordings": list(gap.wordings),
            "near": near.id if near else None,
            "topic": near.topic if near else "career",
        }
        queued.append(QueuedGap(gap, near, bot.store.save_draft(payload)))
    return queued


def gap_buttons(queued: list[QueuedGap]) -> discord.ui.View:
    """Per group, numbered as gaps_text numbers them: draft an entry, and add to the nearest entry."""
    view = discord.ui.View(timeout=None)
    for number, item in enumerate(queued, start=1):
        view.add_item(GapButton(item.draft_id, "entry", f"{number}: draft an entry"))
        if isinstance(item.near, Entry):
            view.add_item(GapButton(item.draft_id, "paraphrase", f"{number}: add to {item.near.id}"))
    return view


class GapButton(
    ReportsFailures,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"cb:kbgap:(?P<draft>\d+):(?P<choice>entry|paraphrase)",
):
    """Turns one group of the gap queue into knowledge: a new entry (form prefilled with the members'
    wording) or a paraphrase of the nearest entry."""

    def __init__(self, draft_id: int, choice: str, label: str = "") -> None:
        self.draft_id, self.choice = draft_id, choice
        super().__init__(
            discord.ui.Button(
                label=clip(label or choice, 80),
                style=discord.ButtonStyle.secondary,
                custom_id=f"cb:kbgap:{draft_id}:{choice}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> GapButton:
        return cls(int(match["draft"]), match["choice"])

    async def act(self, interaction: discord.Interaction) -> None:
        needs = ("wordings", "near") if self.choice == "paraphrase" else ("wordings", "topic")
        draft = await moderator_draft(
            interaction, self.draft_id, "That gap expired; run /kb gaps again.", needs
        )
        if draft is None:
            return
        bot = bot_of(interaction)
        wordings: list[str] = draft["wordings"]
        if self.choice == "paraphrase":
            if await refuse_unknown_entry(interaction, draft["near"]):
                return
            await interaction.response.defer(ephemeral=True, thinking=True)
            await apply(
                interaction, bot.curator.add_paraphrase, draft["near"], wordings[0], moderator_of(interaction)
            )
            return
        current = {"question": clip(wordings[0], 100), "paraphrases": wordings[1:]}
        await interaction.response.send_modal(
            EntryModal("New entry from the gap queue", draft["topic"], current)
        )
