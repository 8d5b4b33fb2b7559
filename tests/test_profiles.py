from pathlib import Path

import pytest

from spoken100.profiles import ProfileError, load_profile, notebook_parameters
from spoken100.runner import check_parameters

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["smoke", "default", "paper"])
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
