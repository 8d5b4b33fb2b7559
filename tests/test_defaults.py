"""One set of defaults: the default profile is the single source of every chapter's settings.

A notebook's parameters cell (what a chapter uses when run on its own, e.g. in Jupyter) and the
defaults of :class:`spoken100.nas.search.SearchConfig` (what the search uses when called from code)
must equal ``profiles/default.yml``, so chapter 6 run alone deploys the same search as chapter 5.
"""

from __future__ import annotations

import ast
from dataclasses import MISSING, fields
from pathlib import Path

import nbformat
import pytest

from spoken100.book.profiles import load_profile

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Parameters the runner sets from the command line and the profile's corpus section, not per chapter.
RUNNER_PARAMETERS = {"data", "profile", "n_speakers"}


def parameters_cell(notebook: Path) -> dict:
    """The literal values assigned in the notebook's cell tagged ``parameters``."""
    nb = nbformat.read(notebook, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    values = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def disagreements(declared: dict, profile: dict, where: str) -> list[str]:
    """Every name whose value in ``declared`` differs from ``profile``, or that only one of them has."""
    problems = []
    for name in sorted(set(declared) | set(profile)):
        if name not in profile:
            problems.append(f"{where}: {name} = {declared[name]!r} is not in the default profile")
        elif name not in declared:
            problems.append(f"{where}: the default profile sets {name}, which it does not declare")
        elif declared[name] != profile[name]:
            problems.append(f"{where}: {name} = {declared[name]!r}, the default profile says {profile[name]!r}")
    return problems


def default_section(stem: str) -> dict:
    return load_profile(ROOT / "profiles" / "default.yml")["notebooks"].get(stem, {})


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_equals_the_default_profile(notebook):
    declared = {k: v for k, v in parameters_cell(notebook).items() if k not in RUNNER_PARAMETERS}
    problems = disagreements(declared, default_section(notebook.stem), notebook.name)
    assert not problems, "\n".join(problems)


def test_search_config_defaults_equal_the_default_profile():
    from spoken100.nas.search import SearchConfig

    profile = default_section("05_evonas")
    defaults = {f.name: f.default for f in fields(SearchConfig) if f.default is not MISSING}
    problems = disagreements({k: defaults[k] for k in profile if k in defaults},
                             {k: v for k, v in profile.items() if k in defaults}, "SearchConfig")  # fmt: skip
    assert not problems, "\n".join(problems)


def test_the_check_reports_a_disagreement():
    found = disagreements({"epochs": 6, "seed": 0}, {"epochs": 4, "folds": [1], "seed": 0}, "nb")
    assert found == [
        "nb: epochs = 6, the default profile says 4",
        "nb: the default profile sets folds, which it does not declare",
    ]
