"""Who may change the knowledge: the Manage Server permission, or a role listed in bot.toml.

Checked on the server side at every moderator action; hiding the commands from others (default
permissions) is only a convenience, since server admins can override what is shown."""

from __future__ import annotations

import discord

from careerbot.config import DiscordConfig


def is_moderator(interaction: discord.Interaction, settings: DiscordConfig) -> bool:
    if interaction.permissions.manage_guild:
        return True
    roles = getattr(interaction.user, "roles", [])
    return any(role.id in settings.moderator_roles for role in roles)
