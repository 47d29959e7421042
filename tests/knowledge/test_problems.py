from __future__ import annotations

from pathlib import Path

from careerbot.knowledge.problems import SHOWN_IN_ALL, SHOWN_PER_FILE, Problem, bounded, count_problems


def test_a_long_list_is_cut_per_file_and_in_all_and_still_counts_every_problem() -> None:
    problems = [
        Problem(Path(f"f{f:03}.yaml"), line, None, "bad") for f in range(50) for line in range(1, 101)
    ]
    shown = bounded(problems)
    assert count_problems(shown) == len(problems) == 5000
    assert len(shown) <= SHOWN_IN_ALL + 50 + 1
    first = [p for p in shown if p.path == Path("f000.yaml")]
    assert len(first) == SHOWN_PER_FILE + 1 and first[-1].message == "... and 80 more problems in this file"
    assert shown[-1].message.startswith("... and ") and shown[-1].message.endswith("more files")
    assert bounded(shown) == shown


def test_a_message_quoting_a_huge_value_is_clipped() -> None:
    text = str(Problem(Path("x.yaml"), 3, "k" * 500, "got " + "lol" * 100_000))
    assert len(text) < 1200 and text.endswith("(300,004 characters)")
