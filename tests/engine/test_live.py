from __future__ import annotations

import threading
from pathlib import Path

import pytest

import careerbot.engine.live
from careerbot.config import Config
from careerbot.engine.live import LiveEngine
from careerbot.engine.loading import load_engine
from tests.conftest import write_entry
from tests.fakes import FakeEncoder


def live_engine(config: Config) -> LiveEngine:
    encoder = FakeEncoder()
    engine, _ = load_engine(config, encoder=encoder)
    return LiveEngine(config, encoder, engine)


def test_reload_swaps_in_an_edit_embedding_only_what_changed(config: Config, knowledge_dir: Path) -> None:
    live = live_engine(config)
    before = live.answerer
    write_entry(
        knowledge_dir, "stack/jupyter", "What is Jupyter for?", ["notebooks?", "jupyter lab", "ipynb"], "x"
    )
    report = live.reload()
    assert report.swapped and report.entries == 7 and report.embedded == 5 and report.problems == []
    assert live.answerer is not before and live.answerer.answer("jupyter lab").id == "jupyter"


def test_a_bad_file_keeps_the_live_engine(config: Config, knowledge_dir: Path) -> None:
    live = live_engine(config)
    before = live.answerer
    (knowledge_dir / "faq" / "stack" / "pytorch.yaml").write_text("id: [")
    report = live.reload()
    assert not report.swapped and report.entries == 6
    assert [p.path.name for p in report.problems] == ["pytorch.yaml"]
    assert live.answerer is before and live.answerer.answer("pytorch uses").id == "pytorch"


def test_questions_streamed_during_reloads_never_fail(config: Config, knowledge_dir: Path) -> None:
    live = live_engine(config)
    failures: list[BaseException] = []
    answered: list[str | None] = []
    stop = threading.Event()

    def ask_until_stopped() -> None:
        while not stop.is_set():
            try:
                answered.append(live.answerer.answer("sklearn uses").id)
            except BaseException as exc:  # any failure at all is what this test is looking for
                failures.append(exc)

    askers = [threading.Thread(target=ask_until_stopped) for _ in range(2)]
    for thread in askers:
        thread.start()
    for round_number in range(3):
        write_entry(
            knowledge_dir,
            f"stack/tool-{'abcde'[round_number]}",
            f"Is {'vwxyz'[round_number]}flow useful?",
            [f"{round_number} a", f"{round_number} b c", f"{round_number} d e f"],
            "x",
        )
        assert live.reload().swapped
    stop.set()
    for thread in askers:
        thread.join()
    assert failures == []
    assert answered and set(answered) == {"scikit-learn"}
    assert len(live.answerer.knowledge.entries) == 9


def test_a_failed_background_save_is_logged_and_the_edit_stays_live(
    config: Config, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    live = live_engine(config)

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(careerbot.engine.live, "save_engine", disk_full)
    write_entry(
        knowledge_dir, "stack/jupyter", "What is Jupyter for?", ["notebooks?", "jupyter lab", "ipynb"], "x"
    )
    assert live.reload().swapped
    live.flush()
    assert live.answerer.answer("jupyter lab").id == "jupyter"
    assert "could not save the index" in caplog.text and "No space left" in caplog.text


def test_a_failed_warm_up_is_logged_and_waited_for(
    config: Config, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    live = live_engine(config)
    started = threading.Event()

    def out_of_memory() -> None:
        started.set()
        raise MemoryError("phrasings table too big")

    monkeypatch.setattr(live.answerer.knowledge, "phrasings", out_of_memory)
    live.warm_up_in_background()
    live.flush()
    assert started.is_set(), "flush waits for the warm-up"
    assert "could not warm up the knowledge" in caplog.text and "phrasings table too big" in caplog.text


def test_a_reload_makes_its_objects_with_the_collector_paused_and_freezes_them(
    config: Config, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reload's millions of long-lived objects (at 100k entries) must not be walked by full collections
    while the event loop waits for the GIL: made with the collector off, then frozen out of it."""
    import gc

    live = live_engine(config)
    collector_on_during_reload: list[bool] = []
    update = careerbot.engine.live.update_engine

    def recording(*args: object, **kwargs: object) -> object:
        collector_on_during_reload.append(gc.isenabled())
        return update(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(careerbot.engine.live, "update_engine", recording)
    write_entry(knowledge_dir, "stack/jupyter", "What is Jupyter for?", ["notebooks?", "lab", "ipynb"], "x")
    gc.unfreeze()
    try:
        assert live.reload().swapped
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
    assert collector_on_during_reload == [False]
    assert gc.isenabled() and frozen > 0


def test_keyword_scores_follow_each_edit(config: Config, knowledge_dir: Path) -> None:
    """The keyword scorer keeps each item's term counts between questions: after an edit, the words an
    entry gained and lost must count, not the counts kept from before it."""
    live = live_engine(config)

    def keyword_scores() -> dict[str, float]:
        answer = live.answerer.answer("kubeflow")
        return {c.item_id: c.lexical for c in answer.candidates if c.lexical > 0}

    assert keyword_scores() == {}
    live.answerer.answer("a typical day of ML engineers: data work, meetings, money?")  # counts every entry
    write_entry(knowledge_dir, "duties/typical-day", "What does a typical day look like?",
                ["day in the life", "daily routine of an mle", "what do you do all day"],
                "Kubeflow pipelines, data work and reviews.")  # fmt: skip
    assert live.reload().swapped
    assert keyword_scores() == {"typical-day": 1.0}
    write_entry(knowledge_dir, "duties/typical-day", "What does a typical day look like?",
                ["day in the life", "daily routine of an mle", "what do you do all day"],
                "Meetings, data work, training runs and reviews.")  # fmt: skip
    write_entry(knowledge_dir, "career/salary", "How much do ML engineers earn?",
                ["mle pay", "ml engineer salary", "how much money"],
                "It depends on country, seniority and whether you know kubeflow.")  # fmt: skip
    assert live.reload().swapped
    assert keyword_scores() == {"salary": 1.0}
