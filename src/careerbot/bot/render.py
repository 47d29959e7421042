"""Answer -> Discord embed, within every Discord length limit.

The member's question appears only as the embed's author name, which Discord shows as plain text (no
markdown, no mentions), so nothing a member types can format or ping through careerbot's replies."""

from __future__ import annotations

from collections.abc import Iterable

import discord

from careerbot.curation.reports import clip as clip  # re-exported: one clip for the bot and its texts
from careerbot.engine.answering import Answer, FurtherAnswer
from careerbot.engine.language import ENGLISH
from careerbot.knowledge import Entry, Item, Source

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
FIELD_NAME_LIMIT = 256
FOOTER_LIMIT = 2048
EMBED_LIMIT = 6000  # all text in one embed together
LABEL_LIMIT = 100  # select option labels and descriptions, autocomplete choice names

COLOURS = {"high": 0x2ECC71, "medium": 0xF1C40F, "low": 0xE67E22, "none": 0x95A5A6}
CONFIDENCE_HINTS = {
    "high": "confident match",
    "medium": "likely match",
    "low": "best guess: check the related questions",
    "none": "no match",
}


def answer_embed(answer: Answer) -> discord.Embed:
    if answer.uncertain:
        # The choices are the reply: a list here, a menu under it (bot.views.answer_view) to open one.
        embed = discord.Embed(
            title="Not sure: did you mean...", description=_bullets(s.title for s in answer.did_you_mean)
        )
        embed.colour = discord.Colour(COLOURS["low"])
        embed.set_footer(text="several entries fit about as well: pick one below")
    elif answer.abstained:
        title = (
            "English only, sorry"
            if answer.language != ENGLISH
            else "Not something I cover"
            if answer.declined_by
            else "I don't know that one"
        )
        embed = discord.Embed(title=title, description=clip(answer.text, DESCRIPTION_LIMIT))
        embed.colour = discord.Colour(COLOURS["none"])
        if answer.did_you_mean:
            embed.add_field(
                name="Did you mean", value=_bullets(s.title for s in answer.did_you_mean), inline=False
            )
    else:
        embed = discord.Embed(
            title=clip(answer.title or "", TITLE_LIMIT), description=clip(answer.text, DESCRIPTION_LIMIT)
        )
        embed.colour = discord.Colour(COLOURS[answer.confidence])
        if answer.sources:
            embed.add_field(name="Sources", value=sources_text(answer.sources), inline=False)
        for further in answer.further:
            embed.add_field(
                name=clip(f"Also: {further.title}", FIELD_NAME_LIMIT),
                value=further_text(further),
                inline=False,
            )
        if answer.did_you_mean:
            embed.add_field(
                name="Or did you mean", value=_bullets(s.title for s in answer.did_you_mean), inline=False
            )
        reviewed = f"reviewed {answer.reviewed_on.isoformat()} · " if answer.reviewed_on else ""
        embed.set_footer(
            text=clip(f"{reviewed}{CONFIDENCE_HINTS[answer.confidence]} · {answer.id}", FOOTER_LIMIT)
        )
    embed.set_author(name=clip(f"Q: {answer.question}", TITLE_LIMIT))
    return fit(embed)


def further_text(further: FurtherAnswer) -> str:
    """A compound question's second part as one embed field: the shortened answer, then its sources,
    which are kept whole when the field must be cut (the answer is cut instead)."""
    more = "\n(shortened: open it in full from the menu below)" if further.shortened else ""
    sources = sources_text(further.sources) if further.sources else ""
    tail = f"{more}\n{sources}" if sources else more
    room = FIELD_LIMIT - len(tail)
    if room < FIELD_LIMIT // 2:  # very long sources: the answer comes first
        return clip(further.text + tail, FIELD_LIMIT)
    return clip(further.text, room) + tail


def fit(embed: discord.Embed) -> discord.Embed:
    """Shortens the description until the whole embed is within Discord's total."""
    excess = len(embed) - EMBED_LIMIT
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, max(1, len(embed.description) - excess))
    return embed


def item_embed(item: Item) -> discord.Embed:
    text = item.answer if isinstance(item, Entry) else item.text
    embed = discord.Embed(title=clip(item.title, TITLE_LIMIT), description=clip(text, DESCRIPTION_LIMIT))
    embed.add_field(name="Sources", value=sources_text(item.sources), inline=False)
    reviewed = f"reviewed {item.reviewed_on.isoformat()} · " if isinstance(item, Entry) else ""
    embed.set_footer(text=f"{reviewed}{item.topic} · {item.id}")
    return fit(embed)


def sources_text(sources: tuple[Source, ...]) -> str:
    lines = []
    for source in sources:
        title = discord.utils.escape_markdown(source.title)
        lines.append(f"[{title}](<{source.url}>)" if source.url else title)
    return clip("\n".join(f"- {line}" for line in lines), FIELD_LIMIT)


def _bullets(titles: Iterable[str]) -> str:
    return clip("\n".join(f"- {title}" for title in titles), FIELD_LIMIT)
