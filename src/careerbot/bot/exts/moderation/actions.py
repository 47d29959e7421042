"""The checks and the one way of making a change that the /kb cog, its form and its buttons share.

Every action checks the moderator right (in a moderation server) on the server side, and every entry id
from Discord must name a live entry before it gets near a file. The bottom of the moderation package: it
imports none of the cog, forms or buttons."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import discord

from careerbot.bot.exts.moderation.texts import REFUSAL, failure_text, no_such_entry, outcome_text
from careerbot.bot.permissions import may_moderate
from careerbot.bot.shared import reply_privately
from careerbot.bot.views import bot_of
from careerbot.curation.curator import Moderator
from careerbot.knowledge import Entry
from careerbot.knowledge.changes import ChangeConflict, ChangeRejected
from careerbot.knowledge.entry_paths import is_entry_id

if TYPE_CHECKING:
    from careerbot.bot.client import CareerBot


def moderator_of(interaction: discord.Interaction) -> Moderator:
    return Moderator(interaction.user.id, interaction.user.display_name)


async def refuse_unless_moderator(interaction: discord.Interaction) -> bool:
    """True (after telling the member privately) when the user may not change the knowledge here."""
    if may_moderate(interaction, bot_of(interaction).settings):
        return False
    await reply_privately(interaction, REFUSAL)
    return True


def live_entry(bot: CareerBot, entry_id: object) -> Entry | None:
    """The live entry an id from Discord names, else None. Only such ids reach the writer, which joins
    them into file paths: a path, `..`, a separator, a passage id or junk never matches."""
    if not isinstance(entry_id, str) or not is_entry_id(entry_id):
        return None
    item = bot.answerer.knowledge.get(entry_id)
    return item if isinstance(item, Entry) else None


async def refuse_unknown_entry(interaction: discord.Interaction, entry_id: object) -> bool:
    """True (after telling the moderator privately) when `entry_id` names no live entry."""
    if live_entry(bot_of(interaction), entry_id) is not None:
        return False
    await reply_privately(interaction, no_such_entry(entry_id))
    return True


async def moderator_draft(
    interaction: discord.Interaction, draft_id: int, expired: str, needs: tuple[str, ...]
) -> dict[str, Any] | None:
    """The pending change a moderator's button names, after checking the moderator right again;
    None (the member already told why) when it may not or cannot go ahead. `needs`: the keys the
    button uses, since a custom_id can be replayed onto another kind of draft."""
    if await refuse_unless_moderator(interaction):
        return None
    draft = await asyncio.to_thread(bot_of(interaction).store.draft, draft_id)
    if draft is None or any(key not in draft for key in needs):
        await reply_privately(interaction, expired)
        return None
    return draft


async def apply(interaction: discord.Interaction, change: Any, *args: Any) -> None:
    """Runs one curator call off the event loop and reports the outcome privately."""
    try:
        outcome = await asyncio.to_thread(change, *args)
        text = outcome_text(outcome)
    except (ChangeConflict, ChangeRejected) as error:
        text = failure_text(error)
    await reply_privately(interaction, text)
