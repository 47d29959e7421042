"""storage.database as a PostgreSQL URL, from bot.toml or CAREERBOT_DATABASE_URL, and what the operator
sees when it cannot be used: one line, exit code 1, never the password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from careerbot.config import ConfigError, config_from_mapping
from careerbot.curation.propagation import recover
from careerbot.curation.store import StoreError
from tests.postgres import Cluster, execute, free_port

SECRET = "hunter2-not-for-logs"


def test_a_url_is_kept_and_the_environment_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAREERBOT_DATABASE_URL", raising=False)
    url = "postgresql://careerbot@db.example:5432/careerbot"
    assert config_from_mapping({"storage": {"database": url}}, tmp_path).storage.database == url
    assert config_from_mapping({}, tmp_path).storage.database == tmp_path / "var/careerbot.sqlite3"
    monkeypatch.setenv("CAREERBOT_DATABASE_URL", f"postgresql://careerbot:{SECRET}@db.example/careerbot")
    assert config_from_mapping({"storage": {"database": url}}, tmp_path).storage.database.endswith(
        "@db.example/careerbot"
    )  # type: ignore[union-attr]
    monkeypatch.setenv("CAREERBOT_DATABASE_URL", f"mysql://careerbot:{SECRET}@db.example/careerbot")
    with pytest.raises(ConfigError) as refused:
        config_from_mapping({}, tmp_path)
    assert "CAREERBOT_DATABASE_URL" in str(refused.value) and SECRET not in str(refused.value)


def careerbot_run(tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "bot.toml").write_text('[knowledge]\ndir = "knowledge"\n', encoding="utf-8")
    environment = {**os.environ, "DISCORD_TOKEN": "not-used", "CAREERBOT_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "careerbot", "run", "--config", str(tmp_path / "bot.toml")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_an_unreachable_database_stops_start_up_in_one_line_without_the_password(tmp_path: Path) -> None:
    ran = careerbot_run(tmp_path, f"postgresql://careerbot:{SECRET}@127.0.0.1:{free_port()}/careerbot")
    assert ran.returncode == 1 and ran.stdout == ""
    [line] = ran.stderr.splitlines()
    assert line.startswith("careerbot: cannot use the database postgresql://careerbot:***@127.0.0.1:")
    assert "Connection refused" in line and SECRET not in ran.stderr and "CAREERBOT_DATABASE_URL" in line


@pytest.mark.parametrize("where", ["no such database", "malformed"])
def test_a_wrong_url_is_refused_without_the_password(where: str, tmp_path: Path, postgres: Cluster) -> None:
    url = f"postgresql://careerbot:{SECRET}@127.0.0.1:{postgres.port}/no_such_database"
    if where == "malformed":  # psycopg's message repeats this URL, password and all
        url = f"postgresql://careerbot:{SECRET}@127.0.0.1:{postgres.port}:what/no_such_database"
    with pytest.raises(StoreError) as refused:
        recover(tmp_path, url)
    message = str(refused.value)
    assert message.startswith("cannot use the database postgresql://careerbot:***@127.0.0.1:")
    assert "\n" not in message and SECRET not in message


def test_start_up_creates_the_schema_in_an_empty_database(postgres: Cluster, tmp_path: Path) -> None:
    url = postgres.new_database()
    (tmp_path / "knowledge").mkdir()
    assert recover(tmp_path / "knowledge", url) == []
    tables = {name for (name,) in execute(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"schema_version", "asked", "revisions", "drafts", "feedback", "applied"}
    assert execute(url, "SELECT version FROM schema_version") == [(2,)]
