"""An edit's near-duplicate check compares its phrasings only with those of a length that can reach the
ratio. That filter must be exact: every clash a comparison with all phrasings finds is still found,
also at the edge of the length window (a few characters more or fewer than the edited phrasing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rapidfuzz import fuzz, utils

from careerbot.knowledge.changes import ChangeRejected
from careerbot.knowledge.loader import NEAR_DUPLICATE_RATIO
from careerbot.knowledge.snapshot import refresh
from careerbot.knowledge.writer import KnowledgeWriter
from tests.conftest import NEW, write_entry

EDITED = "how do feature stores keep training and serving data consistent"  # 63 characters


def variants() -> dict[str, str]:
    """Phrasings 0-6 characters shorter and longer than EDITED: around 95, on both sides of it."""
    found = {}
    for k in range(7):
        found[f"shorter-{k}"] = EDITED[k:]
        found[f"longer-{k}"] = EDITED + "xyzwvut"[:k]
        found[f"inside-{k}"] = EDITED[:20] + "q" * k + EDITED[20 + k // 2 :]
    return found


def clashes(knowledge_dir: Path, edited: str, other: str) -> bool:
    """Whether adding an entry with the paraphrase `edited` is refused as alike an entry holding `other`."""
    entry = write_entry(knowledge_dir, "stack/other", "Entry other question?", [other, "o b", "o c"], "x")
    snapshot = refresh(knowledge_dir, None).snapshot
    assert snapshot is not None
    try:
        KnowledgeWriter(knowledge_dir, lambda: snapshot).save(
            {**NEW, "paraphrases": [edited, "jupyter lab", "ipynb files"]}, expected=None
        )
    except ChangeRejected as refused:
        return any("of 'other'" in problem.message for problem in refused.problems)
    finally:
        entry.unlink()
        (knowledge_dir / "faq" / "stack" / "jupyter.yaml").unlink(missing_ok=True)
    return False


@pytest.mark.parametrize("edited", [EDITED, EDITED[3:], EDITED + " abc"])
def test_an_edit_clashes_with_exactly_the_phrasings_a_full_comparison_finds(
    knowledge_dir: Path, edited: str
) -> None:
    found, expected = set(), set()
    for name, text in variants().items():
        if fuzz.ratio(utils.default_process(edited), utils.default_process(text)) >= NEAR_DUPLICATE_RATIO:
            expected.add(name)
        if clashes(knowledge_dir, edited, text):
            found.add(name)
    assert found == expected
    assert expected and expected != set(variants())  # both sides of the edge are tried
