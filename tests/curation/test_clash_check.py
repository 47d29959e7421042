"""An edit's phrasings are checked against every other entry's for near-duplicates; texts the entry
already had passed that check when they were loaded, so only its new texts are compared with the rest
(at 1M texts, one comparison of each text with every phrasing was the largest part of an edit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rapidfuzz import process

from careerbot.curation.curator import Curator
from careerbot.knowledge import loader
from careerbot.knowledge.changes import ChangeRejected
from tests.curation.conftest import MOD


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The texts each comparison with every phrasing was asked about."""
    asked: list[list[str]] = []
    cdist = process.cdist

    def recording(queries: list[str], *args: object, **kwargs: object) -> object:
        asked.append(list(queries))
        return cdist(queries, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loader.process, "cdist", recording)
    return asked


def test_an_added_paraphrase_alone_is_compared_with_every_phrasing(
    curator: Curator, compared: list[list[str]]
) -> None:
    curator.add_paraphrase("salary", "What's the typical ML engineer paycheck?", MOD)
    assert compared == [["what s the typical ml engineer paycheck"]]
    assert curator.live.answerer.answer("What's the typical ML engineer paycheck?").id == "salary"


def test_an_added_paraphrase_like_another_entrys_question_is_refused_naming_both(
    curator: Curator, knowledge_dir: Path
) -> None:
    with pytest.raises(ChangeRejected) as refused:
        curator.add_paraphrase("salary", "What is PyTorch used for!", MOD)
    [problem] = refused.value.problems
    assert problem.path.name == "salary.yaml" and problem.field == "paraphrases"
    assert "'pytorch'" in problem.message and "What is PyTorch used for?" in problem.message
    assert "PyTorch used for!" not in (knowledge_dir / "faq" / "career" / "salary.yaml").read_text()


def test_a_new_entry_has_every_text_compared(curator: Curator, compared: list[list[str]]) -> None:
    from tests.conftest import NEW

    curator.add(NEW, MOD)
    assert len(compared) == 1 and len(compared[0]) == 1 + len(NEW["paraphrases"])  # type: ignore[arg-type]
