"""map_clips: cached per chunk, resumes after an interruption, recomputes only what changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from spoken100.data.clipmap import map_clips


def peak(path: Path, scale: float = 1.0, log: str | None = None) -> dict:
    if log:
        with open(log, "a") as fh:
            fh.write(path.name + "\n")
    audio, _ = sf.read(str(path))
    if path.name == "bad.wav":
        raise RuntimeError("interrupted")
    return {"peak": scale * float(np.abs(audio).max()), "name": path.stem, "head": audio[:4].astype(np.float32)}


@pytest.fixture
def clips(tmp_path):
    rows = []
    for i in range(10):
        sf.write(tmp_path / f"{i}.wav", np.full(100, (i + 1) / 20), 8000, subtype="PCM_16")
        rows.append({"path": f"{i}.wav", "sha256": f"h{i}"})
    return tmp_path, pd.DataFrame(rows)


def test_results_align_with_index_and_are_cached(clips, tmp_path):
    root, index = clips
    log = str(tmp_path / "log")
    table, arrays = map_clips(peak, root, index, {"log": log}, chunk_size=3, n_jobs=1, progress=False)
    assert list(table.path) == list(index.path)
    assert np.allclose(table.peak, np.arange(1, 11) / 20, atol=1e-3)
    assert list(table.name) == [str(i) for i in range(10)]
    assert arrays["head"].shape == (10, 4)
    assert len(open(log).read().split()) == 10

    again, _ = map_clips(peak, root, index, {"log": log}, chunk_size=3, n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(again, table)
    assert len(open(log).read().split()) == 10  # nothing recomputed


def test_interrupted_run_resumes_and_changes_recompute_one_chunk(clips, tmp_path):
    root, index = clips
    log = str(tmp_path / "log")
    broken = index.copy()
    sf.write(root / "bad.wav", np.zeros(10), 8000)
    broken.loc[7, "path"] = "bad.wav"
    with pytest.raises(RuntimeError, match="interrupted"):
        map_clips(peak, root, broken, {"log": log}, chunk_size=3, n_jobs=1, progress=False)
    done = len(open(log).read().split())
    assert done == 8  # chunks 0-2, 3-5 stored; chunk 6-8 failed at its second clip

    map_clips(peak, root, index, {"log": log}, chunk_size=3, n_jobs=1, progress=False)
    assert len(open(log).read().split()) == done + 4  # only chunks 6-8 and 9

    changed = index.copy()
    changed.loc[0, "sha256"] = "new"
    map_clips(peak, root, changed, {"log": log}, chunk_size=3, n_jobs=1, progress=False)
    assert len(open(log).read().split()) == done + 4 + 3

    map_clips(peak, root, index, {"log": log, "scale": 2.0}, chunk_size=3, n_jobs=1, progress=False)
    assert len(open(log).read().split()) == done + 4 + 3 + 10  # new parameters: new results
