"""Cost estimates of the paper profile: from measured epoch times, by the stated formula, never guessed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from spoken100.baselines import compute_cost as baseline_cost
from spoken100.data import paper_facts
from spoken100.nas import compute_cost as search_cost

ROOT = Path(__file__).resolve().parents[1]


def _record(model: str, task: str, cpu_hours: float, epochs: int) -> dict:
    return {"model": model, "task": task, "cpu_hours": cpu_hours, "epochs": epochs, "protocol": "honest",
            "device": "cpu", "machine": {"cpu": "Test CPU"}}  # fmt: skip


def test_chapter_4_estimate_scales_measured_epochs_by_protocol_folds_and_epochs():
    records = [_record("cnn_2d", "language", 1.0, 10), _record("cnn_2d", "number", 2.0, 10),
               _record("cnn_1d", "language", 1.0, 10)]  # cnn_1d lacks its number run  # fmt: skip
    table = baseline_cost.paper_profile_cost(records, epochs=75, folds=8, workers=(1, 4, 1000)).set_index("model")
    per_epoch = {"language": 360.0, "number": 720.0}  # core-seconds per honest epoch
    expected = sum(v * s for v in per_epoch.values() for s in (28 / 24, 1.0)) * 75 * 8 / 3600
    assert table.loc["cnn_2d", "core_hours"] == pytest.approx(expected)
    assert table.loc["cnn_2d", "runs"] == 2 * 8 * 2
    longest = 720.0 * 28 / 24 * 75 / 3600
    assert table.loc["cnn_2d", "hours_on_4_workers"] == pytest.approx(expected / 4)
    assert table.loc["cnn_2d", "hours_on_1000_workers"] == pytest.approx(longest)  # a run cannot be split
    assert np.isnan(table.loc["cnn_1d", "core_hours"]) and np.isnan(table.loc["rnn", "core_hours"])
    assert table.loc["rnn", "measured_on"] == "not measured at full size"
    assert table.loc["total", "core_hours"] == pytest.approx(expected)  # measured models only, and it says so
    assert "measured ones only" in table.loc["total", "title"]


def test_a_records_threads_and_trained_speakers_count():
    """Two threads for an hour are two core-hours; a run on 6 speakers scales to 28 and 24, not to 24's ratio."""
    base = _record("cnn_2d", "language", 1.0, 10)
    two_threads = baseline_cost.epoch_core_seconds([{**base, "threads": 2}])
    assert two_threads.core_seconds.iloc[0] == pytest.approx(720.0)
    fold = {"fold": {"train": [f"s{i}" for i in range(8)]}}
    small = {**base, "spec": fold, "val_speakers": ["s0", "s1"]}  # a subset corpus: 6 speakers trained on
    assert baseline_cost.trained_speakers(small) == 6
    records = [small, {**small, "task": "number"}]
    table = baseline_cost.paper_profile_cost(records, epochs=1, folds=1, workers=(1,)).set_index("model")
    per_speaker = 360.0 / 6
    assert table.loc["cnn_2d", "core_hours"] == pytest.approx(2 * per_speaker * (28 + 24) / 3600)


def test_without_cpu_records_nothing_is_estimated():
    gpu = {**_record("cnn_2d", "language", 1.0, 10), "device": "cuda"}
    del gpu["cpu_hours"]
    gpu["gpu_hours"] = 0.1
    table = baseline_cost.paper_profile_cost([gpu]).set_index("model")
    assert table.core_hours.isna().all()  # neither a 0 total nor a GPU time read as CPU time
    assert np.isnan(table.loc["total", "hours_on_8_workers"])


def test_candidates_per_search_counts_generation_one_then_the_offspring():
    assert search_cost.candidates_per_search(10, None, 10, 8) == 80
    assert search_cost.candidates_per_search(100, 300, 100, 25) == 2700


