from pathlib import Path

import pytest

from spoken100.book.profiles import PROFILE_NAMES, ProfileError, load_profile, notebook_parameters
from spoken100.book.runner import check_parameters

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_shipped_profiles_fit_the_notebooks(name):
    profile = load_profile(ROOT / "profiles" / f"{name}.yml")
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        check_parameters(notebook, notebook_parameters(profile, notebook.stem, name, "standin"))


@pytest.mark.parametrize("name", ["smoke", "default", "paper"])
def test_deployment_deploys_exactly_the_searches_of_chapter_5(name):
    from spoken100.nas.search import search_configs

    notebooks = load_profile(ROOT / "profiles" / f"{name}.yml")["notebooks"]
    assert notebooks["06_deployment"]["search"] == notebooks["05_evonas"]
    configs = search_configs(notebooks["05_evonas"])
    assert sorted(configs) == sorted(notebooks["05_evonas"]["tasks"])


def test_every_profile_file_is_named():
    assert sorted(p.stem for p in (ROOT / "profiles").glob("*.yml")) == sorted(PROFILE_NAMES)


def test_impossible_profile_is_refused(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("corpus:\n  n_speakers: 7\n")
    with pytest.raises(ProfileError, match="n_speakers"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="no such profile"):
        load_profile(tmp_path / "missing.yml")


def test_unknown_notebook_parameter_is_refused():
    notebook = ROOT / "notebooks" / "01_generation_audit.ipynb"
    with pytest.raises(ValueError, match="does not declare"):
        check_parameters(notebook, {"data": "standin", "epochs": 3})


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_chapter_follows_the_teaching_skeleton(notebook):
    """Overview, prerequisites, parameters explained, content, what this build found, exercises."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    opening = nb.cells[0].source
    for part in ("**What the paper did.**", "**What this chapter adds.**", "**Prerequisites:**", "**Parameters:**"):
        assert part in opening, f"{notebook.name}: the first cell lacks {part}"
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    found, exercises = markdown.find("## What this build found"), markdown.find("## Exercises")
    assert 0 < found < exercises, f"{notebook.name}: needs '## What this build found' then '## Exercises'"
    assert "{glue:text}" in markdown[found:exercises], f"{notebook.name}: findings must be glued, not typed"
    assert markdown[exercises:].count("\n1. ") == 1 and "\n2. " in markdown[exercises:]
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
