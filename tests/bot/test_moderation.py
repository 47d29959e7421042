"""/kb reload through the fake Discord: permissions, a good reload, and a broken file that changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from careerbot.config import Config
from tests.bot.conftest import StartBot
from tests.conftest import write_entry
from tests.fake_discord import member, moderator, user

pytestmark = [pytest.mark.usefixtures("fail_on_error_logs"), pytest.mark.asyncio]
EPHEMERAL = 64


async def reload_as(fake_discord: Any, who: dict[str, Any]) -> dict[str, Any]:
    interaction = await fake_discord.slash("kb", subcommand="reload", user=who)
    response = await interaction.response()
    if response["type"] == 5:  # deferred while reloading
        [followup] = await interaction.followups(count=1)
        return followup
    return response["data"]


async def ask(fake_discord: Any, question: str) -> dict[str, Any]:
    data = (await (await fake_discord.slash("ask", {"question": question})).response())["data"]
    return data["embeds"][0]


async def test_members_without_the_right_are_refused_and_nothing_changes(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    bot = await start_bot()
    write_entry(
        config.knowledge.dir,
        "stack/jupyter",
        "What is Jupyter for?",
        ["notebooks?", "jupyter lab", "ipynb"],
        "Notebooks.",
    )
    reply = await reload_as(fake_discord, member(user(77, "member")))
    assert (
        reply["flags"] & EPHEMERAL and reply["content"] == "Only moderators can change what careerbot knows."
    )
    assert bot.answerer.knowledge.get("jupyter") is None


async def test_a_moderator_reload_makes_an_edit_answerable(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    await start_bot()
    assert (await ask(fake_discord, "jupyter lab notebooks ipynb"))["title"] == "I don't know that one"
    write_entry(
        config.knowledge.dir,
        "stack/jupyter",
        "What is Jupyter for?",
        ["notebooks?", "jupyter lab", "ipynb"],
        "Notebooks.",
    )
    reply = await reload_as(fake_discord, moderator())
    assert reply["content"].startswith("Reloaded: 7 entries live, 5 texts embedded")
    assert (await ask(fake_discord, "jupyter lab notebooks ipynb"))["title"] == "What is Jupyter for?"


async def test_a_moderator_role_from_settings_may_reload(fake_discord: Any, start_bot: StartBot) -> None:
    bot = await start_bot(moderator_roles=(4242,))
    role = {"id": "4242", "name": "helpers", "permissions": "0", "position": 2}
    await fake_discord.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(fake_discord.guild_id), "role": role})
    await fake_discord.wait_until(lambda: bot.guilds[0].get_role(4242) is not None, what="the role")
    reply = await reload_as(fake_discord, member(user(78, "helper"), roles=[4242]))
    assert reply["content"].startswith("Reloaded: 6 entries live")


async def test_a_broken_file_is_reported_and_the_live_version_stays(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    await start_bot()
    path = config.knowledge.dir / "faq" / "stack" / "pytorch.yaml"
    path.write_text(path.read_text().replace("topic: stack", "topic: cooking"))
    reply = await reload_as(fake_discord, moderator())
    assert reply["content"].startswith("Not reloaded: the live version (6 entries) stays.")
    assert f"{path}:8: topic: unknown topic 'cooking'" in reply["content"]
    assert (await ask(fake_discord, "pytorch uses"))["title"] == "What is PyTorch used for?"


async def test_questions_during_a_reload_are_all_answered(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    await start_bot()
    write_entry(
        config.knowledge.dir,
        "stack/jupyter",
        "What is Jupyter for?",
        ["notebooks?", "jupyter lab", "ipynb"],
        "Notebooks.",
    )
    questions = [
        fake_discord.slash("ask", {"question": "sklearn uses"}, user=user(100 + i, f"m{i}")) for i in range(4)
    ]
    reload = asyncio.ensure_future(reload_as(fake_discord, moderator()))
    interactions = await asyncio.gather(*questions)
    answers = [await interaction.response() for interaction in interactions]
    assert [a["data"]["embeds"][0]["title"] for a in answers] == ["What is scikit-learn used for?"] * 4
    assert (await reload)["content"].startswith("Reloaded: 7 entries")
