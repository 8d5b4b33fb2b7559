"""Atomic writes: the final file has the permissions the umask gives, and a folder is never overwritten."""

from __future__ import annotations

import os
import stat

import pytest

from spoken100.data import atomic


@pytest.fixture
def umask():
    """Set the umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_outputs_follow_the_umask(tmp_path, umask, mask):
    umask(mask)
    target = tmp_path / "out" / "table.csv"
    atomic.write_text(target, "a,b\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert atomic.write_json(tmp_path / "x.json", {"a": 1})
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o666 & ~mask


def test_a_folder_is_never_the_target(tmp_path):
    folder = tmp_path / "index.csv"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep")
    with pytest.raises(IsADirectoryError) as err:
        atomic.write_text(folder, "x")
    assert err.value.filename == str(folder)
    assert (folder / "mine.txt").read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir()] == ["index.csv"]  # no temporary file left behind
