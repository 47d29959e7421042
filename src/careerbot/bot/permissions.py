"""Who may change the knowledge: in a server listed in `discord.moderation_guilds`, the Manage Server
permission or a role listed in bot.toml.

Checked on the server side at every moderator action (commands, forms, buttons), because a registered
command, a form or a button's custom_id can be replayed from anywhere; registering /kb only in the
listed servers and hiding it from members (default permissions) are conveniences, not the check."""

from __future__ import annotations

import discord

from careerbot.config import DiscordConfig


def may_moderate(interaction: discord.Interaction, settings: DiscordConfig) -> bool:
    return interaction.guild_id in settings.moderation_guilds and is_moderator(interaction, settings)


def is_moderator(interaction: discord.Interaction, settings: DiscordConfig) -> bool:
    if interaction.permissions.manage_guild:
        return True
    roles = getattr(interaction.user, "roles", [])
    return any(role.id in settings.moderator_roles for role in roles)
