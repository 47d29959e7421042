"""Whether a change altered any reply: `careerbot ask --json` of this checkout against another one's code,
on every dev and regression question, with the same bot.toml, knowledge and index.

    .venv/bin/python benchmarks/compare_answers.py OLD_CHECKOUT [--sets dev regression] [--show 3]

OLD_CHECKOUT is a folder holding the other code's src/ (e.g. `git worktree add /tmp/old main`, or
`git archive main | tar -x -C /tmp/old`). Prints how many questions got a different JSON line (0 means
the change is invisible to members) and the first few differences; exits 1 if any differ.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def eval_questions(sets: list[str]) -> list[str]:
    """One line per question: `ask --json` reads a question per line, and answering folds whitespace."""
    questions = []
    for name in sets:
        cases = yaml.safe_load((REPO / "knowledge" / "eval" / f"{name}.yaml").read_text(encoding="utf-8"))
        questions += [" ".join(case["question"].split()) for case in cases["questions"]]
    return questions


def ask_json(source: Path, questions: list[str], config: Path) -> list[str]:
    environment = {**os.environ, "PYTHONPATH": str(source)}
    result = subprocess.run(
        [sys.executable, "-m", "careerbot", "--config", str(config), "ask", "--json"],
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        env=environment,
    )
    if result.returncode != 0:
        sys.exit(f"careerbot ask --json with {source} failed:\n{result.stderr}")
    return result.stdout.splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("old", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--sets", nargs="+", default=["dev", "regression"])
    parser.add_argument("--show", type=int, default=3, help="differences to print")
    parser.add_argument(
        "--old-config",
        type=Path,
        default=REPO / "bot.toml",
        help="settings the old code reads, beside this bot.toml so its paths are the same (default: "
        "this bot.toml; give a copy without the keys the old code does not know yet)",
    )
    args = parser.parse_args()
    questions = eval_questions(args.sets)
    old = ask_json(args.old.resolve() / "src", questions, args.old_config)
    new = ask_json(REPO / "src", questions, REPO / "bot.toml")
    if len(old) != len(questions) or len(new) != len(questions):
        sys.exit(f"expected {len(questions)} JSON lines, got {len(old)} (old) and {len(new)} (new)")
    differing = [(before, after) for before, after in zip(old, new, strict=True) if before != after]
    print(f"{len(questions)} questions ({', '.join(args.sets)}): {len(differing)} replies differ")
    for before, after in differing[: args.show]:
        print(f"- old: {before}\n+ new: {after}")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
