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


def test_longest_descent_is_fastais_valley():
    # falls from 5 to 1 with a bump that the decreasing subsequence skips, then explodes
    assert lrfinder.longest_descent([5.0, 4.0, 3.0, 3.5, 2.0, 1.0, 9.0, 20.0]) == (0, 5)
    # the stretch is counted back from the end by the subsequence's length (fastai's max_start)
    assert lrfinder.longest_descent([9.0, 1.0, 2.0, 8.0, 7.0]) == (1, 4)  # 9, 8, 7 begins at 0
    assert lrfinder.longest_descent([3.0, 2.0, 1.0]) == (-1, 2)  # the whole curve falls
    with pytest.raises(ValueError):
        lrfinder.longest_descent([])


def test_suggestion_skips_the_noisy_start_and_the_explosion_and_sits_in_the_valley():
    lr = np.logspace(-7, 1, 40)
    smoothed = np.r_[[1.0, 9.0, 1.0, 9.0], np.linspace(5, 1, 20), np.linspace(2, 40, 16)]
    curve = pd.DataFrame({"lr": lr, "loss": smoothed, "smoothed": smoothed})
    # kept: batches 4-34; valley: kept batches -1..19 (all 20 falling); suggestion: -1 + 6 + 3 = 8
    assert suggest_lr(curve, steps=40) == pytest.approx(lr[4 + 8])
    assert curve.lr.iloc[4] < suggest_lr(curve, steps=40) < curve.lr.iloc[23]  # inside the descent
    plateau = curve.assign(smoothed=np.r_[smoothed[:24], 1 - 0.01 * np.arange(16) * (np.arange(16) % 2)])
    assert suggest_lr(plateau, steps=40) < plateau.lr.iloc[int(plateau.smoothed.idxmin())] / 10
    with pytest.raises(ValueError, match="empty"):
        suggest_lr(curve.iloc[:0])


def test_suggestion_never_passes_a_tenth_of_the_rate_of_the_lowest_loss():
    # the loss bottoms out at batch 14, jumps (units died) and then creeps down on a long flat stretch:
    # the longest descent, and so the valley, lies past the minimum
    lr = np.logspace(-6, 0, 50)
    smoothed = np.r_[[5.0] * 5, np.linspace(5, 1, 10), np.linspace(3, 2, 35)]
    curve = pd.DataFrame({"lr": lr, "loss": smoothed, "smoothed": smoothed})
    start, end = lrfinder.longest_descent(smoothed[5:45])
    assert 5 + start + (end - start) // 2 > 14  # uncapped, the valley's middle is past the minimum
    assert suggest_lr(curve) == pytest.approx(lr[14] / 10)


def test_range_test_grows_the_rate_stops_when_the_loss_explodes_and_is_kept(monkeypatch):
    X, y, speakers = _data()
    rows = np.flatnonzero(np.isin(speakers, ["a", "b", "c", "d"]))
    settings = RangeTestSettings(start=1e-5, end=1e3, steps=30, batch_size=8)
    test = lr_range_test("cnn_2d", "language", X, y, rows, "synthetic", settings, progress=False)
    curve = test.curve
    ratios = curve.lr.iloc[1:].to_numpy() / curve.lr.iloc[:-1].to_numpy()
    assert np.allclose(ratios, (1e3 / 1e-5) ** (1 / 29))  # exponential steps
    assert len(curve) < 30  # a rate of hundreds diverges: the test stops early
    assert test.suggested_lr == suggest_lr(curve, settings.steps)
    assert curve.lr.iloc[0] < test.suggested_lr < curve.lr.iloc[-1]  # below the rate that exploded

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


def test_range_test_table_says_how_far_the_loss_fell():
    curve = pd.DataFrame({"lr": [1e-5, 1e-4, 1e-3], "loss": 0.0, "smoothed": [4.0, 3.0, 1.0]})
    test = lrfinder.RangeTest("cnn_2d", "language", curve, 1e-4)
    (row,) = lrfinder.range_test_table([test], ["language", "number"]).to_dict("records")
    assert row["loss fell (%)"] == pytest.approx(75.0) and row["rate used for"] == "language, number"
    assert row["lowest-loss rate"] == 1e-3
