"""Three `careerbot run` processes, as an operator would start them, on one PostgreSQL database and one
fake Discord: shards 0..5 of 6, two per process, each process with its own knowledge and index folder.
A moderator's /kb edit in a server of one process is answered by /ask in the servers of the others; the
same entry edited through two processes is saved once and refused once with the difference; a process
killed with SIGKILL catches up on restart. The fake encoder stands in for the model
(tests.bot.careerbot_on_fake_encoder). Waits are bounded polls, never timing assertions."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.bot.test_discord_bot import custom_ids
from tests.bot.test_moderation import private_reply, shown_values
from tests.fake_discord import FakeDiscord, member, server_admin, user
from tests.postgres import Cluster, execute

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.usefixtures("fail_on_error_logs"), pytest.mark.asyncio]
SHARD_COUNT = 6
SPLIT = {"a": (0, 1), "b": (2, 3), "c": (4, 5)}
MODERATOR = server_admin()  # Manage Server in a server listed in moderation_guilds
MEMBER_IDS = itertools.count(1_300_000_000_000_000_000)
PYTORCH = "PyTorch builds and trains neural networks."


@dataclass
class Process:
    """One `careerbot run` process: its folder (bot.toml, knowledge, index, log) and its shards."""

    name: str
    folder: Path
    shards: tuple[int, ...]
    process: asyncio.subprocess.Process | None = None

    @property
    def settings(self) -> Path:
        return self.folder / "bot.toml"

    @property
    def log(self) -> Path:
        return self.folder / "careerbot.log"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def start(self) -> None:
        self.log.unlink(missing_ok=True)
        self.process = await careerbot(self, "run", "--shard-ids", ",".join(map(str, self.shards)))

    def connected(self) -> bool:
        """Every shard of this process got READY (discord.py logs it), so its servers' events are handled."""
        text = self.log_text()
        return all(f"Shard ID {shard} has connected to Gateway" in text for shard in self.shards)

    def file_text(self, path: str) -> str:
        return (self.folder / "knowledge" / "faq" / path).read_text()

    async def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(how)
        if self.process is not None:
            await asyncio.wait_for(self.process.wait(), 30)


async def careerbot(bot: Process, *args: str) -> asyncio.subprocess.Process:
    """The careerbot command on the fake encoder; its log goes to a file (a pipe nobody reads until the
    end would fill up and block the process)."""
    env = {k: v for k, v in os.environ.items() if k != "CAREERBOT_DATABASE_URL"}
    with bot.log.open("ab") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bot.careerbot_on_fake_encoder",
            "--config",
            str(bot.settings),
            *args,
            cwd=REPO,
            env={**env, "DISCORD_TOKEN": FakeDiscord.token},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )


@dataclass
class Cluster3:
    fake: FakeDiscord
    processes: dict[str, Process]
    channels: dict[int, int]  # shard -> the channel of a server on it
    url: str = ""  # the database's

    def channel_of(self, name: str, which: int = 0) -> int:
        return self.channels[self.processes[name].shards[which]]

    async def until_connected(self, *names: str) -> None:
        started = [self.processes[name] for name in names]
        await self.fake.wait_until(
            lambda: all(p.connected() for p in started) or any(exited(p) for p in started),
            90,
            f"the shards of {', '.join(names)} to connect",
        )
        for process in started:
            assert not exited(process), f"careerbot run {process.name} stopped:\n{process.log_text()}"


def exited(process: Process) -> bool:
    return process.process is None or process.process.returncode is not None


