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
    monkeypatch.setattr("careerbot.retrieval.runtime.open_encoder", lambda *_: FakeEncoder())
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
    (knowledge_dir / "eval").mkdir()
    (knowledge_dir / "eval" / "regression.yaml").write_text(
        "questions:\n"
        "  - {question: torch for deep learning please, expected: [pytorch]}\n"
        "  - {question: zebra quantum lasagna, expected: []}\n"
    )
    assert run(settings, "eval", "--min-hit1", "1.0", "--min-decline-recall", "1.0") == 0
    out = capsys.readouterr().out
    assert "hit@1" in out and "(1 in-scope and 1 out-of-scope questions" in out
    assert run(settings, "eval", "--threshold", "0.99", "--max-false-decline", "0.0") == 1
    assert "gate failed: regression: in-scope declined 1.000 > 0.0" in capsys.readouterr().err
    # With --sweep, the gates and the misses are still those of the configured threshold.
    assert run(settings, "eval", "--sweep", "--misses", "--min-decline-recall", "1.0") == 0
    out = capsys.readouterr().out
    assert "misses at threshold 0.45:" in out and "0.35" in out


def test_eval_reports_each_set_apart_and_scores_only_what_is_labelled(
    settings: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sets = knowledge_dir / "eval"
    sets.mkdir()
    (sets / "regression.yaml").write_text(
        "questions:\n  - {question: scikit learn for what, expected: [scikit-learn]}\n"
    )
    (sets / "dev.yaml").write_text(
        "questions:\n"
        "  - {question: torch for deep learning please, expected: [pytorch], source: 'https://example.org/1'}\n"
        "  - {question: what pays more in ML, scope: in, source: 'https://example.org/2'}\n"
        "  - {question: 파이토치는 어디에 쓰나요, expected: [pytorch], language: ko}\n"
        "  - {question: zebra quantum lasagna, scope: out}\n"
        "  - {question: how do I get a visa, scope: in, expected: []}\n"
    )
    assert run(settings, "eval", "--json") == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == ["dev", "regression"]
    [dev] = figures["dev"]
    assert (
        dev["in_scope"],
        dev["out_of_scope"],
        dev["not_english"],
        dev["unlabelled"],
        dev["uncovered"],
    ) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert dev["hit@1"] == 0.5  # the uncovered question is a miss whatever is chosen
    assert run(settings, "eval", "--set", "regression") == 0
    out = capsys.readouterr().out
    assert out.startswith("regression (1 questions)") and "dev" not in out
    assert run(settings, "eval", "--set", "nonesuch") == 2
    assert "no eval set nonesuch" in capsys.readouterr().err


def test_eval_reports_the_blind_judgments_and_the_replies_changed_since(
    settings: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sets = knowledge_dir / "eval"
    (sets / "judged").mkdir(parents=True)
    (sets / "dev.yaml").write_text(
        "questions:\n"
        "  - {question: torch for deep learning please, expected: [pytorch]}\n"
        "  - {question: sklearn for tabular data please, expected: [scikit-learn]}\n"
        "  - {question: how do I become a pilot, scope: out}\n"
    )
    (sets / "judged" / "dev.yaml").write_text(
        "judgments:\n"
        "  - {question: torch for deep learning please, reply: pytorch, verdict: relevant, should_decline: false}\n"
        "  - {question: sklearn for  tabular data please, reply: salary, verdict: wrong, should_decline: false}\n"
        "  - {question: how do I become a pilot, reply: declined, verdict: declined, should_decline: true}\n"
    )
    assert run(settings, "eval", "--set", "dev", "--json") == 0
    [dev] = json.loads(capsys.readouterr().out)["dev"]
    assert (dev["judged"], dev["judged_relevant"], dev["judged_wrong"]) == (2, 0.5, 0.5)
    assert dev["changed_since_judged"] == 1  # sklearn is now answered with scikit-learn, judged as salary
    assert run(settings, "eval", "--set", "dev") == 0
    assert "judged blind at 0.45: 50.0% of 2 in-scope replies relevant" in capsys.readouterr().out


@pytest.mark.parametrize(
    "judgments",
    [
        "judgments:\n  - {question: q, reply: pytorch, verdict: great, should_decline: false}\n",
        "judgments:\n  - {question: q, reply: pytorch}\n",
        "judgments: [\n",
    ],
)
def test_a_malformed_judgments_file_is_named_not_guessed_around(
    settings: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str], judgments: str
) -> None:
    (knowledge_dir / "eval" / "judged").mkdir(parents=True)
    (knowledge_dir / "eval" / "dev.yaml").write_text(
        "questions:\n  - {question: pytorch uses please, expected: [pytorch]}\n"
    )
    (knowledge_dir / "eval" / "judged" / "dev.yaml").write_text(judgments)
    assert run(settings, "eval") == 1
    err = capsys.readouterr().err
    assert "cannot load the knowledge" in err and "judged/dev.yaml" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("item", "complaint"),
    [
        (
            "{question: q, expected: [pytorch], scope: out}",
            "scope: must be 'in', or 'out' with no expected id",
        ),
        ("{question: q, scope: maybe}", "scope: must be"),
        ("{question: q, expected: [], language: Korean}", "language: must be a two- or three-letter code"),
        ("{question: q, expected: [], source: 'ftp://x'}", "source: must be an http(s) URL"),
        ("{question: q}", "needs an 'expected' list (or a 'scope' until labelled)"),
        ("{question: q, expected: [nosuch]}", "expected: unknown id(s): nosuch"),
    ],
)
def test_validate_names_the_eval_file_line_and_field(
    settings: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str], item: str, complaint: str
) -> None:
    (knowledge_dir / "eval").mkdir()
    (knowledge_dir / "eval" / "dev.yaml").write_text(
        f"questions:\n  - {{question: fine, expected: []}}\n  - {item}\n"
    )
    assert run(settings, "validate") == 1
    err = capsys.readouterr().err
    assert (
        f"eval/dev.yaml:3: {complaint}" in err or f"eval/dev.yaml:3: questions: item 2 {complaint}" in err
    ), err


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
import careerbot.retrieval.runtime as runtime
from tests.fakes import FakeEncoder
runtime.open_encoder = lambda *_: FakeEncoder()
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