def test_the_cost_targets_are_the_paper_profiles_settings():
    evonas = yaml.safe_load((ROOT / "profiles" / "paper.yml").read_text())["notebooks"]["05_evonas"]
    target = search_cost.PAPER_PROFILE_SEARCH
    for key in ("population", "initial_population", "offspring", "generations", "epochs", "max_train_clips",
                "retrain_epochs"):  # fmt: skip
        assert evonas[key] == target[key], key
    assert len(evonas["retrain_folds"]) == target["retrain_folds"]


def test_chapter_4_estimate_defaults_are_the_paper_profiles_settings():
    import inspect

    profiles = ROOT / "profiles"
    paper = yaml.safe_load((profiles / "paper.yml").read_text())["notebooks"]["04_baselines"]
    default = yaml.safe_load((profiles / "default.yml").read_text())["notebooks"]["04_baselines"]
    defaults = inspect.signature(baseline_cost.paper_profile_cost).parameters
    # epochs and folds default to the facts table's, which the paper profile must equal
    assert defaults["epochs"].default is None and paper["epochs"] == paper_facts.figure("baseline_epochs").value
    assert paper["folds"] is None and paper.get("n_folds", default["n_folds"]) == paper_facts.figure("cv_folds").value
    assert defaults["n_val_speakers"].default == paper.get("n_val_speakers", default["n_val_speakers"])
    runs = baseline_cost.paper_profile_cost([]).set_index("model").runs
    assert runs["cnn_2d"] == len(paper["tasks"]) * paper_facts.figure("cv_folds").value * len(paper["protocols"])
    assert tuple(defaults["protocols"].default) == tuple(paper["protocols"])
    assert tuple(defaults["tasks"].default) == tuple(paper["tasks"])


def test_chapter_5_estimate_from_measured_candidates():
    config = SimpleNamespace(max_train_clips=2000, epochs=1)
    candidates = pd.DataFrame({"train_seconds": [2.0, 4.0, None], "eval_seconds": [3.0, 5.0, 0.1]})
    result = SimpleNamespace(config=config, split={"clips": {"fit": 9600}}, candidates=candidates)
    published = pd.DataFrame({"train_seconds": [6.0], "eval_seconds": [7.0]})
    target = {**search_cost.PAPER_PROFILE_SEARCH, "generations": 2, "initial_population": 3, "offspring": 1,
              "retrain_folds": 2, "retrain_epochs": 5}  # fmt: skip
    table = search_cost.paper_search_cost({"language": result}, {"language": published}, target=target,
                                          workers=(2,)).set_index("stage")  # fmt: skip
    per_clip = 3.0 / 2000  # mean training seconds over the measured clips x epochs
    one = per_clip * search_cost.FULL_FOLD_FIT_CLIPS * 10 + 1.0  # plus the measured conversion overhead
    assert table.loc["search", "trainings"] == 4
    assert table.loc["search", "core_hours"] == pytest.approx(4 * one / 3600)
    retrain_one = 6.0 / 2000 * search_cost.FULL_FOLD_FIT_CLIPS * 5
    assert table.loc["retraining", "trainings"] == 6 * 2
    assert table.loc["retraining", "core_hours"] == pytest.approx(12 * retrain_one / 3600)
    assert table.loc["retraining", "hours_on_2_workers"] == pytest.approx(6 * retrain_one / 3600)


def test_protocol_speakers_follow_the_facts_table(monkeypatch):
    """The speakers each protocol trains on are derived from the paper's speaker count and split."""
    assert baseline_cost.protocol_speakers(4) == {"paper": 28, "honest": 24}
    real = paper_facts.figure

    def figure(key):
        fact = real(key)
        return type(fact)(**{**vars(fact), "value": 40}) if key == "n_speakers" else fact

    monkeypatch.setattr(baseline_cost.paper_facts, "figure", figure)
    assert baseline_cost.protocol_speakers(2) == {"paper": 36, "honest": 34}