@pytest_asyncio.fixture
async def three(
    fake_discord: FakeDiscord, postgres: Cluster, knowledge_dir: Path, tmp_path: Path
) -> AsyncIterator[Cluster3]:
    url = postgres.new_database()
    servers = {shard: fake_discord.add_server(shard, SHARD_COUNT) for shard in range(SHARD_COUNT)}
    moderation = [servers[SPLIT["a"][0]][0], servers[SPLIT["b"][0]][0]]  # servers of a and of b
    processes = {}
    for name, shards in SPLIT.items():
        folder = tmp_path / name
        shutil.copytree(knowledge_dir, folder / "knowledge")
        (folder / "bot.toml").write_text(
            f'[knowledge]\ndir = "knowledge"\n[index]\ndir = "index"\n[storage]\ndatabase = "{url}"\n'
            f'[discord]\napi_base = "{fake_discord.api_base}"\ngateway_url = "{fake_discord.gateway_url}"\n'
            f"shard_count = {SHARD_COUNT}\nmoderation_guilds = {moderation}\n"
        )
        processes[name] = Process(name, folder, shards)
    channels = {shard: channel for shard, (_, channel) in servers.items()}
    cluster = Cluster3(fake_discord, processes, channels, url)
    try:
        for process in processes.values():
            await process.start()
        await cluster.until_connected(*processes)
        sync = await careerbot(processes["a"], "sync")  # registers the commands, once for the whole bot
        assert await asyncio.wait_for(sync.wait(), 60) == 0, processes["a"].log_text()
        yield cluster
    finally:
        for process in processes.values():
            await process.stop()
    assert sorted(set(fake_discord.gateway.shards)) == [(shard, SHARD_COUNT) for shard in range(6)]


async def ask(fake: FakeDiscord, channel: int, question: str) -> dict[str, Any]:
    asker = member(user(next(MEMBER_IDS), "member"))  # a member each time: polling is not rate limited
    interaction = await fake.slash("ask", {"question": question}, user=asker, channel_id=channel)
    answer = await interaction.answer(timeout=30)
    assert answer.get("embeds"), f"not an answer: {answer}"
    embed: dict[str, Any] = answer["embeds"][0]
    return embed


async def until_answered(fake: FakeDiscord, channel: int, question: str, expected: str) -> None:
    """Asks in that channel's server until the answer is `expected` (bounded: the goal is 2 s; 30 s of
    slack for a busy machine)."""
    deadline = time.monotonic() + 30
    while (answer := (await ask(fake, channel, question))["description"]) != expected:
        assert time.monotonic() < deadline, f"still answered {answer!r} in channel {channel}"
        await asyncio.sleep(0.1)


VOTES = "SELECT a.question, f.answer_id, f.helpful FROM feedback f JOIN asked a ON a.id = f.asked_id"


async def vote_helpful(fake: FakeDiscord, channel: int, question: str) -> None:
    """/ask, then a click on the answer's Helpful button."""
    asker = member(user(next(MEMBER_IDS), "member"))
    interaction = await fake.slash("ask", {"question": question}, user=asker, channel_id=channel)
    await interaction.answer(timeout=30)
    [helpful] = [i for i in custom_ids(interaction.message) if i.startswith("cb:fb:1:")]
    click = await fake.click(interaction.message, helpful, user=asker)
    assert "Thanks" in (await click.response(timeout=30))["data"]["content"]


async def open_edit(fake: FakeDiscord, channel: int, entry: str) -> dict[str, Any]:
    """/kb edit in that server: the form, opened with the entry's current version."""
    interaction = await fake.slash(
        "kb", {"entry": entry}, subcommand="edit", user=MODERATOR, channel_id=channel
    )
    response = await interaction.response(timeout=30)
    assert response["type"] == 9, response
    modal: dict[str, Any] = response["data"]
    return modal


async def save(fake: FakeDiscord, channel: int, modal: dict[str, Any], answer: str) -> str:
    """Submits the form with a new answer; what the moderator reads back."""
    fields = {**shown_values(modal), "answer": answer}
    submitted = await fake.submit_modal(modal["custom_id"], fields, user=MODERATOR, channel_id=channel)
    reply = await asyncio.wait_for(private_reply(submitted), 60)
    return str(reply["content"])


async def edit(fake: FakeDiscord, channel: int, entry: str, answer: str) -> str:
    """/kb edit, then the form saved with a new answer: what the moderator reads back (the refusal to
    open the form, if it is refused)."""
    interaction = await fake.slash(
        "kb", {"entry": entry}, subcommand="edit", user=MODERATOR, channel_id=channel
    )
    if (await interaction.response(timeout=30))["type"] != 9:
        return str((await private_reply(interaction))["content"])
    return await save(fake, channel, (await interaction.response())["data"], answer)


