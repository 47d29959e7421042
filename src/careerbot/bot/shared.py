"""What the bot's modules share, and the bottom of the bot package: it imports no other bot module.

Private replies, and the one way a failure is logged and told to the member. What a member types, and
secrets, never reach a log line above DEBUG: an exception's message may quote either (a question, a
form's text, a URL), so failures are logged at ERROR with the exception's type and where it happened,
and with its message only at DEBUG. Members are told a short generic text, never the exception's.

Also the mention setting every reply uses, and the topics as a type slash commands can offer."""

from __future__ import annotations

import contextlib
import logging
import traceback
from typing import Any, Literal

import discord

from careerbot.curation.store import DatabaseUnavailable

log = logging.getLogger("careerbot.bot")
# Replies ping nobody, whatever the member typed (@everyone, roles, users).
NO_MENTIONS = discord.AllowedMentions.none()
# The knowledge's topics (knowledge.TOPICS) as a type, so slash commands offer them as choices; a test
# keeps the two equal.
Topic = Literal["duties", "skills", "stack", "career", "getting-started", "roles"]
SORRY = "Sorry, something went wrong on my side. The moderators can see what."
DATABASE_DOWN = (
    "careerbot cannot reach its database right now (it may be restarting); nothing was changed. "
    "Try again once the database is back."
)


async def reply_privately(interaction: discord.Interaction, text: str, **kwargs: Any) -> None:
    """An ephemeral reply, whether or not the interaction was already answered or deferred. After a
    public defer, Discord turns the first follow-up into that public message whatever its flags, so the
    public "thinking..." placeholder is deleted first and the reply goes out as its own private message."""
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True, **kwargs)
        return
    if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
        await _drop_public_placeholder(interaction)
    await interaction.followup.send(text, ephemeral=True, **kwargs)


async def _drop_public_placeholder(interaction: discord.Interaction) -> None:
    with contextlib.suppress(discord.NotFound):  # already replaced or deleted
        original = await interaction.original_response()
        if original.flags.loading and not original.flags.ephemeral:
            await original.delete()


def log_failure(what: str, error: BaseException) -> None:
    """Logs a failure once: type and traceback at ERROR, the exception's message at DEBUG."""
    error = getattr(error, "original", error)  # discord.py wraps a command's exception
    log.error("%s failed: %s", what, _without_messages(error))
    log.debug("%s failed with %r", what, error, exc_info=error)


async def report_failure(interaction: discord.Interaction, error: BaseException, what: str) -> None:
    """The one error handler: the command tree's, forms' and buttons' failures all come here. The shared
    database being away (PostgreSQL restarting) is no bug: the member is told so, and it is a warning."""
    cause = getattr(error, "original", error)  # discord.py wraps a command's exception
    database_down = isinstance(cause, DatabaseUnavailable)
    if database_down:  # its message names no member text and no password
        log.warning("%s refused: %s", what, cause)
    else:
        log_failure(what, error)
    try:
        await reply_privately(interaction, DATABASE_DOWN if database_down else SORRY)
    except Exception as exc:  # the interaction expired, the bot is closing...: the failure is logged
        log.debug("could not tell the member about the failure: %r", exc)


def _without_messages(error: BaseException) -> str:
    """The exception chain as a traceback would show it, each exception by its type alone."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"{type(current).__module__}.{type(current).__qualname__}\n{frames}".rstrip())
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n  caused by ".join(parts)
