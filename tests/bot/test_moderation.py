"""/kb reload through the fake Discord: permissions, a good reload, and a broken file that changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from careerbot.config import Config
from careerbot.engine.live import LiveEngine
from careerbot.engine.loading import load_engine
from tests.bot.conftest import StartBot
from tests.conftest import write_entry
from tests.fake_discord import member, moderator, user
from tests.fakes import FakeEncoder

pytestmark = [pytest.mark.usefixtures("fail_on_error_logs"), pytest.mark.asyncio]
EPHEMERAL = 64


async def private_reply(interaction: Any) -> dict[str, Any]:
    """What the moderator finally reads: the reply or, after a private "thinking" defer, the follow-up."""
    response = await interaction.response()
    assert response["data"]["flags"] & EPHEMERAL, response
    if response["type"] != 5:
        return response["data"]
    [followup] = await interaction.followups(count=1)
    return followup


async def reload_as(fake_discord: Any, who: dict[str, Any]) -> dict[str, Any]:
    return await private_reply(await fake_discord.slash("kb", subcommand="reload", user=who))


async def ask(fake_discord: Any, question: str) -> dict[str, Any]:
    data = await (await fake_discord.slash("ask", {"question": question})).answer()
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


def shown_values(modal: dict[str, Any]) -> dict[str, str]:
    """What a modal's inputs hold when it opens (their prefilled values), by custom_id."""
    values: dict[str, str] = {}
    for row in modal["components"]:
        for component in row.get("components", [row.get("component", {})]):
            if "custom_id" in component:
                values[component["custom_id"]] = component.get("value") or ""
    return values


FORM = {
    "question": "What is Jupyter for?",
    "paraphrases": "notebooks?\njupyter lab\nipynb files",
    "answer": "Interactive notebooks for exploring data.",
    "tags": "jupyter, notebooks",
    "sources": "Jupyter | https://jupyter.org/",
}


async def open_form(fake_discord: Any, subcommand: str, options: dict[str, Any]) -> dict[str, Any]:
    response = await (
        await fake_discord.slash("kb", options, subcommand=subcommand, user=moderator())
    ).response()
    assert response["type"] == 9, response
    return response["data"]


