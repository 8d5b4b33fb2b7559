"""The learning-rate range test and the one-cycle schedule of the short-budget training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spoken100.baselines import lrfinder, train
from spoken100.baselines.lrfinder import RangeTestSettings, lr_range_test, suggest_lr
from spoken100.baselines.train import RunSpec, TrainingError, train_run
from spoken100.data.splits import Fold


def _data(n_per_speaker: int = 16):
    rng = np.random.default_rng(0)
    speakers = np.repeat(["a", "b", "c", "d", "e", "f"], n_per_speaker)
    y = np.tile(np.arange(4), len(speakers) // 4)
    X = rng.normal(size=(len(speakers), 128, 32)).astype(np.float32)
    X[:, :8, :] += y[:, None, None]
    return X, y, speakers


def test_suggestion_is_halfway_along_the_longest_descent():
    lr = np.logspace(-6, 2, 9)
    # falls from 1e-6 to 1e-1 (with a bump at 1e-3 that the descent skips), then explodes
    curve = pd.DataFrame({"lr": lr, "loss": 0.0, "smoothed": [5.0, 4.0, 3.0, 3.5, 2.0, 1.0, 9.0, 20.0, 40.0]})
    assert lrfinder.longest_descent(curve.smoothed) == (0, 5)
    assert suggest_lr(curve) == pytest.approx(1e-4)  # index (0 + 5) // 2
    plateau = curve.assign(smoothed=[5.0, 4.0, 3.0, 2.9, 2.95, 2.8, 2.85, 2.7, 2.75])  # a noisy plateau, no blow-up
    assert suggest_lr(plateau) < 1e-2 < plateau.lr.iloc[int(plateau.smoothed.idxmin())]
    with pytest.raises(ValueError, match="empty"):
        suggest_lr(curve.iloc[:0])


def test_range_test_grows_the_rate_stops_when_the_loss_explodes_and_is_kept(monkeypatch):
    X, y, speakers = _data()
    rows = np.flatnonzero(np.isin(speakers, ["a", "b", "c", "d"]))
    settings = RangeTestSettings(start=1e-5, end=1e3, steps=30, batch_size=8)
    test = lr_range_test("cnn_2d", "language", X, y, rows, "synthetic", settings, progress=False)
    curve = test.curve
    ratios = curve.lr.iloc[1:].to_numpy() / curve.lr.iloc[:-1].to_numpy()
    assert np.allclose(ratios, (1e3 / 1e-5) ** (1 / 29))  # exponential steps
    assert len(curve) < 30  # a rate of hundreds diverges: the test stops early
    start, end = lrfinder.longest_descent(curve.smoothed)
    assert test.suggested_lr == curve.lr.iloc[(start + end) // 2]

    monkeypatch.setattr(lrfinder, "run_range_test", lambda *a, **k: pytest.fail("the kept test was rerun"))
    again = lr_range_test("cnn_2d", "language", X, y, rows, "synthetic", settings, progress=False)
    pd.testing.assert_frame_equal(again.curve, curve)


def test_one_cycle_warms_up_then_anneals_and_resumes_identically(tmp_path, monkeypatch):
    X, y, speakers = _data()
    spec = RunSpec(model="cnn_2d", task="language", protocol="honest", fold=Fold(1, ("a", "b", "c", "d"), ("e", "f")),
                   epochs=4, data_key="synthetic", val_speakers=("a", "b"), batch_size=8, max_batches=3,
                   schedule="onecycle", learning_rate=3e-3)  # fmt: skip
    run = train_run(spec, X, y, speakers, progress=False)
    lrs = run.history.lr.to_numpy()
    assert lrs[0] < lrs[1] and lrs[-1] < lrs[1] and lrs.max() <= 3e-3 * 1.0001  # warm-up, then annealing
    assert run.history.train_loss.iloc[-1] < run.history.train_loss.iloc[0]

    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path / "interrupted"))
    real_save = train._save_checkpoint
    calls = {"n": 0}

    def crash_after_second_epoch(path, state):
        real_save(path, state)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train, "_save_checkpoint", crash_after_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        train_run(spec, X, y, speakers, progress=False)
    monkeypatch.setattr(train, "_save_checkpoint", real_save)
    resumed = train_run(spec, X, y, speakers, progress=False)
    pd.testing.assert_frame_equal(resumed.history.drop(columns="seconds"), run.history.drop(columns="seconds"))


def test_one_cycle_needs_a_rate_and_unknown_schedules_are_refused():
    fold = Fold(1, ("a", "b", "c", "d"), ("e", "f"))
    base = {"model": "cnn_2d", "task": "language", "protocol": "paper", "fold": fold, "epochs": 1, "data_key": "k"}
    with pytest.raises(TrainingError, match="learning_rate"):
        RunSpec(**base, schedule="onecycle").validate(list("abcdef"))
    with pytest.raises(TrainingError, match="unknown schedule"):
        RunSpec(**base, schedule="cosine").validate(list("abcdef"))
