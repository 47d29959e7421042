"""No file in git holds a Discord bot token: secrets come from the environment (bot.toml refuses them)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# A bot token: the base64 user id, a timestamp part and an HMAC, joined by dots.
DISCORD_TOKEN = re.compile(r"\b[MNO][A-Za-z\d_-]{23,27}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,40}\b")


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [REPO / name for name in listing.decode().split("\0") if name]


def test_the_pattern_finds_a_token() -> None:
    sample = ".".join(["MTEwMDAwMDAwMDAwMDAwMDAwMg", "GhIjKl", "abcdefghijklmnopqrstuvwxyz0123456789"])
    assert DISCORD_TOKEN.search(f"token = '{sample}'")  # built here, so this file holds no token


def test_no_tracked_file_holds_a_discord_token() -> None:
    found = []
    for path in tracked_files():
        if path.is_file() and path.suffix not in {".npz", ".faiss", ".png"}:
            text = path.read_bytes().decode("utf-8", errors="replace")
            found += [f"{path.relative_to(REPO)}: {m.group()[:6]}..." for m in DISCORD_TOKEN.finditer(text)]
    assert not found, found
    assert ".env" in (REPO / ".gitignore").read_text().split()