async def test_add_through_the_form_is_answerable_at_once_and_in_the_history(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    bot = await start_bot()
    modal = await open_form(fake_discord, "add", {"topic": "stack"})
    reply = await private_reply(await fake_discord.submit_modal(modal["custom_id"], FORM, user=moderator()))
    assert reply["content"].startswith("Added `what-is-jupyter-for` as revision #1, live now (7 entries")
    assert (config.knowledge.dir / "faq" / "stack" / "what-is-jupyter-for.yaml").exists()
    assert (await ask(fake_discord, "jupyter lab ipynb"))["title"] == "What is Jupyter for?"
    history = await (
        await fake_discord.slash(
            "kb", {"entry": "what-is-jupyter-for"}, subcommand="history", user=moderator()
        )
    ).response()
    assert ": add (created)" in history["data"]["content"]
    assert bot.store.history("what-is-jupyter-for")[0].moderator_name


async def test_an_invalid_form_says_what_is_wrong_and_writes_nothing(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    await start_bot()
    modal = await open_form(fake_discord, "add", {"topic": "stack"})
    reply = await private_reply(
        await fake_discord.submit_modal(
            modal["custom_id"], {**FORM, "paraphrases": "only one"}, user=moderator()
        )
    )
    assert reply["content"].startswith("Not saved: the change would break the knowledge.")
    assert "paraphrases: has 1 item(s); at least 3 needed" in reply["content"]
    assert not (config.knowledge.dir / "faq" / "stack" / "what-is-jupyter-for.yaml").exists()


async def test_a_question_near_an_entry_can_become_its_paraphrase(
    fake_discord: Any, start_bot: StartBot
) -> None:
    bot = await start_bot()
    modal = await open_form(fake_discord, "add", {"topic": "stack"})
    near = {**FORM, "question": "What is PyTorch used for, mostly?", "paraphrases": "a b\nc d e\nf g h i"}
    interaction = await fake_discord.submit_modal(modal["custom_id"], near, user=moderator())
    offer = await private_reply(interaction)
    assert "close to an existing entry: **What is PyTorch used for?**" in offer["content"]
    button = next(
        c["custom_id"]
        for row in offer["components"]
        for c in row["components"]
        if c["custom_id"].endswith(":paraphrase")
    )
    done = await private_reply(await fake_discord.click(interaction.message, button, user=moderator()))
    assert done["content"].startswith("Saved `pytorch`")
    assert "What is PyTorch used for, mostly?" in bot.answerer.knowledge.get("pytorch").paraphrases  # type: ignore[union-attr]


async def test_an_edit_over_a_newer_version_is_refused_with_the_difference(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    await start_bot()
    modal = await open_form(fake_discord, "edit", {"entry": "pytorch"})
    values = shown_values(modal)
    assert values["question"] == "What is PyTorch used for?"
    path = config.knowledge.dir / "faq" / "stack" / "pytorch.yaml"
    path.write_text(
        path.read_text().replace("PyTorch builds and trains neural networks.", "Changed by git pull.")
    )
    mine = {**values, "answer": "My edit."}
    reply = await private_reply(await fake_discord.submit_modal(modal["custom_id"], mine, user=moderator()))
    assert reply["content"].startswith("Not saved: the entry changed since you opened it.")
    assert "+answer: Changed by git pull." in reply["content"]
    assert "Changed by git pull." in path.read_text()


async def test_edit_then_revert_then_remove(fake_discord: Any, start_bot: StartBot, config: Config) -> None:
    bot = await start_bot()
    modal = await open_form(fake_discord, "edit", {"entry": "pytorch"})
    mine = {**shown_values(modal), "answer": "PyTorch, edited from Discord."}
    reply = await private_reply(await fake_discord.submit_modal(modal["custom_id"], mine, user=moderator()))
    assert reply["content"].startswith("Saved `pytorch` as revision #1")
    assert (await ask(fake_discord, "pytorch uses"))["description"] == "PyTorch, edited from Discord."
    revert = await fake_discord.slash("kb", {"revision": 1}, subcommand="revert", user=moderator())
    assert (await revert.response())["type"] == 5
    [followup] = await revert.followups()
    assert followup["content"].startswith("Reverted `pytorch` as revision #2")
    assert (await ask(fake_discord, "pytorch uses"))[
        "description"
    ] == "PyTorch builds and trains neural networks."
    confirm = await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="remove", user=moderator())
    question = (await confirm.response())["data"]
    button = question["components"][0]["components"][0]["custom_id"]
    assert button.endswith(":remove")
    assert (await (await fake_discord.click(confirm.message, button, user=member(user(79, "x")))).response())[
        "data"
    ]["content"] == "Only moderators can change what careerbot knows."
    done = await private_reply(await fake_discord.click(confirm.message, button, user=moderator()))
    assert done["content"].startswith("Removed `pytorch` as revision #3")
    assert bot.answerer.knowledge.get("pytorch") is None
    assert not (config.knowledge.dir / "faq" / "stack" / "pytorch.yaml").exists()
    # Gone from the knowledge, its history still shows: that is where a removal is undone from.
    history = await private_reply(
        await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="history", user=moderator())
    )
    assert ": remove (removed)" in history["content"]


async def test_privacy_tells_what_is_kept_and_for_how_long(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot(retention_days=30)
    data = (await (await fake_discord.slash("privacy", user=member(user(80, "anyone")))).response())["data"]
    assert data["flags"] & EPHEMERAL
    assert "No user ids" in data["content"] and "deleted after 30 days" in data["content"]


async def test_stats_show_topics_most_asked_votes_and_due_reviews(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    path = config.knowledge.dir / "faq" / "stack" / "pytorch.yaml"
    path.write_text(path.read_text().replace("reviewed_on: 2026-11-23", "reviewed_on: 2020-01-01"))
    engine, _ = load_engine(config, encoder=FakeEncoder())
    await start_bot(LiveEngine(config, FakeEncoder(), engine), review_days=365)
    await ask(fake_discord, "sklearn uses")
    embed = (await (await fake_discord.slash("kb", subcommand="stats", user=moderator())).response())["data"][
        "embeds"
    ][0]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert "stack: 2" in fields["Entries per topic"]
    assert fields["Most asked"] == "scikit-learn: 1"
    assert fields["Not reviewed for 365 days"] == "pytorch"


async def test_the_gap_queue_groups_questions_and_turns_one_into_a_paraphrase(
    fake_discord: Any, start_bot: StartBot
) -> None:
    bot = await start_bot()
    for question in ("zebra quantum lasagna", "purple hippo marathon", "zebra quantum lasagna"):
        assert (await ask(fake_discord, question))["title"] == "I don't know that one"
    gaps = await fake_discord.slash("kb", subcommand="gaps", user=moderator())
    assert (await gaps.response())["type"] == 5
    [listing] = await gaps.followups()
    assert listing["content"].splitlines() == [
        '1. 2x "zebra quantum lasagna" (1 wordings)',
        '2. 1x "purple hippo marathon" (1 wordings)',
    ]
    buttons = [c for row in listing["components"] for c in row["components"]]
    assert buttons[0]["label"] == "1: draft an entry" and buttons[1]["label"].startswith("1: add to ")
    nearest = buttons[1]["label"].removeprefix("1: add to ")
    message = gaps.message
    form = await (await fake_discord.click(message, buttons[0]["custom_id"], user=moderator())).response()
    assert form["type"] == 9 and shown_values(form["data"])["question"] == "zebra quantum lasagna"
    done = await private_reply(await fake_discord.click(message, buttons[1]["custom_id"], user=moderator()))
    assert done["content"].startswith(f"Saved `{nearest}`")
    assert "zebra quantum lasagna" in bot.answerer.knowledge.get(nearest).paraphrases  # type: ignore[union-attr]


async def test_edit_with_a_topic_moves_the_entry_to_exactly_that_topic(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    bot = await start_bot()
    modal = await open_form(fake_discord, "edit", {"entry": "pytorch", "topic": "skills"})
    assert modal["title"] == "Move to skills: pytorch"
    reply = await private_reply(
        await fake_discord.submit_modal(modal["custom_id"], shown_values(modal), user=moderator())
    )
    assert reply["content"].startswith("Saved `pytorch` as revision #1, live now (6 entries")
    files = sorted(
        path.relative_to(config.knowledge.dir) for path in config.knowledge.dir.rglob("pytorch.yaml")
    )
    assert [str(path) for path in files] == ["faq/skills/pytorch.yaml"]
    assert "topic: skills" in (config.knowledge.dir / "faq" / "skills" / "pytorch.yaml").read_text()
    moved = bot.answerer.knowledge.get("pytorch")
    assert moved is not None and moved.topic == "skills"
    assert bot.answerer.knowledge.ids_in("stack") == ["scikit-learn"]
    assert (await ask(fake_discord, "pytorch uses"))["title"] == "What is PyTorch used for?"


async def test_a_refusal_that_is_not_the_changes_fault_does_not_blame_the_change(tmp_path: Any) -> None:
    from careerbot.bot.exts.moderation.texts import failure_text
    from careerbot.knowledge import Problem
    from careerbot.knowledge.changes import ChangeRejected
    from careerbot.knowledge.writer import KnowledgeWriter

    refused = failure_text(KnowledgeWriter(tmp_path).no_such_entry("gone"))
    invalid = failure_text(ChangeRejected([Problem(tmp_path / "x.yaml", 2, "answer", "is empty")]))

    assert "would break" not in refused and "no entry with id 'gone'" in refused
    assert "would break the knowledge" in invalid and "- answer: is empty" in invalid
