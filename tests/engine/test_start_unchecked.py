"""The bot starts answering from its saved index without stat-ing every knowledge file first (most of a
second at 1M texts); files changed while it was down go live right after, in the warm-up, and a bad one
never replaces what is live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from careerbot.config import Config
from careerbot.engine.live import LiveEngine
from careerbot.engine.loading import load_engine
from careerbot.knowledge.watch import forget
from tests.fakes import FakeEncoder

ASKED = "How much do ML engineers earn?"
HAND_EDITED = "What do ML engineers earn in a year?"


@pytest.fixture
def saved(config: Config) -> Iterator[FakeEncoder]:
    """An index built and saved, as the last run left it; the folder forgotten by the watcher after."""
    encoder = FakeEncoder()
    load_engine(config, encoder=encoder)
    yield encoder
    forget(config.knowledge.dir)


def salary(knowledge_dir: Path) -> Path:
    return knowledge_dir / "faq" / "career" / "salary.yaml"


def test_a_hand_edit_made_while_the_bot_was_down_goes_live_in_the_warm_up(
    config: Config, knowledge_dir: Path, saved: FakeEncoder
) -> None:
    path = salary(knowledge_dir)
    path.write_text(path.read_text().replace(ASKED, HAND_EDITED))
    engine, report = load_engine(config, encoder=saved, check_files=False)
    assert report.loaded and report.unchecked and report.embedded == 0
    assert "checked next" in report.describe()
    served = engine.answerer.knowledge.get("salary")
    assert served is not None and served.title == ASKED  # the saved index, as it is
    live = LiveEngine(config, saved, engine)
    live.warm_up_in_background()
    live.flush()
    served = live.answerer.knowledge.get("salary")
    assert served is not None and served.title == HAND_EDITED
    assert live.answerer.answer(HAND_EDITED).id == "salary"


def test_a_bad_file_made_while_the_bot_was_down_is_logged_and_the_saved_index_stays_live(
    config: Config, knowledge_dir: Path, saved: FakeEncoder, caplog: pytest.LogCaptureFixture
) -> None:
    path = salary(knowledge_dir)
    path.write_text(path.read_text() + "a: &a [1]\nb: [*a, *a]\n")
    engine, _ = load_engine(config, encoder=saved, check_files=False)
    live = LiveEngine(config, saved, engine)
    live.warm_up_in_background()
    live.flush()
    assert live.answerer is engine.answerer
    assert "not loaded" in caplog.text and "salary.yaml" in caplog.text


def test_other_commands_still_check_the_files_before_the_first_answer(
    config: Config, knowledge_dir: Path, saved: FakeEncoder
) -> None:
    path = salary(knowledge_dir)
    path.write_text(path.read_text().replace(ASKED, HAND_EDITED))
    engine, report = load_engine(config, encoder=saved)
    assert not report.unchecked and not report.loaded
    served = engine.answerer.knowledge.get("salary")
    assert served is not None and served.title == HAND_EDITED
