"""What /kb tells moderators, read straight from the plain-text helpers: no Discord, fake or real."""

from __future__ import annotations

import re
from pathlib import Path

import discord
import pytest

from careerbot.bot.exts.moderation import texts
from careerbot.bot.exts.moderation.forms import fields_from_form
from careerbot.bot.exts.moderation.texts import (
    MESSAGE_LIMIT,
    escape_mentions,
    failure_text,
    gaps_text,
    no_such_entry,
    outcome_text,
    reload_text,
    stored_file,
)
from careerbot.curation.curator import Outcome
from careerbot.curation.gaps import Gap
from careerbot.engine.live import ReloadReport
from careerbot.knowledge import Problem
from careerbot.knowledge.changes import Change, ChangeConflict, ChangeRejected
from careerbot.knowledge.snapshot import Refresh

FAQ = Path("knowledge/faq/stack")


def outcome(action: str, reload: ReloadReport, skipped: list[Problem] | None = None) -> Outcome:
    prepared = Refresh(None, skipped, None) if skipped is not None else None
    change = Change("pytorch", FAQ / "pytorch.yaml", "before", "after", prepared)
    return Outcome(change, action, 7, reload)


def test_a_change_that_went_live_says_so_with_its_revision() -> None:
    told = outcome_text(outcome("edit", ReloadReport(swapped=True, entries=6, seconds=0.31)))
    assert told == "Saved `pytorch` as revision #7, live now (6 entries, reloaded in 0.3 s)."


def test_a_change_whose_reload_failed_names_the_problems() -> None:
    problem = Problem(FAQ / "pytorch.yaml", 3, "answer", "is empty")
    told = outcome_text(outcome("add", ReloadReport(swapped=False, entries=5, seconds=0, problems=[problem])))
    assert told.startswith("Added `pytorch` as revision #7, but the reload failed: ")
    assert f"{FAQ / 'pytorch.yaml'}:3: answer: is empty" in told


def test_bad_files_beside_a_change_are_listed_at_most_five() -> None:
    skipped = [Problem(FAQ / f"bad{i}.yaml", 1, "topic", "unknown") for i in range(9)]
    live = ReloadReport(swapped=True, entries=6, seconds=0.1)
    told = outcome_text(outcome("remove", live, skipped))
    assert "Not loaded, so their live version stays until they are fixed:" in told
    assert [line for line in told.splitlines() if line.startswith("- ")] == [
        f"- {FAQ / f'bad{i}.yaml'}:1: topic: unknown" for i in range(5)
    ]


def test_a_rejected_change_lists_each_problem_by_field() -> None:
    rejected = ChangeRejected(
        [
            Problem(FAQ / "x.yaml", 2, "answer", "is empty"),
            Problem(FAQ / "x.yaml", 3, "paraphrases", "has 1 item(s); at least 3 needed"),
        ]
    )
    assert failure_text(rejected).splitlines() == [
        "Not saved: the change would break the knowledge.",
        "- answer: is empty",
        "- paraphrases: has 1 item(s); at least 3 needed",
    ]


def test_a_refusal_without_problems_says_the_entry_is_gone() -> None:
    told = failure_text(ChangeRejected([], invalid=False))
    assert told == "Not saved: careerbot could not make it.\n- the entry no longer exists"


def test_a_conflict_shows_what_changed_in_a_diff_block() -> None:
    diff = "-answer: Old.\n+answer: Changed by git pull."
    told = failure_text(ChangeConflict(FAQ / "pytorch.yaml", diff))
    assert told.startswith("Not saved: the entry changed since you opened it.")
    assert f"```diff\n{diff}\n```" in told


def test_a_long_conflict_keeps_its_diff_block_closed() -> None:
    told = failure_text(ChangeConflict(FAQ / "pytorch.yaml", "+x\n" * 2000))
    assert len(told) <= MESSAGE_LIMIT and told.endswith("…\n```")


@pytest.mark.parametrize(
    "text",
    [
        failure_text(
            ChangeRejected([Problem(FAQ / "x.yaml", i, "answer", "is empty " * 5) for i in range(300)])
        ),
        reload_text(
            ReloadReport(
                False, 6, 0, problems=[Problem(FAQ / f"{i}.yaml", 1, "f", "bad") for i in range(300)]
            )
        ),
        gaps_text([Gap((f"question number {i} " * 10,), 1) for i in range(100)]),
        stored_file("answer: " + "long " * 1000),
    ],
    ids=["rejected", "reload", "gaps", "show"],
)
def test_long_output_fits_one_discord_message(text: str) -> None:
    assert len(text) <= MESSAGE_LIMIT and text.endswith("…")


def test_a_reload_says_what_went_live_or_what_to_fix() -> None:
    assert (
        reload_text(ReloadReport(True, 7, 1.26, embedded=5))
        == "Reloaded: 7 entries live, 5 texts embedded, in 1.3 s."
    )
    broken = reload_text(ReloadReport(False, 6, 0, problems=[Problem(FAQ / "a.yaml", 8, "topic", "unknown")]))
    assert broken == (
        "Not reloaded: the live version (6 entries) stays. Fix these first:\n"
        f"- `{FAQ / 'a.yaml'}:8: topic: unknown`"
    )


def test_gaps_are_numbered_with_their_counts_and_long_wordings_clipped() -> None:
    told = gaps_text([Gap(("zebra lasagna", "lasagna zebra"), 3), Gap(("x" * 400,), 1)])
    first, second = told.splitlines()
    assert first == '1. 3x "zebra lasagna" (2 wordings)'
    assert second.startswith('2. 1x "xxx') and second.endswith('…" (1 wordings)')
    assert len(second) < 200


@pytest.mark.parametrize(
    "entry_id",
    [
        "pytorch\n`@everyone` <@&123456789012345678>\x00",
        "../../" + "x" * 5000,
        "\u202epytorch\t",
        42,
        None,
    ],
)
def test_an_unknown_id_is_shown_on_one_line_in_one_code_span_pinging_nobody(entry_id: object) -> None:
    told = no_such_entry(entry_id)
    shown = told.removeprefix("No such entry: `").removesuffix("`.")
    assert told == f"No such entry: `{shown}`."
    # Printable apart from the zero-width space that breaks a mention.
    assert "`" not in shown and all(c.isprintable() or c == "\u200b" for c in shown)
    assert len(shown) <= texts.SHOWN_ID_LIMIT
    assert not re.search(r"@(everyone|here|[!&]?[0-9]{17,20})", shown)  # what Discord would ping


def test_mentions_are_escaped_as_discord_escapes_them() -> None:
    samples = ["@everyone", "@here now", "<@123456789012345678>", "<@!123456789012345678>", "a@b.c", "@1234"]
    assert [escape_mentions(s) for s in samples] == [discord.utils.escape_mentions(s) for s in samples]


def test_the_form_turns_its_text_boxes_into_entry_fields() -> None:
    fields = fields_from_form(
        "stack",
        "  What is Jupyter for? ",
        "notebooks?\n\n  jupyter lab \nipynb",
        " Notebooks. ",
        "Jupyter, , Notebooks ",
        "Jupyter | https://jupyter.org/\nThe book\n | https://no-title.example/\n",
    )
    assert {key: value for key, value in fields.items() if key != "reviewed_on"} == {
        "question": "What is Jupyter for?",
        "paraphrases": ["notebooks?", "jupyter lab", "ipynb"],
        "answer": "Notebooks.",
        "topic": "stack",
        "tags": ["jupyter", "notebooks"],
        "sources": [{"title": "Jupyter", "url": "https://jupyter.org/"}, {"title": "The book"}],
    }
