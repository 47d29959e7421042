"""Sharding settings: bot.toml's discord.shard_ids / shard_count, `careerbot run --shard-ids --shard-count`,
older bot.toml files, and what create_bot makes of them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from careerbot import cli
from careerbot.bot.client import shard_options
from careerbot.cli.discord_commands import with_shards
from careerbot.config import ConfigError, DiscordConfig, load_config
from tests.bot.conftest import StartBot
from tests.fake_discord import FakeDiscord


def settings(tmp_path: Path, discord: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(f'[storage]\ndatabase = "{tmp_path / "db.sqlite3"}"\n[discord]\n{discord}\n')
    return path


def test_shard_ids_and_count_from_bot_toml(tmp_path: Path) -> None:
    config = load_config(settings(tmp_path, "shard_ids = [2, 3]\nshard_count = 4"))
    assert (config.discord.shard_ids, config.discord.shard_count) == ((2, 3), 4)
    assert shard_options(config.discord) == {"shard_count": 4, "shard_ids": [2, 3]}


def test_no_sharding_all_shards_here_or_discords_count(tmp_path: Path) -> None:
    assert shard_options(load_config(settings(tmp_path, "")).discord) is None
    all_here = load_config(settings(tmp_path, "shard_count = 3")).discord
    assert shard_options(all_here) == {"shard_count": 3, "shard_ids": None}
    auto = load_config(settings(tmp_path, 'shard_count = "auto"')).discord
    assert shard_options(auto) == {"shard_count": None}


@pytest.mark.parametrize(
    ("old", "count"),
    [
        ("sharded = false\nshard_count = 0", 0),
        ("sharded = false\nshard_count = 8", 0),  # shard_count was ignored unless sharded
        ("sharded = true\nshard_count = 0", "auto"),  # 0 asked Discord for its count
        ("sharded = true\nshard_count = 6", 6),
    ],
)
def test_older_sharded_setting_still_means_what_it_did(tmp_path: Path, old: str, count: int | str) -> None:
    discord = load_config(settings(tmp_path, old)).discord
    assert (discord.shard_count, discord.shard_ids) == (count, ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shard_ids = [0, 1]", "discord.shard_ids needs discord.shard_count"),
        ("shard_ids = [0, 4]\nshard_count = 4", "shard id 4 outside 0..3 (discord.shard_count is 4)"),
        ("shard_ids = [1, 1]\nshard_count = 4", "discord.shard_ids lists shard 1 more than once"),
        ('shard_ids = [0]\nshard_count = "auto"', 'needs a fixed discord.shard_count, not "auto"'),
        ('shard_count = "many"', 'discord.shard_count must be a whole number or "auto"'),
        ("shard_count = -1", "discord.shard_count must be between 0 and 100000"),
        ("sharded = true\nshard_ids = [0]\nshard_count = 2", "discord.sharded is the older setting"),
    ],
)
def test_bad_sharding_in_bot_toml_names_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = settings(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert message in str(refused.value) and str(path) in str(refused.value)


def test_the_older_key_is_known_only_in_discord(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text("[model]\nsharded = true\n")
    with pytest.raises(ConfigError, match=r"unknown key model\.sharded"):
        load_config(path)


def options(shard_ids: tuple[int, ...] | None, shard_count: int | None) -> argparse.Namespace:
    return argparse.Namespace(shard_ids=shard_ids, shard_count=shard_count)


def test_the_command_line_overrides_bot_toml() -> None:
    from_file = DiscordConfig(shard_ids=(0, 1), shard_count=4)
    assert with_shards(from_file, options((2, 3), None)).shard_ids == (2, 3)
    assert with_shards(from_file, options(None, None)) == from_file
    moved = with_shards(DiscordConfig(), options((0, 1, 2), 6))
    assert (moved.shard_ids, moved.shard_count) == ((0, 1, 2), 6)
    with pytest.raises(
        ConfigError, match=r"--shard-ids: shard id 5 outside 0\.\.3 \(discord.shard_count is 4\)"
    ):
        with_shards(from_file, options((5,), None))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--shard-ids", "0,1"], "--shard-ids needs --shard-count"),
        (["--shard-ids", "0,4", "--shard-count", "4"], "--shard-ids: shard id 4 outside 0..3"),
        (["--shard-ids", "2,2", "--shard-count", "4"], "--shard-ids lists shard 2 more than once"),
        (["--shard-ids", "0,one", "--shard-count", "4"], "expected shard ids separated by commas"),
        (["--shard-count", "x"], "expected a whole number or \"auto\", got 'x'"),
        (
            ["--shard-ids", "0", "--shard-count", "auto"],
            '--shard-ids needs a fixed --shard-count, not "auto"',
        ),
        (["--shard-count", "-2"], "--shard-count must be between 0 and 100000"),
    ],
)
def test_bad_shard_arguments_exit_2_before_anything_starts(
    tmp_path: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused even with no DISCORD_TOKEN and no knowledge: the arguments are checked first."""
    path = settings(tmp_path, "")
    try:
        code = cli.main(["run", "--config", str(path), *argv])
    except SystemExit as exit:  # argparse's own refusals
        code = int(exit.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "db.sqlite3").exists()


@pytest.mark.usefixtures("fail_on_error_logs")
@pytest.mark.asyncio
async def test_the_bot_runs_only_its_own_shards(fake_discord: FakeDiscord, start_bot: StartBot) -> None:
    """The test servers fall on shard 3 of 4: a bot running only shard 3 answers there."""
    elsewhere = fake_discord.add_server(0, 4)[0]
    bot = await start_bot(shard_ids=(3,), shard_count=4)
    assert fake_discord.gateway.shards == [(3, 4)]
    assert {g.id for g in bot.guilds} == {fake_discord.guild_id, fake_discord.other_guild_id}
    assert elsewhere not in {g.id for g in bot.guilds}
    interaction = await fake_discord.slash("ask", {"question": "pytorch uses"})
    assert (await interaction.answer())["embeds"][0]["title"] == "What is PyTorch used for?"


@pytest.mark.usefixtures("fail_on_error_logs")
@pytest.mark.asyncio
async def test_auto_takes_discords_recommended_count(fake_discord: FakeDiscord, start_bot: StartBot) -> None:
    fake_discord.recommended_shards = 2
    await start_bot(shard_count="auto")
    assert sorted(fake_discord.gateway.shards) == [(0, 2), (1, 2)]
    interaction = await fake_discord.slash("ask", {"question": "pytorch uses"})
    assert (await interaction.answer())["embeds"][0]["title"] == "What is PyTorch used for?"
