"""Retraining over folds: every (model, fold, seed) trained on the fit speakers, scored on the test speakers."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from spoken100.nas import retrain
from spoken100.nas.search_config import SearchConfig, published_candidates
from spoken100.nas.task_data import TaskData

SPEAKERS = [f"s{i}" for i in range(8)]


def _fold_data(corpus, config, progress=False) -> TaskData:
    """Fold f tests on speakers s(2f-2), s(2f-1); the rest fit (the last two of them validate)."""
    test = tuple(SPEAKERS[2 * config.fold - 2 : 2 * config.fold])
    rest = [s for s in SPEAKERS if s not in test]
    speakers = np.repeat(SPEAKERS, 4)
    return TaskData(config.task, np.zeros((len(speakers), 8), np.float32), np.arange(len(speakers)) % 4, speakers,
                    tuple(rest[:-2]), tuple(rest[-2:]), test, data_key=f"fold{config.fold}")  # fmt: skip


def test_every_model_fold_and_seed_is_trained_on_fit_and_scored_on_test(monkeypatch):
    calls = []

    def fake_train(genome, X, y, speakers, fit, val, test, **kw):
        calls.append({"fit": set(fit), "val": set(val), "test": set(test), **kw})
        score = 0.25 + 0.01 * len(calls)
        return SimpleNamespace(test_accuracy=score, val_accuracy=score / 2, n_fit=len(fit) * 4,
                               n_test=len(test) * 4, seconds=1.0, cached=False)  # fmt: skip

    monkeypatch.setattr(retrain, "task_data", _fold_data)
    monkeypatch.setattr(retrain, "train_genome", fake_train)
    genomes = {f"paper {k.split('_', 1)[1]}": g for k, g in published_candidates("language").items()}
    settings = retrain.RetrainSettings(folds=(1, 3), seeds=(0, 1), epochs=2)
    runs = retrain.retrain_over_folds(None, SearchConfig(task="language"), genomes, settings, progress=False)
    assert len(runs) == 2 * 2 * 3 and set(runs.fold) == {1, 3} and set(runs.seed) == {0, 1}
    for call in calls:
        assert not call["test"] & (call["fit"] | call["val"])  # the test speakers are never trained on
        assert call["schedule"] == retrain.RETRAIN_SCHEDULE and call["epochs"] == 2
        assert call["max_train_clips"] is None and call["max_val_clips"] is None  # every fit clip
    assert {frozenset(c["test"]) for c in calls} == {frozenset({"s0", "s1"}), frozenset({"s4", "s5"})}
    assert (runs.test_accuracy == 2 * runs.val_accuracy).all()  # the test score, not the validation one
    summary = retrain.retrain_summary(runs)
    assert list(summary.runs) == [4, 4, 4] and (summary.chance == 0.25).all()
    assert summary["mean"].tolist() == [runs[runs.model == m].test_accuracy.mean() for m in summary.model]


def test_the_summary_is_mean_population_sd_and_a_t_interval():
    import pandas as pd

    runs = pd.DataFrame({"model": ["a"] * 3 + ["b"], "task": ["number"] * 4, "fold": [1, 2, 3, 1], "seed": [0] * 4,
                         "test_accuracy": [0.1, 0.2, 0.3, 0.5]})  # fmt: skip
    summary = retrain.retrain_summary(runs).set_index("model")
    assert summary.loc["a", "mean"] == pytest.approx(0.2)
    assert summary.loc["a", "sd"] == pytest.approx(np.sqrt(((0.1**2) * 2) / 3))  # ddof 0, as the paper printed it
    half = 4.302652729911275 * 0.1 / np.sqrt(3)  # t(0.975, 2 df) x sample SD / sqrt(n)
    assert summary.loc["a", "ci_low"] == pytest.approx(0.2 - half) and summary.loc["a", "ci_high"] == pytest.approx(
        0.2 + half
    )
    assert np.isnan(summary.loc["b", "ci_low"])  # one run: no interval, never "± 0"
    assert summary.loc["b", "chance"] == pytest.approx(0.01)


def test_settings_from_chapter_parameters():
    assert retrain.settings_from([], [0], 75).folds == ()
    assert retrain.settings_from(None, [0, 1], 3) == retrain.RetrainSettings(folds=(), seeds=(0, 1), epochs=3)
    with pytest.raises(ValueError, match="epochs"):
        retrain.settings_from([1], [0], 0).validate()


def _score_of(genome, data, settings, seed, threads, recalibrate_clips, cached_only=False) -> dict | None:
    """A stand-in for one retraining whose score depends only on what was trained (genome, fold, seed).

    Seed 0's runs count as finished: asked for ``cached_only``, only they are returned."""
    if cached_only and seed != 0:
        return None
    score = (int(genome.genome_id()[:6], 16) % 97 + 7 * seed + 13 * int(data.data_key[-1])) / 1000
    return {
        "test_accuracy": score,
        "test_accuracy_int8": score / 3,
        "val_accuracy": score / 2,
        "n_fit": os.getpid(),
        "n_test": 1,
        "seconds": 0.0,
        "cached": False,
    }  # fmt: skip (n_fit: who trained it)


def test_parallel_retraining_gives_the_same_table_in_the_same_order_as_serial(monkeypatch):
    monkeypatch.setattr(retrain, "task_data", _fold_data)
    monkeypatch.setattr(retrain, "_train_one", _score_of)  # module-level, so the worker processes import it
    genomes = {f"paper {k.split('_', 1)[1]}": g for k, g in published_candidates("number").items()}
    settings = retrain.RetrainSettings(folds=(2, 1), seeds=(3, 0), epochs=1)
    config = SearchConfig(task="number")
    serial = retrain.retrain_over_folds(None, config, genomes, settings, progress=False, n_jobs=1)
    parallel = retrain.retrain_over_folds(None, config, genomes, settings, progress=False, n_jobs=2)
    assert len(serial) == 2 * 2 * 3
    assert set(serial.n_fit) == {os.getpid()}
    read_here = parallel.n_fit == os.getpid()  # finished runs are read here, the others trained in workers
    assert (read_here == (parallel.seed == 0)).all() and read_here.any() and not read_here.all()
    pd.testing.assert_frame_equal(serial.drop(columns="n_fit"), parallel.drop(columns="n_fit"))


