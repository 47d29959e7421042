"""`careerbot COMMAND --config FILE` works as well as `careerbot --config FILE COMMAND`, for every command."""

from __future__ import annotations

from pathlib import Path

import pytest

from careerbot import cli

COMMANDS = ["ask", "chat", "run", "sync", "index", "validate", "eval", "tune"]


def test_every_command_is_covered() -> None:
    subparsers = next(a for a in cli._parser()._actions if a.dest == "command")
    assert sorted(subparsers.choices) == sorted(COMMANDS)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", COMMANDS)
def test_config_is_taken_before_or_after_the_command(command: str) -> None:
    parser = cli._parser()
    assert parser.parse_args([command, "--config", "after.toml"]).config == "after.toml"
    assert parser.parse_args(["--config", "before.toml", command]).config == "before.toml"
    # Given twice, the one nearer the command's own options wins.
    assert parser.parse_args(["--config", "a.toml", command, "--config", "b.toml"]).config == "b.toml"


def test_validate_reads_the_file_given_after_the_command(
    tmp_path: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "elsewhere.toml"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n')
    assert cli.main(["validate", "--config", str(settings)]) == 0
    assert "ok: 6 entries" in capsys.readouterr().out
    assert cli.main(["validate", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "absent.toml: no such file" in capsys.readouterr().err
