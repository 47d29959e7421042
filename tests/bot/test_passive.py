"""Passive answers (mentions, help-channel posts) share /ask's per-member cooldown, and a flood of them
cannot queue unbounded work. Through the fake Discord."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.bot.conftest import StartBot
from tests.fake_discord import member, user

pytestmark = [pytest.mark.usefixtures("fail_on_error_logs"), pytest.mark.asyncio]


def replies_to(fake_discord: Any, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = {m["id"] for m in messages}
    return [
        m
        for m in fake_discord.channel_messages.get(fake_discord.channel_id, [])
        if (m.get("message_reference") or {}).get("message_id") is not None
        and str(m["message_reference"]["message_id"]) in ids
    ]


async def test_mentions_count_against_the_members_cooldown(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot(cooldown_uses=2, cooldown_seconds=600.0)
    alice = member(user(501, "alice"))
    flood = [
        await fake_discord.post_message(f"pytorch uses {i}", mentions_bot=True, author=alice)
        for i in range(5)
    ]
    # Another member's mention, posted last: once it is answered, every earlier one has been decided.
    await fake_discord.post_message("sklearn uses", mentions_bot=True, author=member(user(502, "bob")))
    await fake_discord.wait_messages(fake_discord.channel_id, count=3)
    await fake_discord.wait_until(
        lambda: any(
            "scikit-learn" in str(m["embeds"]) for m in fake_discord.channel_messages[fake_discord.channel_id]
        ),
        what="bob's answer",
    )
    assert len(replies_to(fake_discord, flood)) == 2
    assert len(fake_discord.channel_messages[fake_discord.channel_id]) == 3


async def test_a_flood_from_many_members_never_has_more_than_the_bound_in_flight(
    fake_discord: Any, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start_bot(passive_in_flight=3)
    ask = bot.ask
    release = asyncio.Event()
    in_flight, most, started = 0, 0, 0

    async def observed(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight, most, started
        in_flight, started = in_flight + 1, started + 1
        most = max(most, in_flight)
        try:
            await release.wait()
            return await ask(*args, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(bot, "ask", observed)
    cog: Any = bot.get_cog("AskCog")
    flood = [
        await fake_discord.post_message(
            "pytorch uses", mentions_bot=True, author=member(user(600 + i, f"m{i}"))
        )
        for i in range(12)
    ]
    await fake_discord.wait_until(lambda: len(cog.answered_messages) == 12, what="every mention to be seen")
    await fake_discord.wait_until(lambda: started >= 3, what="three answers to start")
    release.set()
    await fake_discord.wait_messages(fake_discord.channel_id, count=3)
    assert most == 3 and started == 3
    await fake_discord.wait_until(lambda: cog.passive_in_flight == 0, what="the answers to finish")
    assert len(replies_to(fake_discord, flood)) == 3
    # The bound frees up: the next mention is answered.
    await fake_discord.post_message("sklearn uses", mentions_bot=True, author=member(user(700, "late")))
    await fake_discord.wait_messages(fake_discord.channel_id, count=4)
