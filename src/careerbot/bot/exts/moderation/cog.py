"""The /kb slash commands, thin: each reads the interaction, calls one core function (the curator, the
store, the engine, the gap queue) and sends the text or form for its result."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import discord
from discord import app_commands
from discord.ext import commands

from careerbot.bot.exts.moderation.actions import apply, live_entry, moderator_of, refuse_unless_moderator
from careerbot.bot.exts.moderation.drafts import DraftButton
from careerbot.bot.exts.moderation.forms import EntryModal
from careerbot.bot.exts.moderation.gaps import gap_buttons, queue_gaps
from careerbot.bot.exts.moderation.texts import (
    BROKEN_FILE,
    NO_GAPS,
    failure_text,
    gaps_text,
    no_history,
    no_such_entry,
    reload_text,
    removal_question,
    stored_file,
    within_limit,
)
from careerbot.bot.render import clip
from careerbot.bot.shared import Topic, reply_privately
from careerbot.curation.reports import history_text, knowledge_stats
from careerbot.knowledge.changes import ChangeRejected
from careerbot.knowledge.codec import entry_fields
from careerbot.knowledge.entry_paths import is_entry_id

if TYPE_CHECKING:
    from careerbot.bot.client import CareerBot


class EntryFile(NamedTuple):
    """An entry's file and its text as they are on disk now: the writer's `current`, with names."""

    path: Path
    text: str

    @property
    def topic(self) -> str:
        return self.path.parent.name  # an entry's folder is its topic


class ModerationCog(commands.Cog):
    kb = app_commands.Group(
        name="kb",
        description="Moderators: keep careerbot's knowledge",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    def __init__(self, bot: CareerBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Runs before every /kb command (discord.py calls it for each): the moderator right in a
        moderation server, then an `entry` that names a live entry, or for /kb history one with
        recorded revisions (a removed entry's history is how it is brought back)."""
        if await refuse_unless_moderator(interaction):
            return False
        entry_id = getattr(interaction.namespace, "entry", None)
        if entry_id is None or live_entry(self.bot, entry_id) is not None:
            return True
        command = interaction.command.name if interaction.command else ""
        if command == "history" and is_entry_id(entry_id):
            revisions = await asyncio.to_thread(self.bot.store.history, entry_id)
            if revisions:
                return True
        await reply_privately(interaction, no_such_entry(entry_id))
        return False

    async def entry_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=clip(e.question, 100), value=e.id)
            for e in await self.bot.titles.find(current, limit=25)
        ]

    async def _file_on_disk(self, interaction: discord.Interaction, entry_id: str) -> EntryFile | None:
        """The entry's file as it is on disk now; None, the moderator told why, if it went since it was
        loaded (a git pull) or cannot be read as an entry (a bad hand edit)."""
        try:
            current = self.bot.curator.writer.current(entry_id)
        except ChangeRejected as refused:
            await interaction.response.send_message(failure_text(refused), ephemeral=True)
            return None
        if current is None:
            await interaction.response.send_message(no_such_entry(entry_id), ephemeral=True)
            return None
        return EntryFile(*current)

    @kb.command(name="add", description="Add an entry (opens a form)")
    async def add(self, interaction: discord.Interaction, topic: Topic) -> None:
        await interaction.response.send_modal(EntryModal(f"New entry: {topic}", topic))

    @kb.command(name="edit", description="Edit an entry (opens a form with its current version)")
    @app_commands.describe(topic="Move the entry to this topic (leave empty to keep its topic)")
    async def edit(self, interaction: discord.Interaction, entry: str, topic: Topic | None = None) -> None:
        if (found := await self._file_on_disk(interaction, entry)) is None:
            return
        if (fields := entry_fields(found.text)) is None:
            await interaction.response.send_message(BROKEN_FILE, ephemeral=True)
            return
        draft = {"entry_id": entry, "text": found.text}
        draft_id = await asyncio.to_thread(self.bot.store.save_draft, draft)
        title = f"Edit: {entry}" if topic in (None, found.topic) else f"Move to {topic}: {entry}"
        modal = EntryModal(clip(title, 45), topic or found.topic, fields, draft_id)
        await interaction.response.send_modal(modal)

    @kb.command(name="remove", description="Remove an entry (asks to confirm)")
    async def remove(self, interaction: discord.Interaction, entry: str) -> None:
        if (found := await self._file_on_disk(interaction, entry)) is None:
            return
        draft_id = await asyncio.to_thread(self.bot.store.save_draft, {"entry_id": entry, "text": found.text})
        view = discord.ui.View(timeout=None)
        view.add_item(DraftButton(draft_id, "remove"))
        await interaction.response.send_message(removal_question(entry), view=view, ephemeral=True)

    @kb.command(name="show", description="Show an entry as stored")
    async def show(self, interaction: discord.Interaction, entry: str) -> None:
        if (found := await self._file_on_disk(interaction, entry)) is None:
            return
        await interaction.response.send_message(stored_file(found.text), ephemeral=True)

    @kb.command(name="history", description="Who changed an entry, when, and what")
    async def history(self, interaction: discord.Interaction, entry: str) -> None:
        def report() -> str | None:  # off the event loop: reads the store and the file, parses versions
            revisions = self.bot.store.history(entry)
            if not revisions:
                return None
            return history_text(revisions, text_on_disk(self.bot, entry))

        text = await asyncio.to_thread(report)
        shown = no_history(entry) if text is None else within_limit(text)
        await interaction.response.send_message(shown, ephemeral=True)

    @kb.command(name="revert", description="Undo one revision (see /kb history)")
    async def revert(self, interaction: discord.Interaction, revision: app_commands.Range[int, 1]) -> None:
        found = await asyncio.to_thread(self.bot.store.revision, revision)
        if found is None:
            await interaction.response.send_message(f"No revision #{revision}.", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await apply(interaction, self.bot.curator.revert, found, moderator_of(interaction))

    @kb.command(name="gaps", description="What members asked that careerbot could not answer well")
    async def gaps(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        queued = await asyncio.to_thread(queue_gaps, self.bot)
        if not queued:
            await interaction.followup.send(NO_GAPS, ephemeral=True)
            return
        text = gaps_text([item.gap for item in queued])
        await interaction.followup.send(text, view=gap_buttons(queued), ephemeral=True)

    @kb.command(name="stats", description="Entries per topic, most asked, votes, and entries due for review")
    async def stats(self, interaction: discord.Interaction) -> None:
        fields = await asyncio.to_thread(  # reads every entry
            knowledge_stats,
            self.bot.answerer.knowledge,
            self.bot.store,
            self.bot.settings.review_days,
            date.today(),
        )
        embed = discord.Embed(title="Knowledge stats")
        for field in fields:
            embed.add_field(name=field.name, value=field.value, inline=field.inline)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @kb.command(name="reload", description="Load the knowledge files again (after a git pull or a hand edit)")
    async def reload(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # a reload may embed for seconds
        report = await asyncio.to_thread(self.bot.engine.reload)
        await interaction.followup.send(reload_text(report), ephemeral=True)

    edit.autocomplete("entry")(entry_choices)
    remove.autocomplete("entry")(entry_choices)
    show.autocomplete("entry")(entry_choices)
    history.autocomplete("entry")(entry_choices)


def text_on_disk(bot: CareerBot, entry_id: str) -> str | None:
    """The entry's file as it is now; None if it is gone or cannot be read as an entry."""
    try:
        current = bot.curator.writer.current(entry_id)
    except ChangeRejected:
        return None
    return current[1] if current else None
