# ruff: noqa: F811  # pytest fixtures imported from the plugin are, by design, redefined as parameters
"""The fake Discord, proven against a tiny discord.py bot that talks to it over its real network stack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio
import yarl
from discord import app_commands
from discord.ext import commands

from tests.fake_discord import FakeDiscord, moderator
from tests.fake_discord import builders as b
from tests.fake_discord.plugin import ErrorLogCollector, fail_on_error_logs, fake_discord  # noqa: F401

pytestmark = pytest.mark.usefixtures("fail_on_error_logs")
TOPICS = ["duties", "skills", "stack"]


class PingView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Again", custom_id="ping:again")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content="pong again", view=None)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(label="What was missing?", custom_id="fb:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class TinyBot(commands.Bot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before every IDENTIFY but the first; nothing to wait for here."""


class ShardedTinyBot(TinyBot, commands.AutoShardedBot):
    pass


def make_bot(kind: type[TinyBot] = TinyBot, **options: Any) -> TinyBot:
    intents = discord.Intents.default()
    intents.message_content = True
    bot = kind(
        command_prefix="!", intents=intents, chunk_guilds_at_startup=False, guild_ready_timeout=0, **options
    )

    @bot.tree.command(description="Pong, with an embed and a button")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=discord.Embed(title="pong"), view=PingView())

    @bot.tree.command(description="Thinks, then answers")
    async def slow(interaction: discord.Interaction, seconds: float = 0.0) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done")

    @bot.tree.command(description="Answers too late")
    async def late(interaction: discord.Interaction, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await interaction.response.send_message("too late")

    @bot.tree.command(description="Raises")
    async def broken(interaction: discord.Interaction) -> None:
        raise RuntimeError("broken on purpose")

    async def topic_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t.title(), value=t) for t in TOPICS if t.startswith(current)]

    @bot.tree.command(description="Read a topic")
    @app_commands.autocomplete(name=topic_choices)
    async def topic(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"topic {name}")

    @bot.tree.command(description="Tell us what was missing")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @bot.tree.context_menu(name="Quote")
    async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"> {message.content}")

    @bot.listen()
    async def on_message(message: discord.Message) -> None:
        if not message.author.bot and bot.user in message.mentions:
            await message.channel.send(
                f"hello {message.author.mention}", allowed_mentions=discord.AllowedMentions.none()
            )

    return bot


def point_at(fake: FakeDiscord) -> None:
    """As the bot does from its settings (careerbot.bot.client.point_at); the fixture restores both."""
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)


@pytest_asyncio.fixture
async def bot(fake_discord: FakeDiscord) -> AsyncIterator[TinyBot]:
    point_at(fake_discord)
    bot = make_bot()
    await bot.login(fake_discord.token)
    running = asyncio.create_task(bot.connect())
    await fake_discord.wait_identified()
    await asyncio.wait_for(bot.wait_until_ready(), 5)
    await bot.tree.sync()
    yield bot
    await bot.close()
    await running


@pytest_asyncio.fixture
async def start_sharded(fake_discord: FakeDiscord) -> AsyncIterator[Any]:
    """Starts AutoShardedBots running `shard_ids` of `shard_count`; closes them after the test."""
    point_at(fake_discord)
    running: list[tuple[TinyBot, asyncio.Task[None]]] = []

    async def start(shard_ids: list[int], shard_count: int) -> TinyBot:
        bot = make_bot(ShardedTinyBot, shard_ids=shard_ids, shard_count=shard_count)
        await bot.login(fake_discord.token)
        running.append((bot, asyncio.create_task(bot.connect())))
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        return bot

    yield start
    for bot, task in running:
        await bot.close()
        await task


@pytest.mark.asyncio
async def test_each_server_goes_to_the_shard_discord_routes_it_to(
    fake_discord: FakeDiscord, start_sharded: Any
) -> None:
    """Two sharded clients split 4 shards; each server's READY, GUILD_CREATE and interactions reach only
    the connection of shard (server id >> 22) % 4, as on Discord."""
    servers = {shard: fake_discord.add_server(shard, 4) for shard in range(4)}
    low, high = await start_sharded([0, 1], 4), await start_sharded([2, 3], 4)
    assert sorted(fake_discord.gateway.shards) == [(0, 4), (1, 4), (2, 4), (3, 4)]
    assert {g.id for g in low.guilds} == {servers[0][0], servers[1][0]}
    # The fixed test servers both fall on shard 3 ((id >> 22) % 4 == 3).
    assert {g.id for g in high.guilds} == {
        servers[2][0],
        servers[3][0],
        fake_discord.guild_id,
        b.OTHER_GUILD_ID,
    }
    assert {g.id: g.shard_id for g in [*low.guilds, *high.guilds]} == {
        servers[0][0]: 0,
        servers[1][0]: 1,
        servers[2][0]: 2,
        servers[3][0]: 3,
        fake_discord.guild_id: 3,
        b.OTHER_GUILD_ID: 3,
    }
    await high.tree.sync()
    for shard, (_, channel) in servers.items():
        before = len(fake_discord.gateway.delivered)
        interaction = await fake_discord.slash("ping", channel_id=channel)
        assert (await interaction.response())["type"] == 4
        assert fake_discord.gateway.delivered[before:] == [("INTERACTION_CREATE", (shard, 4))]


