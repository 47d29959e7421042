"""Shards split across `careerbot run` processes, as an operator would start them, against one fake
Discord: every server is served by the process that runs its shard, and only by that one. The fake
encoder stands in for the model (tests.bot.careerbot_on_fake_encoder), so this takes seconds, most of
them discord.py's 5 s pause between two IDENTIFYs of one process."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.fake_discord import FakeDiscord

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.usefixtures("fail_on_error_logs"), pytest.mark.asyncio]
QUESTION = "what is pytorch used for?"


def settings_file(folder: Path, knowledge_dir: Path, fake: FakeDiscord) -> Path:
    """One process's bot.toml: the shared knowledge, its own index and (for now) its own database."""
    folder.mkdir()
    path = folder / "bot.toml"
    path.write_text(
        f'[knowledge]\ndir = "{knowledge_dir}"\n[index]\ndir = "{folder / "index"}"\n'
        f'[storage]\ndatabase = "{folder / "careerbot.sqlite3"}"\n'
        f'[discord]\napi_base = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
    )
    return path


async def careerbot(settings: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bot.careerbot_on_fake_encoder",
        "--config",
        str(settings),
        *args,
        cwd=REPO,
        env={**os.environ, "DISCORD_TOKEN": FakeDiscord.token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def questions_recorded(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as connection:
        return [question for (question,) in connection.execute("SELECT question FROM asked ORDER BY id")]


async def stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.terminate()
    _, err = await asyncio.wait_for(process.communicate(), 30)
    return err.decode()


async def test_two_processes_split_four_shards_and_each_answers_its_own_servers(
    fake_discord: FakeDiscord, knowledge_dir: Path, tmp_path: Path
) -> None:
    servers = {shard: fake_discord.add_server(shard, 4) for shard in range(4)}
    low = settings_file(tmp_path / "low", knowledge_dir, fake_discord)
    high = settings_file(tmp_path / "high", knowledge_dir, fake_discord)
    high.write_text(high.read_text() + "shard_ids = [2, 3]\nshard_count = 4\n")  # bot.toml, or:
    processes = [
        await careerbot(low, "run", "--shard-ids", "0,1", "--shard-count", "4"),
        await careerbot(high, "run"),
    ]
    try:
        await fake_discord.wait_until(
            lambda: (
                len(fake_discord.gateway.identifies) == 4 or any(p.returncode is not None for p in processes)
            ),
            60,
            "4 shards to IDENTIFY",
        )
        assert all(p.returncode is None for p in processes), "a careerbot run process stopped"
        sync = await careerbot(low, "sync")
        _, err = await asyncio.wait_for(sync.communicate(), 60)
        assert sync.returncode == 0, err.decode()
        for shard, (_, channel) in servers.items():
            interaction = await fake_discord.slash(
                "ask", {"question": f"{QUESTION} ({shard})"}, channel_id=channel
            )
            answer = await interaction.answer(timeout=20)
            assert answer["embeds"][0]["title"] == "What is PyTorch used for?"
    finally:
        logs = [await stop(process) for process in processes]
    assert sorted(fake_discord.gateway.shards) == [(0, 4), (1, 4), (2, 4), (3, 4)]
    # Each question was answered, and so recorded, by the process running its server's shard alone.
    assert questions_recorded(tmp_path / "low" / "careerbot.sqlite3") == [
        f"{QUESTION} (0)",
        f"{QUESTION} (1)",
    ]
    assert questions_recorded(tmp_path / "high" / "careerbot.sqlite3") == [
        f"{QUESTION} (2)",
        f"{QUESTION} (3)",
    ]
    assert "running shard(s) 0, 1 of shard_count 4" in logs[0]
    assert "running shard(s) 2, 3 of shard_count 4" in logs[1]


async def test_a_bad_shard_argument_is_refused_before_connecting(
    fake_discord: FakeDiscord, knowledge_dir: Path, tmp_path: Path
) -> None:
    settings = settings_file(tmp_path / "bad", knowledge_dir, fake_discord)
    process = await careerbot(settings, "run", "--shard-ids", "3,4", "--shard-count", "4")
    _, raw = await asyncio.wait_for(process.communicate(), 30)
    err = raw.decode()
    assert process.returncode == 2
    assert err.strip() == "careerbot: --shard-ids: shard id 4 outside 0..3 (--shard-count is 4)"
    assert not fake_discord.gateway.identifies and not fake_discord.requests
