"""/kb: moderators keep the knowledge from Discord; the files stay the source of truth (written to
knowledge/faq/, so git sees them). This module only wires the feature: the cog (cog.py) and the buttons
that outlive a restart (drafts.py, gaps.py); the checks they share are in actions.py, and what they say
is plain text in texts.py."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from careerbot.bot.exts.moderation.cog import ModerationCog
from careerbot.bot.exts.moderation.drafts import DraftButton
from careerbot.bot.exts.moderation.gaps import GapButton

if TYPE_CHECKING:
    from careerbot.bot.client import CareerBot

log = logging.getLogger(__name__)
MODERATION_ITEMS = (DraftButton, GapButton)


async def setup(bot: CareerBot) -> None:
    servers = bot.settings.moderation_guilds
    if not servers:
        log.warning("/kb is off: discord.moderation_guilds in bot.toml lists no server")
        return
    # Guild commands: /kb exists only in these servers (members' commands stay global).
    await bot.add_cog(ModerationCog(bot), guilds=[discord.Object(id=server) for server in servers])
    bot.add_dynamic_items(*MODERATION_ITEMS)
    log.info("/kb is on in server(s) %s", ", ".join(map(str, servers)))