def test_a_failed_int8_conversion_leaves_the_run_unscored_in_int8_and_keeps_its_float_score(monkeypatch, tmp_path):
    def fake_train(genome, X, y, speakers, fit, val, test, **kw):
        return SimpleNamespace(test_accuracy=0.5, val_accuracy=0.4, n_fit=4, n_test=4, seconds=1.0, cached=False,
                               model=None, folder=tmp_path)  # fmt: skip

    def broken(*args, **kwargs):
        raise RuntimeError("quantisation failed")

    monkeypatch.setattr(retrain, "task_data", _fold_data)
    monkeypatch.setattr(retrain, "train_genome", fake_train)
    monkeypatch.setattr(retrain, "int8_test_accuracy", broken)
    genomes = {"paper fittest": published_candidates("number")["numbers_fittest"]}
    settings = retrain.RetrainSettings(folds=(1,), seeds=(1, 2), epochs=1, n_calibration=3)
    with pytest.warns(UserWarning, match="no int8 score"):
        runs = retrain.retrain_over_folds(None, SearchConfig(task="number"), genomes, settings, progress=False)
    assert runs.test_accuracy.eq(0.5).all() and runs.test_accuracy_int8.isna().all()
    int8 = retrain.retrain_summary(runs, column="test_accuracy_int8")
    assert int8.runs.tolist() == [0] and int8["mean"].isna().all()


def test_the_int8_test_accuracy_is_the_converted_models_and_is_cached_beside_the_weights(tmp_path, monkeypatch):
    from spoken100.nas import tflite
    from spoken100.nas.build import build_model

    genome = published_candidates("language")["languages_fittest"]
    rng = np.random.default_rng(0)
    speakers = np.repeat(SPEAKERS, 4)
    X = (0.1 * rng.standard_normal((len(speakers), genome.preprocessing.n_samples))).astype(np.float32)
    data = TaskData("language", X, np.arange(len(speakers)) % 4, speakers, tuple(SPEAKERS[:4]), tuple(SPEAKERS[4:6]),
                    tuple(SPEAKERS[6:]), data_key="noise")  # fmt: skip
    trained = SimpleNamespace(model=build_model(genome, seed=0), folder=tmp_path)
    accuracy = retrain.int8_test_accuracy(trained, data, n_calibration=4, calibration_seed=1)
    assert 0 <= accuracy <= 1 and (accuracy * 8).is_integer()  # a share of the 8 test clips
    (stored,) = tmp_path.glob("int8-test-*.json")
    assert json.loads(stored.read_text())["n_test"] == 8

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again instead of reading the cached score")

    monkeypatch.setattr(tflite, "to_int8", no_conversion)
    assert retrain.int8_test_accuracy(trained, data, n_calibration=4, calibration_seed=1) == accuracy
    with pytest.raises(AssertionError, match="converted again"):  # other calibration: another score
        retrain.int8_test_accuracy(trained, data, n_calibration=5, calibration_seed=1)
    real_versions = retrain.package_versions
    monkeypatch.setattr(retrain, "package_versions", lambda names: {**real_versions(names), "tensorflow": "0.0"})
    with pytest.raises(AssertionError, match="converted again"):  # another TensorFlow converter: another score
        retrain.int8_test_accuracy(trained, data, n_calibration=4, calibration_seed=1)


def test_a_run_whose_int8_score_is_cached_loads_no_model(monkeypatch, tmp_path):
    """A warm rerun reads both scores from the artefacts; a model is built only to convert it."""
    asked = []

    def fake_train(genome, X, y, speakers, fit, val, test, **kw):
        asked.append(kw["keep_model"])
        return SimpleNamespace(test_accuracy=0.5, val_accuracy=0.4, n_fit=4, n_test=4, seconds=1.0, cached=True,
                               model="a model" if kw["keep_model"] else None, folder=tmp_path)  # fmt: skip

    converted = []

    def fake_int8(trained, data, n_calibration, calibration_seed):
        path = retrain.int8_score_file(trained.folder, data, n_calibration, calibration_seed)
        if not path.is_file():
            converted.append(trained.model)
            path.write_text(json.dumps({"test_accuracy_int8": 0.375}))
        return json.loads(path.read_text())["test_accuracy_int8"]

    monkeypatch.setattr(retrain, "task_data", _fold_data)
    monkeypatch.setattr(retrain, "train_genome", fake_train)
    monkeypatch.setattr(retrain, "int8_test_accuracy", fake_int8)
    genomes = {"paper fittest": published_candidates("number")["numbers_fittest"]}
    settings = retrain.RetrainSettings(folds=(1,), seeds=(1,), epochs=1, n_calibration=3)
    cold = retrain.retrain_over_folds(None, SearchConfig(task="number"), genomes, settings, progress=False)
    assert asked == [False, True] and converted == ["a model"]  # the model is loaded to be converted
    asked.clear()
    warm = retrain.retrain_over_folds(None, SearchConfig(task="number"), genomes, settings, progress=False)
    assert asked == [False] and converted == ["a model"]  # nothing loaded, nothing converted again
    pd.testing.assert_frame_equal(cold, warm)
    assert warm.test_accuracy_int8.tolist() == [0.375]
