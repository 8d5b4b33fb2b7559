"""Where data go: SPOKEN100_HOME, else the checkout's data/ folder, else the user's cache folder."""

from __future__ import annotations

from pathlib import Path

from spoken100.data import paths

ROOT = Path(__file__).resolve().parents[1]


def test_without_the_variable_an_editable_checkout_keeps_its_data_in_data(monkeypatch):
    monkeypatch.delenv(paths.ENV_HOME, raising=False)
    assert paths.source_checkout() == ROOT
    assert paths.data_home() == ROOT / "data"


def test_the_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.ENV_HOME, str(tmp_path / "elsewhere"))
    assert paths.data_home() == tmp_path / "elsewhere" and (tmp_path / "elsewhere").is_dir()
    assert paths.cache_dir("a", "b") == tmp_path / "elsewhere" / "cache" / "a" / "b"


def test_outside_a_checkout_data_go_to_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.ENV_HOME, raising=False)
    monkeypatch.setattr(paths, "source_checkout", lambda: None)
    monkeypatch.setattr(paths.platformdirs, "user_cache_dir", lambda name: str(tmp_path / "cache" / name))
    assert paths.data_home() == tmp_path / "cache" / "spoken100"
