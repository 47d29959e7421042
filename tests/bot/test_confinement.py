"""/kb is confined: ids from Discord name live entries or nothing is touched, and only moderators of the
servers in `discord.moderation_guilds` get anywhere, whatever they replay. Through the fake Discord."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from careerbot.bot.runner import sync_tree
from careerbot.config import Config
from tests.bot.conftest import StartBot
from tests.fake_discord import moderator, server_admin

pytestmark = [pytest.mark.usefixtures("fail_on_error_logs"), pytest.mark.asyncio]
EPHEMERAL = 64
REFUSAL = "Only moderators can change what careerbot knows."


@pytest.fixture
def bait(tmp_path: Path, knowledge_dir: Path) -> dict[str, Path]:
    """Files a path-like id could reach: the eval file beside faq/, and a .yaml outside the project."""
    eval_file = knowledge_dir / "eval.yaml"
    eval_file.write_text("# labelled questions\ncases: []\n")
    outside = tmp_path / "elsewhere" / "precious.yaml"
    outside.parent.mkdir()
    outside.write_text("keep: me\n")
    return {"eval": eval_file, "outside": outside}


def fingerprint(root: Path) -> dict[str, str]:
    """Every file under `root` with a digest of its content."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and "index" not in path.parts
        and path.suffix != ".sqlite3"
        and not path.name.startswith("careerbot.sqlite3")
    }


def bad_ids(bait: dict[str, Path]) -> list[str]:
    return [
        str(bait["outside"].with_suffix("")),  # absolute: /tmp/.../elsewhere/precious
        "../../eval",
        "../../../elsewhere/precious",
        "..%2F..%2Feval",
        "..\\..\\eval",
        "%2e%2e/%2e%2e/eval",
        "pytorch\x00",
        "pytorch\n",  # `$` matches before a final newline
        "a" * 5000,
        "a-test-article/what-the-job-involves",  # an article passage, not an entry
        "PyTorch",
        "@everyone <@112233445566778899>",
    ]


@pytest.mark.parametrize("command", ["show", "edit", "remove", "history"])
async def test_ids_that_name_no_entry_are_refused_and_touch_nothing(
    fake_discord: Any, start_bot: StartBot, bait: dict[str, Path], tmp_path: Path, command: str
) -> None:
    await start_bot()
    before = fingerprint(tmp_path)
    for entry_id in bad_ids(bait):
        interaction = await fake_discord.slash(
            "kb", {"entry": entry_id}, subcommand=command, user=moderator()
        )
        response = await interaction.response()
        assert response["type"] == 4, f"{entry_id[:40]!r}: {response}"  # not a form, not a deferral
        data = response["data"]
        assert data["flags"] & EPHEMERAL
        assert data["content"].startswith("No such entry: `"), (entry_id[:40], data["content"])
        assert len(data["content"]) < 150 and "\x00" not in data["content"]
        assert "@everyone" not in data["content"] and "<@112233445566778899>" not in data["content"]
        assert "components" not in data or not data["components"]
    assert fingerprint(tmp_path) == before
    assert bait["eval"].read_text() == "# labelled questions\ncases: []\n"
    assert bait["outside"].read_text() == "keep: me\n"


async def test_a_good_id_still_works_for_every_command(fake_discord: Any, start_bot: StartBot) -> None:
    await start_bot()
    show = await (
        await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="show", user=moderator())
    ).response()
    assert "id: pytorch" in show["data"]["content"]
    edit = await (
        await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="edit", user=moderator())
    ).response()
    assert edit["type"] == 9
    remove = await (
        await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="remove", user=moderator())
    ).response()
    assert remove["data"]["content"].startswith("Remove `pytorch`?")
    history = await (
        await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="history", user=moderator())
    ).response()
    assert history["data"]["content"] == "No changes to `pytorch` made through careerbot."


def tamper_draft(database: Path, draft_id: int, payload: dict[str, Any]) -> None:
    with sqlite3.connect(database) as db:
        db.execute("UPDATE drafts SET payload = ? WHERE id = ?", (json.dumps(payload), draft_id))


async def test_ids_inside_drafts_are_checked_before_any_write(
    fake_discord: Any, start_bot: StartBot, bait: dict[str, Path], tmp_path: Path
) -> None:
    """A button's custom_id carries a draft id; the draft names the entry. A draft that names no live
    entry (tampered, or the entry went meanwhile) changes nothing."""
    await start_bot()
    confirm = await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="remove", user=moderator())
    button = (await confirm.response())["data"]["components"][0]["components"][0]["custom_id"]
    draft_id = int(button.split(":")[2])
    before = fingerprint(tmp_path)
    tamper_draft(tmp_path / "careerbot.sqlite3", draft_id, {"entry_id": "../../eval", "text": "cases: []\n"})
    reply = await (await fake_discord.click(confirm.message, button, user=moderator())).response()
    assert reply["data"]["content"] == "No such entry: `../../eval`."
    assert fingerprint(tmp_path) == before

    form = await (
        await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="edit", user=moderator())
    ).response()
    edit_draft = draft_id + 1  # the next draft saved: the form's
    outside_id = str(bait["outside"].with_suffix(""))
    tamper_draft(tmp_path / "careerbot.sqlite3", edit_draft, {"entry_id": outside_id, "text": "keep: me\n"})
    fields = {"question": "Q?", "paraphrases": "a b\nc d\ne f", "answer": "A.", "tags": "x", "sources": "S"}
    submitted = await fake_discord.submit_modal(form["data"]["custom_id"], fields, user=moderator())
    assert (await submitted.response())["type"] == 5
    [followup] = await submitted.followups()
    assert followup["content"].startswith("No such entry: `/")
    assert fingerprint(tmp_path) == before


