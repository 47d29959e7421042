"""careerbot end to end: discord.py's real networking against the fake Discord on loopback."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from careerbot.config import Config
from careerbot.engine.live import LiveEngine
from careerbot.engine.loading import load_engine
from tests.bot.conftest import StartBot
from tests.conftest import write_entry
from tests.fake_discord.plugin import ErrorLogCollector
from tests.fakes import FakeEncoder
from tests.stored import declined_questions, votes_given

# fail_on_error_logs first, so that it outlives the bot's teardown and sees its logs too.
pytestmark = [pytest.mark.usefixtures("fail_on_error_logs"), pytest.mark.asyncio]
SNAPSHOT = Path(__file__).with_name("commands.snapshot.json")
EPHEMERAL = 64


def components_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components", []) for c in row.get("components", [])]


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for c in components_of(message) if "custom_id" in c]


async def test_the_synced_command_schema_matches_the_reviewed_snapshot(
    fake_discord: Any, start_bot: StartBot
) -> None:
    """Members' commands are global; /kb is a guild command of the moderation server only."""
    await start_bot()

    def by_name(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(commands, key=lambda c: (c.get("type", 1), c["name"]))

    synced = {
        "global": by_name(fake_discord.synced_payloads[None]),
        "moderation_guild": by_name(fake_discord.synced_payloads[fake_discord.guild_id]),
    }
    comparable = json.dumps(synced, indent=2, sort_keys=True)
    if not SNAPSHOT.exists():  # first run: write it for review, and fail so nobody forgets to
        SNAPSHOT.write_text(comparable + "\n")
        pytest.fail(f"wrote {SNAPSHOT.name}; review and commit it")
    assert comparable + "\n" == SNAPSHOT.read_text()
    assert {c["name"] for c in synced["global"]} == {
        "ask",
        "faq",
        "duties",
        "skills",
        "stack",
        "topics",
        "privacy",
        "Ask careerbot",
    }
    assert [c["name"] for c in synced["moderation_guild"]] == ["kb"]
    assert fake_discord.other_guild_id not in fake_discord.synced_payloads


async def test_ask_answers_with_an_embed_sources_and_buttons(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot()
    interaction = await fake_discord.slash("ask", {"question": "mle vs ds"})
    data = await interaction.answer()  # deferred first only on a machine too busy to answer in 2 s
    [embed] = data["embeds"]
    assert embed["title"] == "How is an ML engineer different from a data scientist?"
    assert embed["description"] == "Data scientists explore; ML engineers ship."
    assert embed["fields"][0]["name"] == "Sources"
    assert "reviewed 2026-11-23" in embed["footer"]["text"]
    assert data["allowed_mentions"] == {"parse": []}
    assert not data.get("flags", 0) & EPHEMERAL
    ids = custom_ids(data)
    assert any(i.startswith("cb:fb:1:") for i in ids) and any(i.startswith("cb:fb:0:") for i in ids)
    assert any(i.startswith("cb:alt:") for i in ids) and any(i.startswith("cb:open:") for i in ids)


async def test_a_question_not_in_english_is_told_careerbot_answers_in_english(
    fake_discord: Any, start_bot: StartBot
) -> None:
    await start_bot()
    interaction = await fake_discord.slash(
        "ask", {"question": "¿Qué diferencia hay entre un ingeniero de ML y un científico de datos?"}
    )
    [embed] = (await interaction.answer())["embeds"]
    assert embed["title"] == "English only, sorry"
    assert "only answer in English" in embed["description"]


async def test_private_ask_is_ephemeral_and_mentions_ping_nobody(
    fake_discord: Any, start_bot: StartBot
) -> None:
    await start_bot()
    interaction = await fake_discord.slash(
        "ask", {"question": "@everyone <@&123> **pytorch uses**", "private": True}
    )
    data = await interaction.answer()
    assert data["flags"] & EPHEMERAL
    assert data["allowed_mentions"] == {"parse": []}
    assert data["embeds"][0]["title"] == "What is PyTorch used for?"


async def test_a_question_it_cannot_answer_is_declined_and_logged(
    fake_discord: Any, start_bot: StartBot, database: Path
) -> None:
    await start_bot()
    interaction = await fake_discord.slash("ask", {"question": "zebra quantum lasagna"})
    data = await interaction.answer()
    assert data["embeds"][0]["title"] == "I don't know that one"
    assert "how ML engineers differ from related roles" in data["embeds"][0]["description"]
    assert declined_questions(database) == ["zebra quantum lasagna"]


async def test_feedback_buttons_work_after_a_restart(
    fake_discord: Any, start_bot: StartBot, database: Path
) -> None:
    first = await start_bot()
    interaction = await fake_discord.slash("ask", {"question": "sklearn uses"})
    await interaction.answer()  # the reply, also after a defer
    message = interaction.message
    await first.close()

    await start_bot()
    [helpful] = [i for i in custom_ids(message) if i.startswith("cb:fb:1:")]
    click = await fake_discord.click(message, helpful)
    reply = await click.response()
    assert reply["data"]["flags"] & EPHEMERAL and "Thanks" in reply["data"]["content"]
    assert votes_given(database) == [("sklearn uses", "scikit-learn", True)]


async def test_not_what_i_meant_offers_the_next_candidates(
    fake_discord: Any, start_bot: StartBot, database: Path
) -> None:
    await start_bot()
    interaction = await fake_discord.slash("ask", {"question": "mle vs ds"})
    await interaction.answer()  # the reply, also after a defer
    [alt] = [i for i in custom_ids(interaction.message) if i.startswith("cb:alt:")]
    reply = await (await fake_discord.click(interaction.message, alt)).response()
    [select] = [c for c in components_of(reply["data"]) if c["custom_id"].startswith("cb:open:")]
    values = [option["value"] for option in select["options"]]
    assert "vs-data-scientist" not in values and values
    assert votes_given(database) == [("mle vs ds", "vs-data-scientist", False)]


async def test_an_uncertain_answer_offers_choices_that_open_an_entry(
    fake_discord: Any, start_bot: StartBot, config: Config, database: Path
) -> None:
    # A band wide enough that every answer is uncertain: the reply is the "did you mean" menu.
    band = dataclasses.replace(
        config.answering, uncertain_from=-1.0, uncertain_below=1.0, uncertain_margin=2.0
    )
    unsure = dataclasses.replace(config, answering=band)
    encoder = FakeEncoder()
    engine, _ = load_engine(unsure, encoder=encoder)
    await start_bot(LiveEngine(unsure, encoder, engine))
    interaction = await fake_discord.slash("ask", {"question": "mle vs ds"})
    data = await interaction.answer()
    assert data["embeds"][0]["title"] == "Not sure: did you mean..."
    assert "How is an ML engineer different from a data scientist?" in data["embeds"][0]["description"]
    assert not [i for i in custom_ids(interaction.message) if i.startswith(("cb:fb:", "cb:alt:"))]
    [select] = [c for c in components_of(interaction.message) if c["custom_id"].startswith("cb:open:")]
    chosen = select["options"][0]["value"]
    assert chosen == "vs-data-scientist" and 2 <= len(select["options"]) <= 3
    reply = await (await fake_discord.select(interaction.message, select["custom_id"], [chosen])).response()
    assert reply["data"]["embeds"][0]["footer"]["text"].endswith(chosen)
    assert declined_questions(database) == ["mle vs ds"], "an uncertain reply is logged as not answered"


async def test_the_related_select_opens_an_entry(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot()
    interaction = await fake_discord.slash("ask", {"question": "sklearn uses"})
    await interaction.answer()  # the reply, also after a defer
    [select] = [c for c in components_of(interaction.message) if c["custom_id"].startswith("cb:open:")]
    chosen = select["options"][0]["value"]
    reply = await (await fake_discord.select(interaction.message, select["custom_id"], [chosen])).response()
    assert reply["data"]["flags"] & EPHEMERAL
    assert reply["data"]["embeds"][0]["footer"]["text"].endswith(chosen)


async def test_faq_autocomplete_and_lookup(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot()
    choices = await fake_discord.autocomplete("faq", {"entry": "sklern"}, focused="entry")
    assert 1 <= len(choices) <= 25
    assert choices[0] == {"name": "What is scikit-learn used for?", "value": "scikit-learn"}
    data = (await (await fake_discord.slash("faq", {"entry": "scikit-learn"})).response())["data"]
    assert data["embeds"][0]["title"] == "What is scikit-learn used for?"


async def test_faq_with_an_unknown_id_says_so_privately(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot()
    data = (await (await fake_discord.slash("faq", {"entry": "zzzz-no-such-entry"})).response())["data"]
    assert data["flags"] & EPHEMERAL and "no entry like that" in data["content"]


async def test_topic_lookups_list_entries(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot()
    data = (await (await fake_discord.slash("duties")).response())["data"]
    assert "What does a typical day look like?" in data["embeds"][0]["description"]
    data = (await (await fake_discord.slash("skills")).response())["data"]
    assert data["embeds"][0]["title"] == "skills: 1 answers"
    assert "How much math does an ML engineer need?" in data["embeds"][0]["description"]
    data = (await (await fake_discord.slash("stack", {"area": "pytorch"})).response())["data"]
    assert data["embeds"][0]["title"] == "What is PyTorch used for?"
    data = (await (await fake_discord.slash("topics", {"topic": "roles"})).response())["data"]
    assert "How is an ML engineer different from a data scientist?" in data["embeds"][0]["description"]


async def test_the_message_menu_answers_the_selected_message(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot()
    target = await fake_discord.post_message("anyone know how much maths for ml I need?")
    data = (await (await fake_discord.context_menu("Ask careerbot", target)).response())["data"]
    assert data["embeds"][0]["title"] == "How much math does an ML engineer need?"
    assert data["flags"] & EPHEMERAL


async def test_a_mention_gets_one_reply_and_bots_get_none(fake_discord: Any, start_bot: StartBot) -> None:
    bot = await start_bot()
    assert bot.user is not None
    asked = await fake_discord.post_message(f"<@{bot.user.id}> mle vs ds?", mentions_bot=True)
    [reply] = await fake_discord.wait_messages(fake_discord.channel_id, count=1)
    assert reply["embeds"][0]["title"] == "How is an ML engineer different from a data scientist?"
    [sent] = [
        r for r in fake_discord.requests if r.path.endswith(f"/channels/{fake_discord.channel_id}/messages")
    ]
    assert sent.json["allowed_mentions"]["parse"] == []
    from_a_bot = await fake_discord.post_message(
        f"<@{bot.user.id}> mle vs ds?", mentions_bot=True, is_bot_author=True
    )
    asked_again = await fake_discord.post_message(f"<@{bot.user.id}> pytorch uses", mentions_bot=True)
    await fake_discord.post_message("pytorch uses", channel_id=fake_discord.help_channel_id)
    [passive] = await fake_discord.wait_messages(fake_discord.help_channel_id, count=1)
    assert passive["embeds"][0]["title"] == "What is PyTorch used for?"
    # The post from a bot came before the member's second mention, so a reply to it would be among the
    # first two replies in the channel: the two are to the members' posts.
    replies = await fake_discord.wait_messages(fake_discord.channel_id, count=2)
    replied_to = [str(r["message_reference"]["message_id"]) for r in replies]
    assert replied_to == [asked["id"], asked_again["id"]]
    assert from_a_bot["id"] not in replied_to


async def test_help_channel_posts_below_the_stricter_threshold_get_no_reply(
    fake_discord: Any, start_bot: StartBot, database: Path
) -> None:
    await start_bot(passive_min_score=0.99)
    await fake_discord.post_message("torch for deep learning please", channel_id=fake_discord.help_channel_id)
    await fake_discord.wait_until(lambda: declined_questions(database) != [], what="the post to be handled")
    assert declined_questions(database) == ["torch for deep learning please"]
    assert [
        r
        for r in fake_discord.requests
        if r.path.endswith(f"/channels/{fake_discord.help_channel_id}/messages")
    ] == []


async def test_cooldown_refuses_privately(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot(cooldown_uses=1, cooldown_seconds=60.0)
    await (await fake_discord.slash("ask", {"question": "sklearn uses"})).answer()
    data = await (await fake_discord.slash("ask", {"question": "pytorch uses"})).answer()
    assert data["flags"] & EPHEMERAL and data["content"].startswith("Easy there")


async def test_an_error_gets_a_private_apology_and_a_logged_traceback(
    fake_discord: Any,
    start_bot: StartBot,
    fail_on_error_logs: ErrorLogCollector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = await start_bot()

    def broken(questions: Any, *args: Any) -> Any:
        raise RuntimeError(f"the index fell over on {questions!r}")  # quoting the member, as errors may

    for method in ("answer", "answer_many"):  # the live engine's answerer, as the bot reads it
        monkeypatch.setattr(bot.answerer, method, broken)
    question = "sklearn uses quokka-7781"
    data = await (await fake_discord.slash("ask", {"question": question})).answer()
    assert data["flags"] & EPHEMERAL and data["content"].startswith("Sorry, something went wrong")
    assert "fell over" not in data["content"]
    [record] = fail_on_error_logs.records
    logged = fail_on_error_logs.format(record)
    assert "command /ask failed: builtins.RuntimeError" in logged and "in broken" in logged
    assert "quokka-7781" not in logged  # an exception's message may quote a member: DEBUG only
    fail_on_error_logs.records.clear()  # expected: the test has checked it


async def test_a_dropped_connection_resumes_and_loses_no_interaction(
    fake_discord: Any, start_bot: StartBot
) -> None:
    await start_bot()
    await fake_discord.drop_connection(close_code=4000)
    interaction = await fake_discord.slash("ask", {"question": "sklearn uses"})
    assert (await interaction.response(timeout=3.0))["data"]["embeds"][0][
        "title"
    ] == "What is scikit-learn used for?"


async def test_a_rate_limit_is_honoured(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot()
    fake_discord.fail_next("POST", r"/interactions/\d+/[^/]+/callback", 429, retry_after=0.2)
    interaction = await fake_discord.slash("ask", {"question": "sklearn uses"})
    assert (await interaction.answer())["embeds"][0]["title"] == "What is scikit-learn used for?"
    callbacks = [r for r in fake_discord.requests if r.path.endswith("/callback")]
    assert len(callbacks) == 2


async def test_a_slow_answer_is_deferred_then_followed_up(
    fake_discord: Any, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start_bot()
    quick = bot.answerer.answer_many

    def slow(*args: Any) -> Any:
        time.sleep(2.3)  # in the worker thread, as a busy model would be
        return quick(*args)

    monkeypatch.setattr(bot.answerer, "answer_many", slow)
    interaction = await fake_discord.slash("ask", {"question": "sklearn uses"})
    assert (await interaction.response(timeout=3.0))["type"] == 5
    [followup] = await interaction.followups(count=1, timeout=5.0)
    assert followup["embeds"][0]["title"] == "What is scikit-learn used for?"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("   ", "Please type a question"),
        ("🤖🔥💯", None),
        ("pytorch uses " + "x" * 3980, None),
        ("**__~~pytorch uses~~__** ||spoiler|| `code` > quote <@!1> <#2> @here", None),
    ],
)
async def test_odd_questions_get_a_sensible_reply(
    fake_discord: Any, start_bot: StartBot, question: str, expected: str | None
) -> None:
    await start_bot()
    data = await (await fake_discord.slash("ask", {"question": question})).answer()
    if expected:
        assert data["flags"] & EPHEMERAL and expected in data["content"]
    else:
        assert data["embeds"] and data["allowed_mentions"] == {"parse": []}
        assert len(data["embeds"][0]["author"]["name"]) <= 256


async def test_topics_page_with_buttons(fake_discord: Any, start_bot: StartBot, config: Config) -> None:
    tools = ["airflow", "kubeflow", "mlflow", "ray", "dask", "spark", "pandas", "numpy", "onnx", "triton"]
    for tool in [*tools, "feast", "optuna"]:
        write_entry(
            config.knowledge.dir,
            f"stack/{tool}",
            f"Where does {tool} fit?",
            [f"{tool}?", f"is {tool} worth learning", f"who uses {tool}"],
            "A tool.",
        )
    engine, _ = load_engine(config, encoder=FakeEncoder())
    await start_bot(LiveEngine(config, FakeEncoder(), engine))
    interaction = await fake_discord.slash("topics", {"topic": "stack"})
    first = await interaction.answer()
    assert first["embeds"][0]["title"] == "stack: 14 answers"
    assert first["embeds"][0]["footer"]["text"].startswith("page 1 of 2")
    [next_id] = [i for i in custom_ids(first) if i.startswith("cb:page:stack:1:")]
    edited = await (await fake_discord.click(interaction.message, next_id)).response()
    assert edited["type"] == 7
    assert edited["data"]["embeds"][0]["footer"]["text"].startswith("page 2 of 2")


async def test_a_button_whose_question_is_gone_says_so(
    fake_discord: Any, start_bot: StartBot, tmp_path: Path
) -> None:
    await start_bot()
    interaction = await fake_discord.slash("ask", {"question": "sklearn uses"})
    await interaction.answer()  # the reply, also after a defer
    with sqlite3.connect(tmp_path / "careerbot.sqlite3") as db:  # as if purged after its retention period
        db.execute("DELETE FROM asked")
    [helpful] = [i for i in custom_ids(interaction.message) if i.startswith("cb:fb:1:")]
    reply = await (await fake_discord.click(interaction.message, helpful)).response()
    assert reply["data"]["flags"] & EPHEMERAL and "can't find that answer" in reply["data"]["content"]


async def test_a_compound_question_gets_a_second_part_that_opens_in_full(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    further = dataclasses.replace(config.answering, further_answers=True, further_min_score=0.6)
    compound = dataclasses.replace(config, answering=further)
    encoder = FakeEncoder()
    engine, _ = load_engine(compound, encoder=encoder)
    await start_bot(LiveEngine(compound, encoder, engine))
    question = "What is PyTorch used for? How much do ML engineers earn?"
    interaction = await fake_discord.slash("ask", {"question": question})
    [embed] = (await interaction.answer())["embeds"]
    assert embed["title"] == "How much do ML engineers earn?"
    assert [f["name"] for f in embed["fields"]][:2] == ["Sources", "Also: What is PyTorch used for?"]
    assert embed["fields"][1]["value"] == "PyTorch builds and trains neural networks.\n- A Test Article"
    [select] = [c for c in components_of(interaction.message) if c["custom_id"].startswith("cb:open:")]
    assert select["options"][0]["value"] == "pytorch"
    reply = await (
        await fake_discord.select(interaction.message, select["custom_id"], ["pytorch"])
    ).response()
    assert reply["data"]["embeds"][0]["description"] == "PyTorch builds and trains neural networks."
