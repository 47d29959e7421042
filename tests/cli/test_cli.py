from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from careerbot import cli
from careerbot.config import Config
from tests.fakes import FakeEncoder


@pytest.fixture
def settings(tmp_path: Path, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bot.toml over the test knowledge, with the fake encoder standing in for the model."""
    path = tmp_path / "bot.toml"
    path.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n[index]\ndir = "{tmp_path / "index"}"\n')
    monkeypatch.setattr(
        "careerbot.retrieval.encoder.SentenceTransformerEncoder", lambda _config: FakeEncoder()
    )
    return path


def run(settings: Path, *args: str) -> int:
    return cli.main(["--config", str(settings), *args])


def test_help_and_validate_do_not_import_torch(settings: Path) -> None:
    code = (
        "import sys; from careerbot.cli import main\n"
        "for argv in (['--help'], ['--config', sys.argv[1], 'validate']):\n"
        "    try: main(argv)\n"
        "    except SystemExit: pass\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(settings)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "ok: 6 entries, 2 article passages" in result.stdout


def test_validate_reports_file_line_field_and_fails(
    settings: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = knowledge_dir / "faq" / "stack" / "pytorch.yaml"
    path.write_text(path.read_text().replace("topic: stack", "topic: cooking"))
    assert run(settings, "validate") == 1
    err = capsys.readouterr().err
    assert f"{path}:8: topic: unknown topic 'cooking'" in err
    assert "nothing was changed" in err


def test_ask_prints_a_readable_answer(settings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(settings, "ask", "mle vs ds", "--explain") == 0
    out = capsys.readouterr().out
    assert "How is an ML engineer different from a data scientist?  [vs-data-scientist, roles]" in out
    assert "Data scientists explore; ML engineers ship." in out
    assert "source: A Test Article" in out
    assert "candidates (score" in out and "via paraphrase: 'mle vs ds'" in out


def test_ask_json_reads_stdin_one_line_each(
    settings: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("maths for ml\n\nzebra quantum lasagna\n"))
    assert run(settings, "ask", "--json") == 0
    lines = capsys.readouterr().out.splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["answer"]["id"] == "math-needed" and not first["abstained"]
    assert second["abstained"] and second["answer"] is None


def test_ask_empty_question_is_a_usage_error(settings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(settings, "ask", "   ") == 2
    assert "Please type a question" in capsys.readouterr().err


def test_a_broken_file_stops_ask_with_its_location(
    settings: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (knowledge_dir / "faq" / "stack" / "pytorch.yaml").write_text("id: [")
    assert run(settings, "ask", "pytorch?") == 1
    assert "pytorch.yaml:1: not valid YAML" in capsys.readouterr().err


def test_bad_settings_name_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bot.toml"
    path.write_text("[answering]\nmin_score = 'x'\n")
    assert cli.main(["--config", str(path), "validate"]) == 2
    assert "answering.min_score must be a number" in capsys.readouterr().err


def test_index_then_ask_reuses_the_index(settings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(settings, "index") == 0
    assert "embedded" in capsys.readouterr().err
    assert run(settings, "ask", "pytorch uses") == 0
    assert "index saved" not in capsys.readouterr().err


def test_eval_gates(settings: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (knowledge_dir / "eval.yaml").write_text(
        "questions:\n"
        "  - {question: torch for deep learning please, expected: [pytorch]}\n"
        "  - {question: zebra quantum lasagna, expected: []}\n"
    )
    assert run(settings, "eval", "--min-hit1", "1.0", "--min-decline-recall", "1.0") == 0
    out = capsys.readouterr().out
    assert "hit@1" in out and "(1 in-scope and 1 out-of-scope questions" in out
    assert run(settings, "eval", "--threshold", "0.99", "--max-false-decline", "0.0") == 1
    assert "gate failed: in-scope declined 1.000 > 0.0" in capsys.readouterr().err


def test_run_without_token_is_one_clear_line_and_a_failure(
    settings: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert run(settings, "run") == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "careerbot: DISCORD_TOKEN is not set; export the bot's token (or use `careerbot chat`)"
    ]


def test_chat_answers_each_line(
    settings: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("sklearn uses\n   \n"))
    assert run(settings, "chat") == 0
    assert "What is scikit-learn used for?" in capsys.readouterr().out


def test_config_fixture_is_usable(config: Config) -> None:
    assert config.knowledge.dir.is_dir()


ASK_JSON = """
import sys
import careerbot.retrieval.encoder as encoder
from tests.fakes import FakeEncoder
encoder.SentenceTransformerEncoder = lambda _config: FakeEncoder()
from careerbot.cli import main
sys.exit(main(["--config", sys.argv[1], "ask", "--json"]))
"""


def test_ask_json_answers_every_line_after_one_that_is_not_utf8(settings: Path) -> None:
    stdin = b"maths for ml\nsklearn \xff\xfe uses\n\nzebra quantum lasagna\n\x00\n"
    result = subprocess.run(
        [sys.executable, "-c", ASK_JSON, str(settings)],
        input=stdin,
        capture_output=True,
        cwd=Path(__file__).parents[2],
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},  # as in a UTF-8 terminal
        timeout=60,  # a hang guard only
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stderr
    first, bad, third, nul = (json.loads(line) for line in result.stdout.decode("utf-8").splitlines())
    assert first["answer"]["id"] == "math-needed"
    assert bad == {"question": None, "error": "line 2 is not valid UTF-8"}
    assert third["abstained"] and third["question"] == "zebra quantum lasagna"
    assert nul["question"] == "\x00"
