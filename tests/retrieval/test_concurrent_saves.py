"""Two processes saving one index folder (the bot saving an edit while an operator runs `careerbot
index`, or two bots): each save sweeps the folders its manifest does not name, so without a lock one
deleted the other's freshly named state. Real processes, saving at the same moment, round after round."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from careerbot.config import Config
from careerbot.engine.loading import load_engine, save_engine, update_engine
from tests.conftest import write_entry
from tests.fakes import FakeEncoder

ROUNDS = 8


def save_and_load_in_rounds(config: Config, barrier: Any, problems: Any, name: str) -> None:
    for number in range(ROUNDS):
        barrier.wait()
        # Every third round a full rebuild, which writes a new base too and sweeps the old one.
        engine, _ = load_engine(config, encoder=FakeEncoder(), rebuild=number % 3 == 2)
        save_engine(config, engine, FakeEncoder().model_id)
        barrier.wait()  # both saves are done: the index on disk must be whole
        encoder = FakeEncoder()
        engine, report = load_engine(config, encoder=encoder)
        if not report.loaded or encoder.encoded:
            problems.put(f"{name}, round {number}: the index was not whole ({len(encoder.encoded)} embedded)")
        if engine.answerer.answer("pytorch uses").id != "pytorch":
            problems.put(f"{name}, round {number}: wrong answer")
        barrier.wait()  # both have loaded before the next round saves


def test_two_processes_saving_at_once_leave_a_whole_index(config: Config, knowledge_dir: Path) -> None:
    load_engine(config, encoder=FakeEncoder())
    context = multiprocessing.get_context("spawn")
    barrier, problems = context.Barrier(2, timeout=60), context.Queue()
    savers = [
        context.Process(target=save_and_load_in_rounds, args=(config, barrier, problems, name))
        for name in ("first", "second")
    ]
    for saver in savers:
        saver.start()
    for saver in savers:
        saver.join(timeout=300)
    assert [saver.exitcode for saver in savers] == [0, 0]
    found = []
    while not problems.empty():
        found.append(problems.get())
    assert found == []
    assert len(list(config.index.dir.glob("state-*"))) == 1, "stale folders are swept"


def compact(config: Config) -> None:
    """`careerbot index`: the edits folded into a new base, the old base swept."""
    _, report = load_engine(config, encoder=FakeEncoder(), compact=True, thorough=True)
    assert not report.loaded and report.embedded == 0


def test_an_index_run_beside_the_bot_leaves_the_bot_able_to_save_its_edits(
    config: Config, knowledge_dir: Path
) -> None:
    encoder = FakeEncoder()
    bot, _ = load_engine(config, encoder=encoder)
    write_entry(
        knowledge_dir, "stack/jupyter", "What is Jupyter for?", ["notebooks?", "jupyter lab", "ipynb"], "x"
    )
    bot, _ = update_engine(config, encoder, bot)  # an edit on top of the base the bot serves from
    index_run = multiprocessing.get_context("spawn").Process(target=compact, args=(config,))
    index_run.start()
    index_run.join(timeout=120)
    assert index_run.exitcode == 0
    write_entry(
        knowledge_dir, "stack/polars", "What is Polars?", ["polars dataframes", "faster pandas", "pl"], "y"
    )
    bot, _ = update_engine(config, encoder, bot)  # saved on top of its base, which was kept for it
    encoder = FakeEncoder()
    restarted, report = load_engine(config, encoder=encoder)
    assert report.loaded and encoder.encoded == []
    assert restarted.answerer.answer("jupyter lab").id == "jupyter"
    assert restarted.answerer.answer("polars dataframes").id == "polars"
