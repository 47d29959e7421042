"""`careerbot run` and `careerbot sync`: the Discord bot, started or its commands registered."""

from __future__ import annotations

import argparse
import os
import sys

from careerbot.cli.wiring import EXIT_FAILED, EXIT_OK, EXIT_USAGE, open_live, recover_store
from careerbot.config import Config


def run(args: argparse.Namespace, config: Config) -> int:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print(
            "careerbot: DISCORD_TOKEN is not set; export the bot's token (or use `careerbot chat`)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from careerbot.bot.runner import StartError, run_bot

    recover_store(config)
    try:
        run_bot(config, open_live(config), token)
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
