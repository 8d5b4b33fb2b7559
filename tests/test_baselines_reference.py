"""Reference records: long runs exported, read back, and set beside a build's runs."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from spoken100.baselines import reference
from spoken100.baselines.train import RunSpec, train_run
from spoken100.data.splits import Fold


def _data(n_per_speaker: int = 16):
    rng = np.random.default_rng(0)
    speakers = np.repeat(["a", "b", "c", "d", "e", "f"], n_per_speaker)
    y = np.tile(np.arange(4), len(speakers) // 4)
    X = rng.normal(size=(len(speakers), 128, 32)).astype(np.float32)
    X[:, :8, :] += 2 * y[:, None, None]
    return X, y, speakers


def _run(epochs: int):
    X, y, speakers = _data()
    spec = RunSpec(model="cnn_2d", task="language", protocol="honest", fold=Fold(1, ("a", "b", "c", "d"), ("e", "f")),
                   epochs=epochs, data_key="synthetic", val_speakers=("a", "b"), batch_size=8,
                   schedule="onecycle", learning_rate=1e-3)  # fmt: skip
    return train_run(spec, X, y, speakers, progress=False)


CORPUS = SimpleNamespace(kind="standin", label="stand-in", digest="abc", index=pd.DataFrame({"x": range(96)}))


def test_plateau_and_verdict():
    flat = {"val_accuracy": [0.2, 0.5, 0.61, 0.62, 0.60]}
    level = reference.plateau(flat)
    assert np.isnan(level.pop("seconds_needed"))  # a history without epoch times: no budget to state
    assert level == {"plateau": 0.62, "plateau_epoch": 4, "epochs_needed": 3, "epochs_run": 5, "still_rising": False}
    assert reference.verdict(0.60, level, default_epochs=2) == "within 2.0 points of plateau"
    below = reference.verdict(0.40, level, default_epochs=2)
    assert below.startswith("22.0 points below plateau after 2 epochs") and below.endswith("within 3 points at epoch 3")
    # with epoch times, the budget is the time of the epochs up to the one that came within reach
    timed = reference.plateau({**flat, "seconds": [60.0, 120.0, 180.0, 600.0, 600.0]})
    assert timed["seconds_needed"] == 360.0
    assert reference.verdict(0.40, timed, default_epochs=2, threads=1).endswith(
        "within 3 points at epoch 3 (after 6 min of its training at 1 thread)")  # fmt: skip
    assert reference.verdict(0.40, timed, default_epochs=2, threads=2).endswith(
        "(after 6 min of its training at 2 threads)"
    )
    assert reference.verdict(0.61, timed, default_epochs=2) == "within 1.0 points of plateau"  # no budget when there
    rising = reference.plateau({"val_accuracy": [0.1, 0.2, 0.3]})
    assert rising["still_rising"] and "still rising" in reference.verdict(0.3, rising, default_epochs=3)
    # a run at chance is flagged, whatever its gap; one clearly above chance is not
    diverged = reference.verdict(0.25, level, default_epochs=2, chance=0.25)
    assert diverged.startswith("at chance (25.0 %, chance 25 %)") and "37.0 points below plateau" in diverged
    assert not reference.verdict(0.40, level, default_epochs=2, chance=0.25).startswith("at chance")
    assert reference.verdict(0.615, level, default_epochs=2, chance=0.61) == "within 0.5 points of plateau"


def test_records_round_trip_and_meet_the_builds_runs(tmp_path):
    long = _run(epochs=3)
    record = reference.run_record(long, corpus=CORPUS, profile="reference", commit="c0ffee", machine={"cpu": "test"})
    json.dumps(record)  # a record is plain JSON
    assert "weights" not in json.dumps(record) and record["cpu_hours"] == pytest.approx(long.seconds / 3600)
    reference.write_record(record, tmp_path)
    records = reference.load_records(tmp_path)
    assert len(records) == 1 and records[0]["history"]["val_accuracy"] == list(long.history.val_accuracy)
    assert reference.load_records(tmp_path / "none") == []

    short = _run(epochs=1)
    table = reference.convergence_table([short], records)
    (row,) = table.to_dict("records")
    level = reference.plateau(long.history)
    assert row["plateau"] == level["plateau"]
    assert row["gap_points"] == pytest.approx(100 * (level["plateau"] - short.history.val_accuracy.max()))
    assert row["verdict"] == reference.verdict(short.history.val_accuracy.max(), level, 1, chance=0.25,
                                               threads=record["threads"])  # fmt: skip
    assert row["stale"] is False and row["like_for_like"] is True
    # the budgets side by side: this build's training minutes, and the long run's up to its plateau
    assert row["default_minutes"] == pytest.approx(short.seconds / 60)
    needed = sum(long.history.seconds.iloc[: level["epochs_needed"]]) / 60
    assert 0 < row["minutes_needed"] == pytest.approx(needed)

    assert reference.verdict_of(table, "cnn_2d", "language") == row["verdict"]
    assert reference.verdict_of(table, "rnn", "language") == "no long run yet"
    records[0]["training_code"] = "older"
    stale = reference.convergence_table([short], records).iloc[0]
    assert stale.stale and stale.verdict.startswith("stale (the long run was trained by other code")
    assert stale.verdict.endswith(row["verdict"])  # the same verdict, flagged
    records[0]["training_code"] = reference.training_code()
    # a long run at another peak rate (as another processor's range test may choose) is not like for like
    other = [{**records[0], "learning_rate": 5e-4}]
    (row,) = reference.convergence_table([short], other).to_dict("records")
    assert row["like_for_like"] is False
    assert row["verdict"].startswith("not like for like (long run vs this build: peak rate 0.0005 vs 0.001)")
    assert row["verdict"].endswith(
        reference.verdict(short.history.val_accuracy.max(), level, 1, chance=0.25, threads=records[0]["threads"])
    )
    # nor is a long run of another schedule, batch size or batch cap
    other = {**records[0], "schedule": "paper", "spec": {**records[0]["spec"], "batch_size": 32, "max_batches": 5}}
    assert reference.recipe_differences(other, short.spec) == [
        "schedule paper vs onecycle", "batch size 32 vs 8", "batches per epoch (cap) 5 vs None"]  # fmt: skip
    assert reference.recipe_differences(records[0], short.spec) == []
    # a narrowed BiLSTM (the default profile's) is another network; its default width written out is not
    bilstm = dataclasses.replace(short.spec, model="rnn", model_options=(("width", 0.25),))
    full = {**records[0], "model": "rnn", "model_options": {}}
    assert reference.recipe_differences(full, bilstm) == ["model options {} vs {'width': 0.25}"]
    assert reference.recipe_differences(full, dataclasses.replace(bilstm, model_options=(("width", 1.0),))) == []
    # a run without a long run is neither like nor unlike one
    assert reference.convergence_table([short], []).like_for_like.iloc[0] is None
    records[0]["val_speakers"] = ["c", "d"]  # other validation speakers: not comparable
    assert reference.convergence_table([short], records).verdict.iloc[0] == "no long run yet"


def test_matching_and_summary():
    long = _run(epochs=2)
    record = reference.run_record(long, corpus=CORPUS, profile="reference", commit="c", machine={"cpu": "test"})
    other = {**record, "corpus": {**record["corpus"], "n_clips": 3200}}
    assert reference.matching_records([record, other], CORPUS) == [record]
    summary = reference.reference_summary([record], digest="abc")
    (row,) = summary.to_dict("records")
    assert row["folds"] == 1 and row["accuracy"] == long.test_accuracy["best_val"]
    assert row["clip_ci_low"] <= row["accuracy"] <= row["clip_ci_high"] and row["same_corpus"]
    assert not reference.reference_summary([record], digest="else").same_corpus.iloc[0]
    assert reference.reference_summary([]).empty


def test_a_short_budget_is_printed_in_seconds():
    quick = reference.plateau({"val_accuracy": [0.2, 0.6, 0.62, 0.61], "seconds": [20.0, 40.0, 40.0, 40.0]})
    assert reference.verdict(0.3, quick, default_epochs=1, threads=1).endswith(
        "(after 60 s of its training at 1 thread)"
    )