@pytest.mark.asyncio
async def test_a_server_whose_shard_nobody_runs_gets_no_events(
    fake_discord: FakeDiscord, start_sharded: Any
) -> None:
    _, lonely_channel = fake_discord.add_server(2, 4)
    bot = await start_sharded([0, 1], 4)
    await bot.tree.sync()
    interaction = await fake_discord.slash("ping", channel_id=lonely_channel)
    assert (
        await fake_discord.gateway.dispatch("TYPING_START", {"guild_id": str(b.guild_of(lonely_channel))})
        == 0
    )
    assert ("INTERACTION_CREATE", (2, 4)) not in fake_discord.gateway.delivered
    assert interaction.callback is None  # nobody was sent it, so nobody could answer


@pytest.mark.asyncio
async def test_an_identify_for_a_shard_outside_the_count_is_closed_with_4010(
    fake_discord: FakeDiscord,
) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(fake_discord.gateway_url) as ws:
        assert (await ws.receive_json())["op"] == 10  # HELLO
        await ws.send_json({"op": 2, "d": {"token": fake_discord.token, "intents": 0, "shard": [4, 4]}})
        await ws.receive()
        assert ws.close_code == 4010
    assert not fake_discord.gateway.identifies and not fake_discord.gateway.sessions


@pytest.mark.asyncio
async def test_login_connect_and_sync(bot: TinyBot, fake_discord: FakeDiscord) -> None:
    assert bot.user is not None and bot.user.id == fake_discord.bot_user_id
    assert bot.application_id == fake_discord.application_id
    guild = bot.get_guild(fake_discord.guild_id)
    assert guild is not None and guild.get_channel(fake_discord.help_channel_id) is not None
    assert {c["name"] for c in fake_discord.synced_payloads[None]} >= {"ping", "topic", "Quote"}
    bot.tree.copy_global_to(guild=guild)
    synced = await bot.tree.sync(guild=guild)
    assert all(c.guild_id == guild.id for c in synced)
    # The command is now a guild command too; the interaction says so and discord.py finds it there.
    interaction = await fake_discord.slash("ping")
    assert interaction.payload["data"]["guild_id"] == str(guild.id)
    assert (await interaction.response())["type"] == 4
    sent_json = [r.headers["Content-Type"] for r in fake_discord.requests if r.json is not None]
    assert sent_json and set(sent_json) == {"application/json"}


@pytest.mark.asyncio
async def test_slash_embed_then_button_edits_the_message(bot: TinyBot, fake_discord: FakeDiscord) -> None:
    interaction = await fake_discord.slash("ping", user=moderator())
    response = await interaction.response()
    assert response["type"] == 4 and response["data"]["embeds"][0]["title"] == "pong"
    assert interaction.message is not None
    click = await fake_discord.click(interaction.message, "ping:again")
    assert (await click.response())["type"] == 7
    edited = await click.original()
    assert edited["id"] == interaction.message["id"]
    assert edited["content"] == "pong again" and edited["components"] == []


@pytest.mark.asyncio
async def test_deferred_then_followup_becomes_the_reply(bot: TinyBot, fake_discord: FakeDiscord) -> None:
    interaction = await fake_discord.slash("slow", {"seconds": 0.0})
    assert interaction.payload["data"]["options"] == [{"name": "seconds", "type": 10, "value": 0.0}]
    assert (await interaction.response())["type"] == 5
    assert (await interaction.followups())[0]["content"] == "done"
    original = await interaction.original()
    assert original["content"] == "done" and not original["flags"] & 128  # no longer "thinking"


@pytest.mark.asyncio
async def test_autocomplete_returns_the_choices(bot: TinyBot, fake_discord: FakeDiscord) -> None:
    choices = await fake_discord.autocomplete("topic", {"name": "s"}, focused="name")
    assert choices == [{"name": "Skills", "value": "skills"}, {"name": "Stack", "value": "stack"}]


@pytest.mark.asyncio
async def test_modal_submit(bot: TinyBot, fake_discord: FakeDiscord) -> None:
    shown = await (await fake_discord.slash("feedback")).response()
    assert shown["type"] == 9
    submit = await fake_discord.submit_modal(shown["data"]["custom_id"], {"fb:text": "salaries"})
    reply = await submit.response()
    assert reply["data"]["content"] == "thanks: salaries" and reply["data"]["flags"] == 64


