"""Every third-party package the code imports is declared in pyproject.toml (not just pulled in by
another package, which may drop it in any release): src/ in `dependencies`, tests/ there or in `dev`."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OWN = {"careerbot", "tests", "synthetic"}


def imported_top_level(folder: Path) -> set[str]:
    """Top-level names of every import in the folder's Python files, inside functions too."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - OWN - {"__future__"}


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(*groups: str) -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in groups:
        requirements += project["optional-dependencies"][group]
    return {normalised(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]) for requirement in requirements}


@pytest.mark.parametrize(("folder", "groups"), [("src", ()), ("tests", ("dev",))])
def test_every_imported_package_is_declared(folder: str, groups: tuple[str, ...]) -> None:
    distributions = packages_distributions()
    allowed = declared(*groups)
    missing = {
        name: distributions.get(name, ["(not installed)"])
        for name in imported_top_level(REPO / folder)
        if not {normalised(d) for d in distributions.get(name, [])} & allowed
    }
    assert not missing, f"imported in {folder}/ but not declared in pyproject.toml: {missing}"