async def test_kb_is_registered_only_in_the_moderation_servers(
    fake_discord: Any, start_bot: StartBot
) -> None:
    await start_bot()
    registered = {server: [c["name"] for c in commands] for server, commands in fake_discord.commands.items()}
    assert registered[fake_discord.guild_id] == ["kb"]
    assert "kb" not in registered[None] and "ask" in registered[None]
    assert fake_discord.other_guild_id not in registered
    # So the Discord client in the other server does not even offer it.
    with pytest.raises(AssertionError, match="is not synced"):
        await fake_discord.slash(
            "kb", subcommand="reload", user=server_admin(), channel_id=fake_discord.other_channel_id
        )


@pytest.mark.parametrize(
    "subcommand, options",
    [
        ("reload", {}),
        ("show", {"entry": "pytorch"}),
        ("add", {"topic": "stack"}),
        ("history", {"entry": "pytorch"}),
        ("stats", {}),
    ],
)
async def test_another_servers_admin_replaying_kb_is_refused(
    fake_discord: Any, start_bot: StartBot, subcommand: str, options: dict[str, Any]
) -> None:
    await start_bot()
    interaction = await fake_discord.slash(
        "kb",
        options,
        subcommand=subcommand,
        user=server_admin(),
        channel_id=fake_discord.other_channel_id,
        registered_in=fake_discord.guild_id,  # a modified client replaying the moderation server's /kb
    )
    response = await interaction.response()
    assert response["type"] == 4 and response["data"]["content"] == REFUSAL


async def test_another_servers_admin_replaying_a_button_or_a_form_is_refused(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    bot = await start_bot()
    entry_file = config.knowledge.dir / "faq" / "stack" / "pytorch.yaml"
    confirm = await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="remove", user=moderator())
    button = (await confirm.response())["data"]["components"][0]["components"][0]["custom_id"]
    click = await fake_discord.click(
        confirm.message, button, user=server_admin(), channel_id=fake_discord.other_channel_id
    )
    assert (await click.response())["data"]["content"] == REFUSAL
    assert entry_file.exists() and bot.answerer.knowledge.get("pytorch") is not None

    form = await (
        await fake_discord.slash("kb", {"topic": "stack"}, subcommand="add", user=moderator())
    ).response()
    fields = {
        "question": "What is Jupyter for?",
        "paraphrases": "notebooks?\njupyter lab\nipynb files",
        "answer": "Notebooks.",
        "tags": "jupyter",
        "sources": "Jupyter | https://jupyter.org/",
    }
    submitted = await fake_discord.submit_modal(
        form["data"]["custom_id"], fields, user=server_admin(), channel_id=fake_discord.other_channel_id
    )
    assert (await submitted.response())["data"]["content"] == REFUSAL
    assert not (config.knowledge.dir / "faq" / "stack" / "what-is-jupyter-for.yaml").exists()


async def test_an_empty_server_list_turns_kb_off_and_says_so_once(
    fake_discord: Any, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await start_bot(moderation_guilds=())
    assert all(c["name"] != "kb" for commands in fake_discord.commands.values() for c in commands)
    assert list(fake_discord.synced_payloads) == [None]
    lines = [r for r in caplog.records if "/kb is off" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert "discord.moderation_guilds" in lines[0].getMessage()


async def test_sync_reports_a_listed_server_discord_refuses(fake_discord: Any, start_bot: StartBot) -> None:
    absent = 1_100_000_000_000_000_999  # careerbot is not in this server
    bot = await start_bot(moderation_guilds=(fake_discord.guild_id, absent))
    report = await sync_tree(bot)
    assert report.commands == 8
    assert report.moderation == [fake_discord.guild_id] and report.refused == [absent]


async def test_a_server_taken_off_the_list_before_a_sync_gets_kb_refused(
    fake_discord: Any, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Its /kb stays registered at Discord until `careerbot sync`: using it meanwhile changes nothing."""
    first = await start_bot()
    await first.close()
    await start_bot(moderation_guilds=())
    interaction = await fake_discord.slash("kb", subcommand="reload", user=moderator())
    response = await interaction.response()
    assert response["data"]["content"] == "That command is not available here."
    assert any("careerbot sync" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


BOMB = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


async def test_a_live_entrys_file_replaced_by_hand_is_named_not_parsed_or_followed(
    fake_discord: Any, start_bot: StartBot, knowledge_dir: Path, bait: dict[str, Path]
) -> None:
    """After the knowledge loaded, pytorch.yaml becomes a YAML bomb and another file a link out: /kb
    edit says the file is not a valid entry, without expanding the bomb; show does not read through the
    link (the file is not where the entry belongs)."""
    await start_bot()
    (knowledge_dir / "faq" / "stack" / "pytorch.yaml").write_text(BOMB)
    linked = knowledge_dir / "faq" / "stack" / "scikit-learn.yaml"
    linked.unlink()
    linked.symlink_to(bait["outside"])

    edit = await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="edit", user=moderator())
    edited = (await edit.response())["data"]["content"]
    shown = await fake_discord.slash("kb", {"entry": "scikit-learn"}, subcommand="show", user=moderator())
    shown_text = (await shown.response())["data"]["content"]

    assert "not a valid entry" in edited
    assert shown_text.startswith("No such entry") and "keep: me" not in shown_text