# Every answer falls in this band, so each reply is "did you mean" choices (uncertain).
ALL_UNCERTAIN = "[answering]\nuncertain_from = -1.0\nuncertain_below = 1.0\nuncertain_margin = 2.0\n"


def test_ask_in_the_uncertain_band_prints_choices_not_an_answer(
    settings: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    settings.write_text(settings.read_text() + ALL_UNCERTAIN)
    assert run(settings, "ask", "mle vs ds") == 0
    out = capsys.readouterr().out
    assert out.startswith("Not sure; did you mean:")
    assert "  - How is an ML engineer different from a data scientist?  [vs-data-scientist]" in out
    assert "Data scientists explore; ML engineers ship." not in out and "confidence:" not in out
    monkeypatch.setattr(sys, "stdin", io.StringIO("how much maths for ml do I need\n"))
    assert run(settings, "ask", "--json") == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["uncertain"] and reply["abstained"] and reply["answer"] is None
    assert reply["did_you_mean"][0]["id"] == "math-needed" and 2 <= len(reply["did_you_mean"]) <= 3


def test_eval_counts_uncertain_replies_apart_and_never_right(
    settings: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sets = knowledge_dir / "eval"
    sets.mkdir()
    (sets / "dev.yaml").write_text(
        "questions:\n"
        "  - {question: torch for deep learning please, expected: [pytorch]}\n"
        "  - {question: zebra quantum lasagna, scope: out}\n"
    )
    assert run(settings, "eval", "--json") == 0
    [plain] = json.loads(capsys.readouterr().out)["dev"]
    assert (plain["hit@1"], plain["uncertain_in_scope"]) == (1.0, 0.0)
    settings.write_text(settings.read_text() + ALL_UNCERTAIN)
    assert run(settings, "eval", "--json") == 0
    [unsure] = json.loads(capsys.readouterr().out)["dev"]
    assert unsure["uncertain_in_scope"] == 1.0 and unsure["false_decline"] == 0.0
    assert unsure["hit@1"] == 0.0 and unsure["answered_right"] == 0.0 and unsure["hit@3"] == 1.0
    assert unsure["decline_recall"] == plain["decline_recall"]
    assert run(settings, "eval", "--misses") == 0
    out = capsys.readouterr().out
    assert "uncertain in/out" in out and "1.000/" in out
    assert "got uncertain (" in out and "pytorch" in out


COMPOUND = "What is PyTorch used for? How much do ML engineers earn?"
FURTHER_ON = "[answering]\nfurther_answers = true\nfurther_min_score = 0.6\n"


def test_ask_gives_a_compound_question_a_second_part_when_bot_toml_says_so(
    settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(settings, "ask", "--json", COMPOUND) == 0
    assert json.loads(capsys.readouterr().out)["further_answers"] == []  # off by default
    settings.write_text(settings.read_text() + FURTHER_ON)
    assert run(settings, "ask", "--json", COMPOUND) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["answer"]["id"] == "salary"
    [second] = reply["further_answers"]
    assert (second["id"], second["title"]) == ("pytorch", "What is PyTorch used for?")
    assert second["text"] == "PyTorch builds and trains neural networks." and second["score"] >= 0.6
    assert run(settings, "ask", COMPOUND) == 0
    out = capsys.readouterr().out
    assert "also, for another part of your question: What is PyTorch used for?  [pytorch]" in out


def test_eval_further_reports_the_second_parts_precision(
    settings: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.write_text(settings.read_text() + "[answering]\nfurther_min_score = 0.6\n")
    (knowledge_dir / "eval").mkdir()
    (knowledge_dir / "eval" / "dev.yaml").write_text(
        f"questions:\n  - {{question: '{COMPOUND}', expected: [salary, pytorch]}}\n"
    )
    assert run(settings, "eval", "--json") == 0
    [off] = json.loads(capsys.readouterr().out)["dev"]
    assert off["further_shown"] == 0
    assert run(settings, "eval", "--json", "--further") == 0
    [on] = json.loads(capsys.readouterr().out)["dev"]
    assert (on["further_shown"], on["further_right"], on["further_precision"]) == (1, 1, 1.0)
    assert on["hit@1"] == off["hit@1"] == 1.0
    assert run(settings, "eval", "--further") == 0
    assert (
        "further answers at 0.45: 1 of 1 second parts are an expected entry (100%)" in capsys.readouterr().out
    )
