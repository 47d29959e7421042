"""The /kb entry form: a new entry, or an edit opened with the entry's current version. A form that
writes acknowledges first (privately, "thinking"), since a write, a model call and a reload can outlast
Discord's 3 seconds; its failures go to the one error handler (bot/shared.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import discord

from careerbot.bot.exts.moderation.actions import (
    apply,
    moderator_of,
    refuse_unknown_entry,
    refuse_unless_moderator,
)
from careerbot.bot.exts.moderation.drafts import DraftButton
from careerbot.bot.exts.moderation.texts import near_entry_offer
from careerbot.bot.render import item_embed
from careerbot.bot.shared import reply_privately, report_failure
from careerbot.bot.views import bot_of


def fields_from_form(
    topic: str, question: str, paraphrases: str, answer: str, tags: str, sources: str
) -> dict[str, Any]:
    """The modal's text boxes -> entry fields. Sources: one per line, 'Title | https://url' or 'Title'."""
    parsed_sources = []
    for line in sources.splitlines():
        title, _, url = (part.strip() for part in line.partition("|"))
        if title:
            parsed_sources.append({"title": title, **({"url": url} if url else {})})
    return {
        "question": question.strip(),
        "paraphrases": [line.strip() for line in paraphrases.splitlines() if line.strip()],
        "answer": answer.strip(),
        "topic": topic,
        "tags": [tag.strip().lower() for tag in tags.split(",") if tag.strip()],
        "sources": parsed_sources,
        "reviewed_on": time.strftime("%Y-%m-%d"),
    }


class EntryModal(discord.ui.Modal):
    """The form for a new entry or an edit; for an edit it opens filled with the current version."""

    def __init__(
        self, title: str, topic: str, current: dict[str, Any] | None = None, draft_id: int = 0
    ) -> None:
        super().__init__(title=title, timeout=1800)
        self.topic, self.draft_id = topic, draft_id
        current = current or {}
        self.question: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            custom_id="question",
            label="Question (the title)",
            max_length=100,
            default=current.get("question"),
        )
        self.paraphrases: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            custom_id="paraphrases",
            label="Paraphrases, one per line (at least 3)",
            style=discord.TextStyle.paragraph,
            default="\n".join(current.get("paraphrases", [])) or None,
        )
        self.answer: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            custom_id="answer",
            label="Answer",
            style=discord.TextStyle.paragraph,
            max_length=1000,
            default=current.get("answer"),
        )
        self.tags: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            custom_id="tags",
            label="Tags, comma separated",
            default=", ".join(current.get("tags", [])) or None,
        )
        self.sources: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            custom_id="sources",
            label="Sources, one per line: Title | https://url",
            style=discord.TextStyle.paragraph,
            default="\n".join(
                f"{s['title']} | {s['url']}" if s.get("url") else s["title"]
                for s in current.get("sources", [])
            )
            or None,
        )
        for item in (self.question, self.paraphrases, self.answer, self.tags, self.sources):
            self.add_item(item)

    def fields(self) -> dict[str, Any]:
        return fields_from_form(
            self.topic,
            self.question.value,
            self.paraphrases.value,
            self.answer.value,
            self.tags.value,
            self.sources.value,
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if await refuse_unless_moderator(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = bot_of(interaction)
        fields = self.fields()
        if self.draft_id:  # an edit: save over the version the form was opened with
            draft = await asyncio.to_thread(bot.store.draft, self.draft_id)
            if draft is None:
                await reply_privately(interaction, "That edit expired; open it again.")
                return
            if await refuse_unknown_entry(interaction, draft.get("entry_id")):
                return
            await apply(
                interaction,
                bot.curator.edit,
                draft["entry_id"],
                fields,
                draft["text"],
                moderator_of(interaction),
            )
            return
        near = await asyncio.to_thread(bot.curator.near_entry, fields["question"])
        if near is None:
            await apply(interaction, bot.curator.add, fields, moderator_of(interaction))
            return
        draft_id = await asyncio.to_thread(bot.store.save_draft, {"fields": fields, "near": near.id})
        view = discord.ui.View(timeout=None)
        view.add_item(DraftButton(draft_id, "new"))
        view.add_item(DraftButton(draft_id, "paraphrase"))
        await interaction.followup.send(
            near_entry_offer(near.question, near.id),
            embed=item_embed(near),
            view=view,
            ephemeral=True,
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        await report_failure(interaction, error, "the entry form")