@pytest.mark.asyncio
async def test_message_context_menu(bot: TinyBot, fake_discord: FakeDiscord) -> None:
    target = await fake_discord.post_message("what do MLEs do all day?")
    interaction = await fake_discord.context_menu("Quote", target)
    assert (await interaction.response())["data"]["content"] == "> what do MLEs do all day?"


@pytest.mark.asyncio
async def test_message_create_reply_with_allowed_mentions(bot: TinyBot, fake_discord: FakeDiscord) -> None:
    await fake_discord.post_message("hi", mentions_bot=True, channel_id=fake_discord.help_channel_id)
    await fake_discord.post_message("ignored", mentions_bot=True, is_bot_author=True)
    [reply] = await fake_discord.wait_messages(fake_discord.help_channel_id)
    assert reply["content"].startswith("hello <@")
    sent = next(r for r in fake_discord.requests if r.path.endswith("/messages") and r.method == "POST")
    assert sent.json["allowed_mentions"] == {"parse": []}
    assert fake_discord.channel_messages.get(fake_discord.channel_id, []) == []


@pytest.mark.asyncio
async def test_resume_replays_what_was_missed(bot: TinyBot, fake_discord: FakeDiscord) -> None:
    await fake_discord.drop_connection()
    interaction = await fake_discord.slash("ping")  # dispatched while the bot is disconnected
    assert (await interaction.response())["type"] == 4
    assert fake_discord.gateway.resumes == 1 and fake_discord.gateway.replayed >= 1
    assert len(fake_discord.gateway.identifies) == 1


@pytest.mark.asyncio
async def test_rate_limited_callback_is_retried(bot: TinyBot, fake_discord: FakeDiscord) -> None:
    fake_discord.fail_next("POST", r"^/interactions/\d+/[^/]+/callback$", 429, retry_after=0.2)
    interaction = await fake_discord.slash("ping")
    assert (await interaction.response())["type"] == 4
    calls = [r for r in fake_discord.requests if r.path.endswith("/callback")]
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 0.2


@pytest.mark.asyncio
async def test_late_acknowledgement_is_refused(
    bot: TinyBot,
    fake_discord: FakeDiscord,
    fail_on_error_logs: ErrorLogCollector,
) -> None:
    fake_discord.ack_deadline = 0.1  # Discord's 3 s, shortened to keep the test fast
    await fake_discord.slash("late", {"seconds": 0.2})
    await fake_discord.wait_until(lambda: bool(fake_discord.violations), what="the late callback")
    assert "Discord allows 0.1s" in fake_discord.violations[0]
    calls = [r for r in fake_discord.requests if r.path.endswith("/callback")]
    assert calls[0].status == 404
    await fake_discord.wait_until(lambda: bool(fail_on_error_logs.records), what="discord.py's error log")
    assert "10062" in str(fail_on_error_logs.records[0].exc_info)
    fake_discord.violations.clear()
    fail_on_error_logs.records.clear()


@pytest.mark.asyncio
async def test_double_ack_wrong_content_type_and_unknown_route(
    bot: TinyBot, fake_discord: FakeDiscord
) -> None:
    interaction = await fake_discord.slash("ping")
    await interaction.response()
    callback = f"{fake_discord.api_base}/interactions/{interaction.id}/{interaction.token}/callback"
    async with aiohttp.ClientSession() as session:
        async with session.post(callback, json={"type": 4, "data": {"content": "again"}}) as again:
            assert again.status == 400 and again.headers["Content-Type"] == "application/json"
            assert (await again.json())["code"] == 40060
        async with session.post(callback, data='{"type": 4}', headers={"Content-Type": "text/plain"}) as raw:
            assert raw.status == 400
        async with session.get(f"{fake_discord.api_base}/guilds/1/bans") as unknown:
            assert unknown.status == 404 and "message" in await unknown.json()
    assert len(fake_discord.violations) == 3
    assert "not application/json" in fake_discord.violations[1]
    fake_discord.violations.clear()


@pytest.mark.asyncio
async def test_exceptions_in_commands_are_caught_as_error_logs(
    bot: TinyBot,
    fake_discord: FakeDiscord,
    fail_on_error_logs: ErrorLogCollector,
) -> None:
    await fake_discord.slash("broken")
    await fake_discord.wait_until(lambda: bool(fail_on_error_logs.records), what="an error log")
    assert "broken" in fail_on_error_logs.records[0].getMessage()
    fail_on_error_logs.records.clear()


def test_error_log_collector_fails_the_test() -> None:
    collector = ErrorLogCollector()
    logger = logging.getLogger("tests.fake_discord.demo")
    logger.addHandler(collector)
    logger.propagate = False  # the "boom" is for this collector, not for this test's own fixture
    try:
        logger.warning("only a warning")
        collector.check()
        logger.error("boom")
        with pytest.raises(pytest.fail.Exception, match="boom"):
            collector.check()
    finally:
        logger.removeHandler(collector)
        logger.propagate = True
