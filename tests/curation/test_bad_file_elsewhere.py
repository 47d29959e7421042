"""A bad file on disk (a hand edit, a git pull) must not stop a moderator's change to another entry,
and must never replace what is live: its entry stays as the live version has it, and it is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from careerbot.curation.curator import Curator
from careerbot.knowledge.changes import ChangeRejected
from tests.conftest import NEW
from tests.curation.conftest import MOD

HAND_EDITED = "What do ML engineers earn in a year?"
ALIAS_BOMB = 'a: &a ["lol", "lol"]\nb: [*a, *a]\n'


def damage(root: Path) -> None:
    """A live entry broken by hand, a link, and a good hand edit beside them."""
    pytorch = root / "faq" / "stack" / "pytorch.yaml"
    pytorch.write_text(pytorch.read_text() + ALIAS_BOMB)
    (root / "faq" / "skills" / "linked.yaml").symlink_to("/nowhere")
    salary = root / "faq" / "career" / "salary.yaml"
    salary.write_text(salary.read_text().replace("How much do ML engineers earn?", HAND_EDITED))


def test_an_edit_goes_live_beside_a_bad_file_which_keeps_its_live_version(
    curator: Curator, knowledge_dir: Path
) -> None:
    damage(knowledge_dir)
    outcome = curator.add(NEW, MOD)
    assert outcome.reload.swapped
    assert outcome.change.prepared is not None  # the bad files are reported with the change
    reported = {problem.path.name for problem in outcome.change.prepared.problems}
    assert reported == {"pytorch.yaml", "linked.yaml"}
    answerer = curator.live.answerer
    assert answerer.answer("jupyter lab ipynb").id == "jupyter"
    live_pytorch = answerer.knowledge.get("pytorch")
    assert live_pytorch is not None and live_pytorch.sources  # the version that was live, untouched
    salary = answerer.knowledge.get("salary")
    assert salary is not None and salary.title == HAND_EDITED  # the good hand edit went live too


def test_a_reload_with_the_bad_file_still_there_keeps_the_live_engine_and_says_why(
    curator: Curator, knowledge_dir: Path
) -> None:
    curator.add(NEW, MOD)
    damage(knowledge_dir)
    report = curator.live.reload()
    assert not report.swapped
    assert {problem.path.name for problem in report.problems} == {"pytorch.yaml", "linked.yaml"}
    assert curator.live.answerer.answer("jupyter lab ipynb").id == "jupyter"


def test_a_bad_change_is_refused_with_its_own_problems_only(curator: Curator, knowledge_dir: Path) -> None:
    damage(knowledge_dir)
    with pytest.raises(ChangeRejected) as refused:
        curator.add({**NEW, "paraphrases": ["one"]}, MOD)
    assert [problem.path.name for problem in refused.value.problems] == ["jupyter.yaml"]
    assert not (knowledge_dir / "faq" / "stack" / "jupyter.yaml").exists()


def test_an_edit_that_clashes_with_a_good_hand_edit_is_still_refused(
    curator: Curator, knowledge_dir: Path
) -> None:
    damage(knowledge_dir)
    with pytest.raises(ChangeRejected, match="earn in a year") as refused:
        curator.add({**NEW, "paraphrases": [HAND_EDITED, "a", "b"]}, MOD)
    assert [problem.path.name for problem in refused.value.problems] == ["jupyter.yaml"]


def test_the_moderator_is_told_which_bad_files_were_not_loaded(curator: Curator, knowledge_dir: Path) -> None:
    from careerbot.bot.exts.moderation.texts import outcome_text

    damage(knowledge_dir)
    told = outcome_text(curator.add(NEW, MOD))
    assert told.startswith("Added `jupyter`") and "live now" in told
    assert "Not loaded" in told and "pytorch.yaml" in told and "linked.yaml" in told