async def test_an_edit_in_one_process_is_answered_by_the_others_and_a_conflict_is_refused(
    three: Cluster3,
) -> None:
    fake = three.fake
    a, b = three.channel_of("a"), three.channel_of("b")
    assert (await ask(fake, three.channel_of("c"), "pytorch uses"))["description"] == PYTORCH

    edited = "PyTorch, edited through process a."
    reply = await edit(fake, a, "pytorch", edited)
    assert reply.startswith("Saved `pytorch` as revision #1"), reply
    for name in ("b", "c"):
        for which in (0, 1):
            await until_answered(fake, three.channel_of(name, which), "pytorch uses", edited)
    for process in three.processes.values():
        assert edited in process.file_text("stack/pytorch.yaml")

    # Two moderators open the same entry through a and b, both before either saves: the database keeps
    # the first save and refuses the second, showing what changed meanwhile.
    form_a, form_b = await open_edit(fake, a, "scikit-learn"), await open_edit(fake, b, "scikit-learn")
    first = await save(fake, a, form_a, "From a.")
    second = await save(fake, b, form_b, "From b.")
    assert first.startswith("Saved `scikit-learn` as revision #2"), first
    assert second.startswith("Not saved: the entry changed since you opened it."), second
    assert "+answer: From a." in second
    for name in ("a", "b", "c"):
        await until_answered(fake, three.channel_of(name), "sklearn uses", "From a.")
        assert "From b." not in three.processes[name].file_text("stack/scikit-learn.yaml")


async def test_a_process_killed_and_restarted_catches_up_on_an_edit_made_meanwhile(
    three: Cluster3,
) -> None:
    fake, b = three.fake, three.processes["b"]
    await b.stop(signal.SIGKILL)
    assert b.process is not None and b.process.returncode == -signal.SIGKILL
    a = three.channel_of("a")
    edited = "Edited while b was dead."
    reply = await edit(fake, a, "math-needed", edited)
    assert reply.startswith("Saved `math-needed`"), reply
    await until_answered(fake, three.channel_of("c"), "maths for ml", edited)
    assert edited not in b.file_text("skills/math-needed.yaml")

    await b.start()  # the same folder and shards
    await three.until_connected("b")
    # Caught up at start-up: its very first answer, in both its servers, is the edit.
    for which in (0, 1):
        answer = await ask(fake, three.channel_of("b", which), "maths for ml")
        assert answer["description"] == edited
    assert edited in b.file_text("skills/math-needed.yaml")
    log = b.log_text()
    assert "careerbot: applied 1 change(s) made by other processes" in log  # before its knowledge loaded
    assert "running shard(s) 2, 3 of shard_count 6" in log


async def test_database_restarted_members_still_answered_edits_refused_then_working_everywhere(
    three: Cluster3, postgres: Cluster
) -> None:
    fake, a = three.fake, three.channel_of("a")
    form = await open_edit(fake, a, "typical-day")  # opened while the database is up
    postgres.stop()
    try:
        for name in ("a", "b", "c"):  # answered; the question is kept until the database is back
            answer = await ask(fake, three.channel_of(name), "day in the life")
            assert answer["title"] == "What does a typical day look like?"
        await vote_helpful(fake, three.channel_of("b"), "pytorch uses")  # the buttons work meanwhile
        refused = await save(fake, a, form, "Edited while the database was down.")
        assert refused.endswith("nothing was changed. Try again once the database is back."), refused
    finally:
        postgres.start()
    back = time.time()  # what was asked before it, the processes wrote with its own time
    for process in three.processes.values():
        assert "Edited while the database was down." not in process.file_text("duties/typical-day.yaml")

    edited = "Edited once the database was back."
    deadline = time.monotonic() + 60  # the pool reconnects by itself within about 5 s
    while not (reply := await edit(fake, a, "typical-day", edited)).startswith("Saved `typical-day`"):
        assert "Try again once the database is back." in reply and time.monotonic() < deadline, reply
        await asyncio.sleep(0.2)
    for name in ("a", "b", "c"):
        await until_answered(fake, three.channel_of(name), "day in the life", edited)
        assert edited in three.processes[name].file_text("duties/typical-day.yaml")
    # nothing asked or voted while the database was down is lost, nor written twice
    kept = "SELECT question, COUNT(*) FROM asked WHERE asked_at < ? GROUP BY question ORDER BY 1"
    assert execute(three.url, kept, (back,)) == [("day in the life", 3), ("pytorch uses", 1)]
    assert execute(three.url, VOTES) == [("pytorch uses", "pytorch", 1)]
