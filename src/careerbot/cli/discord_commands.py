"""`careerbot run` and `careerbot sync`: the Discord bot, started or its commands registered."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from careerbot.cli.wiring import EXIT_FAILED, EXIT_OK, EXIT_USAGE, open_live, recover_store
from careerbot.config import AUTO, Config, ConfigError, DiscordConfig, shard_problem


def shard_id_list(text: str) -> tuple[int, ...]:
    """`--shard-ids 0,1,2`: whole numbers separated by commas (argparse turns the error into exit code 2)."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected shard ids separated by commas, such as 0,1, got {text!r}"
        ) from None


def shard_count(text: str) -> int | str:
    """`--shard-count N`, or "auto" for Discord's recommended count (all shards in this process)."""
    if text == AUTO:
        return AUTO
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a whole number or "auto", got {text!r}') from None


def with_shards(settings: DiscordConfig, args: argparse.Namespace) -> DiscordConfig:
    """bot.toml's sharding with --shard-ids and --shard-count over it, checked together; the message
    names each value as the operator gave it (option or bot.toml key)."""
    ids = settings.shard_ids if args.shard_ids is None else args.shard_ids
    count = settings.shard_count if args.shard_count is None else args.shard_count
    count_from_file = args.shard_count is None and settings.shard_count != 0
    problem = shard_problem(
        ids,
        count,
        "discord.shard_ids" if args.shard_ids is None else "--shard-ids",
        "discord.shard_count" if count_from_file else "--shard-count",
    )
    if problem:
        raise ConfigError(problem)
    return dataclasses.replace(settings, shard_ids=ids, shard_count=count)


def run(args: argparse.Namespace, config: Config) -> int:
    config = dataclasses.replace(config, discord=with_shards(config.discord, args))
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print(
            "careerbot: DISCORD_TOKEN is not set; export the bot's token (or use `careerbot chat`)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from careerbot.bot.runner import StartError, run_bot

    recovered = recover_store(config)  # files it finished are served from the first answer on
    try:
        run_bot(config, open_live(config, check_files=recovered), token)
    except StartError as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def sync(args: argparse.Namespace, config: Config) -> int:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print("careerbot: set DISCORD_TOKEN to sync the commands", file=sys.stderr)
        return EXIT_USAGE
    from careerbot.bot.runner import StartError, sync_commands

    recover_store(config)
    try:
        report = sync_commands(config, open_live(config), token, args.guild)
    except StartError as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    where = f"server {args.guild}" if args.guild else "all servers (may take up to an hour to show)"
    print(f"careerbot: synced {report.commands} commands to {where}")
    if args.guild is None and report.moderation:
        print(f"careerbot: /kb registered in server(s) {', '.join(map(str, report.moderation))}")
    elif args.guild is None and not config.discord.moderation_guilds:
        print("careerbot: /kb is off: discord.moderation_guilds lists no server")
    for server in report.refused:
        print(
            f"careerbot: Discord refused /kb in server {server} (discord.moderation_guilds): "
            "is careerbot in that server, invited with the applications.commands scope?",
            file=sys.stderr,
        )
    return EXIT_FAILED if report.refused else EXIT_OK
