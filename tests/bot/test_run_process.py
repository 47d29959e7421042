"""`careerbot run` as a separate process, pointed at the fake Discord by bot.toml, as an outside tester
would start it. Uses the real model and the shipped knowledge. Its index folder starts empty, so the
first start exports the model to ONNX and embeds the knowledge: about 55 s on an idle 2-core machine,
hence the long waits (they bound a hang; they are not a speed check)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRST_START = 300  # seconds
pytestmark = [pytest.mark.model, pytest.mark.asyncio]


def settings_file(tmp_path: Path, fake: Any) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(
        f'[knowledge]\ndir = "{REPO / "knowledge"}"\n'
        f'[index]\ndir = "{tmp_path / "index"}"\n'
        f'[storage]\ndatabase = "{tmp_path / "careerbot.sqlite3"}"\n'
        f'[discord]\napi_base = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
        f"moderation_guilds = [{fake.guild_id}]\n"
    )
    return path


async def start(tmp_path: Path, fake: Any, token: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "careerbot",
        "run",
        "--config",  # after the command: `careerbot --config FILE run` works too (sync below)
        str(settings_file(tmp_path, fake)),
        env={**os.environ, "DISCORD_TOKEN": token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_run_answers_ask_through_a_discord_compatible_server(fake_discord: Any, tmp_path: Path) -> None:
    process = await start(tmp_path, fake_discord, fake_discord.token)
    try:
        await fake_discord.wait_identified(timeout=FIRST_START)
        # Commands are synced on request (careerbot sync), so register them the way sync would.
        sync = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "careerbot",
            "--config",
            str(tmp_path / "bot.toml"),
            "sync",
            env={**os.environ, "DISCORD_TOKEN": fake_discord.token},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(sync.communicate(), 60)
        assert sync.returncode == 0, err.decode()
        assert "synced 8 commands" in out.decode()
        assert f"/kb registered in server(s) {fake_discord.guild_id}" in out.decode()
        interaction = await fake_discord.slash("ask", {"question": "is scikit-learn still worth learning?"})
        data = await interaction.answer(timeout=30)  # the first answer may be deferred on a busy machine
        assert data["embeds"][0]["title"] == "What is scikit-learn used for?"
        assert data["allowed_mentions"] == {"parse": []}
    finally:
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert fake_discord.token not in err.decode()


async def test_a_rejected_token_is_one_clear_line_and_a_failure(fake_discord: Any, tmp_path: Path) -> None:
    process = await start(tmp_path, fake_discord, "not-the-token")
    _, err = await asyncio.wait_for(process.communicate(), FIRST_START)
    assert process.returncode == 1
    assert "careerbot: Discord rejected the token in DISCORD_TOKEN" in err.decode()
    assert "not-the-token" not in err.decode()
    assert "Traceback" not in err.decode()
