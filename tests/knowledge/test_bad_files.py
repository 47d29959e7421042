"""Damaged or hostile knowledge files, from disk, through `careerbot validate` and `careerbot index`
(the engine's load): each gets a file:line message (file only, where the whole file is refused), the
output stays short, and both commands say the same. Run in a subprocess whose timeout is the guard
against a hang (a pipe named x.yaml hung validate), not a timing assertion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from careerbot.config import Config
from careerbot.engine.loading import load_engine
from careerbot.knowledge.disk import list_files
from careerbot.knowledge.snapshot import refresh
from tests.fakes import FakeEncoder

REPO = Path(__file__).parents[2]
OUTPUT_LIMIT = 4_000  # bytes of stderr: a screenful; 6,000 paraphrases once gave 1.1 GB
# Both commands, with the fake encoder standing in for the model; what each says, as JSON.
BOTH_COMMANDS = """
import contextlib, io, json, sys
import careerbot.retrieval.runtime as runtime
from tests.fakes import FakeEncoder
runtime.open_encoder = lambda *_: FakeEncoder()
from careerbot.cli import main
said = {}
for command in ("validate", "index"):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["--config", sys.argv[1], command])
    said[command] = [code, err.getvalue()]
print(json.dumps(said))
"""

PYTORCH = "faq/stack/pytorch.yaml"


def edit(relative: str, change: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        path.write_bytes(change(path.read_text(encoding="utf-8")).encode("utf-8", "surrogateescape"))

    return apply


def with_fields(relative: str, **fields: object) -> Callable[[Path], None]:
    return edit(relative, lambda text: yaml.safe_dump({**yaml.safe_load(text), **fields}, sort_keys=False))


def alias_bomb(text: str) -> str:
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
    return text.replace("reviewed_on: 2026-11-23", "\n".join(levels) + "\nreviewed_on: *i")


def fifo(root: Path) -> None:
    os.mkfifo(root / "faq" / "stack" / "x.yaml")


def link(target: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / "faq" / "stack" / "x.yaml").symlink_to(target)

    return apply


def link_outside(root: Path) -> None:
    outside = root.parent / "elsewhere" / "x.yaml"
    outside.parent.mkdir()
    outside.write_text((root / PYTORCH).read_text().replace("id: pytorch", "id: x"))
    (root / "faq" / "stack" / "x.yaml").symlink_to(outside)


BAD_INPUTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "NUL": (
        edit(PYTORCH, lambda t: t.replace("answer: ", "answer: \x00")),
        f"{PYTORCH}:7: control character U+0000 at column 9 is not allowed",
    ),
    "ESC": (
        edit(PYTORCH, lambda t: t.replace("answer: ", "answer: \x1b[31m")),
        f"{PYTORCH}:7: control character U+001B at column 9 is not allowed",
    ),
    "ESC written as a YAML escape": (
        edit(
            PYTORCH,
            lambda t: t.replace("answer: PyTorch", 'answer: "\\e[31mPyTorch').replace(
                "networks.", 'networks."'
            ),
        ),
        f"{PYTORCH}:7: answer: holds the character U+001B (written as an escape): not allowed",
    ),
    "not UTF-8": (
        edit(PYTORCH, lambda t: t.replace("answer: ", "answer: \udcff")),
        f"{PYTORCH}:7: not valid UTF-8 (byte 0xff)",
    ),
    "3,000-level nesting": (
        edit(PYTORCH, lambda t: t.replace("tags: [stack]", "tags: " + "[" * 3000 + "]" * 3000)),
        f"{PYTORCH}:9: not valid YAML: nested deeper than 10 levels",
    ),
    "alias bomb": (edit(PYTORCH, alias_bomb), f"{PYTORCH}:13: not valid YAML: anchors and aliases"),
    "a pipe named x.yaml": (fifo, "faq/stack/x.yaml: is not a regular file: not read"),
    "a link to /dev/zero": (link("/dev/zero"), "faq/stack/x.yaml: is a symbolic link: not read"),
    "a dangling link": (link("/nowhere/x.yaml"), "faq/stack/x.yaml: is a symbolic link: not read"),
    "a link outside the folder": (link_outside, "faq/stack/x.yaml: is a symbolic link: not read"),
    "a file over the size limit": (
        edit(PYTORCH, lambda t: t + "# " + "padding " * 40_000 + "\n"),
        f"{PYTORCH}: is 320,",
    ),
    "6,000 paraphrases": (
        with_fields(PYTORCH, paraphrases=[f"pytorch question number {i}" for i in range(6000)]),
        f"{PYTORCH}:3: paraphrases: has 6,000 items; at most 50 are allowed",
    ),
    "5,000 bad sources": (
        with_fields(PYTORCH, sources=["not a mapping"] * 5000),
        f"{PYTORCH}: ... and 4,980 more problems in this file",
    ),
}


def run_both(settings: Path) -> dict[str, tuple[int, str]]:
    result = subprocess.run(
        [sys.executable, "-c", BOTH_COMMANDS, str(settings)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=20,  # a hang guard only
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return {command: (code, err) for command, (code, err) in json.loads(result.stdout).items()}


@pytest.fixture
def settings(tmp_path: Path, knowledge_dir: Path) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(f'[knowledge]\ndir = "{knowledge_dir}"\n[index]\ndir = "{tmp_path / "index"}"\n')
    return path


@pytest.mark.parametrize("stored_index", [False, True], ids=["first build", "index stored before"])
@pytest.mark.parametrize("bad", list(BAD_INPUTS))
def test_validate_and_index_name_the_bad_file_briefly_and_agree(
    bad: str, stored_index: bool, settings: Path, knowledge_dir: Path, config: Config
) -> None:
    if stored_index:  # the engine's load then re-reads only what changed since: the other path
        load_engine(config, encoder=FakeEncoder())
    damage, expected = BAD_INPUTS[bad]
    damage(knowledge_dir)
    said = run_both(settings)
    for command in ("validate", "index"):
        code, err = said[command]
        assert code == 1, (command, err)
        assert f"{knowledge_dir}/{expected}" in err, (command, err)
        assert len(err.encode()) < OUTPUT_LIMIT, (command, len(err))
    validate, index = (
        [line for line in said[c][1].splitlines() if line.startswith(f"{knowledge_dir}/")] for c in said
    )
    assert validate == index


def test_the_change_scan_lists_every_file_past_a_dangling_link_and_picks_up_a_later_hand_edit(
    knowledge_dir: Path,
) -> None:
    before = refresh(knowledge_dir, None).snapshot
    assert before is not None
    for name in ("a", "m", "z"):  # wherever the folder listing puts them, nothing after them is skipped
        (knowledge_dir / "faq" / "stack" / f"{name}.yaml").symlink_to("/nowhere")
    edit(PYTORCH, lambda t: t.replace("PyTorch builds", "Edited by hand, PyTorch builds"))(knowledge_dir)
    stamps = list_files(knowledge_dir).stamps
    assert {"faq/stack/a.yaml", "faq/stack/m.yaml", "faq/stack/z.yaml", PYTORCH} <= stamps.keys()
    refused = refresh(knowledge_dir, before)  # as `validate` says: the links are refused
    assert refused.snapshot is None
    assert {str(p.path.name) for p in refused.problems} == {"a.yaml", "m.yaml", "z.yaml"}
    for name in ("a", "m", "z"):
        (knowledge_dir / "faq" / "stack" / f"{name}.yaml").unlink()
    after = refresh(knowledge_dir, before)
    assert after.snapshot is not None and after.changed_items == {"pytorch"}
    pytorch = after.snapshot.knowledge.get("pytorch")
    assert pytorch is not None and pytorch.answer.startswith("Edited by hand")
