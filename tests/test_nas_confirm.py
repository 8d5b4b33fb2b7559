"""The confirmatory test: retrained over seeds on the search fold, scored on its held-out test speakers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from spoken100.book.profiles import load_profile
from spoken100.nas import confirm, retrain
from spoken100.nas.genome import Genome
from spoken100.nas.search_config import SearchConfig, published_candidates
from spoken100.nas.train import LAB_SCHEDULE

from .test_nas_retrain import _fold_data  # the same 8-speaker folds as the retraining tests


def _runs(chosen, reference):
    rows = [{"model": confirm.CHOSEN, "task": "number", "fold": 1, "seed": i, "test_accuracy": a}
            for i, a in enumerate(chosen)]  # fmt: skip
    rows += [{"model": confirm.REFERENCE, "task": "number", "fold": 1, "seed": i, "test_accuracy": a}
             for i, a in enumerate(reference)]  # fmt: skip
    return pd.DataFrame(rows)


def _costs(latency=(10.0, 20.0), flash=(1e4, 2e4)):
    return {confirm.CHOSEN: {"latency_ms": latency[0], "flash_bytes": flash[0]},
            confirm.REFERENCE: {"latency_ms": latency[1], "flash_bytes": flash[1]}}  # fmt: skip


def test_the_difference_interval_is_welchs():
    a, b = np.array([0.50, 0.53, 0.51, 0.56]), np.array([0.40, 0.47, 0.41])
    diff, low, high = confirm.difference_interval(a, b, level=0.95)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(a.mean() - b.mean())
    assert (low, high) == pytest.approx((ci.low, ci.high))


def test_higher_beyond_the_interval_and_cheaper_dominates():
    v = confirm.verdict(_runs([0.50, 0.52, 0.51], [0.30, 0.31, 0.29]), _costs())
    assert v["dominates"] and v["accuracy"] == "higher" and v["sentence"].startswith("dominates")
    assert v["difference_pp"] == pytest.approx(21.0)


@pytest.mark.parametrize(
    ("chosen", "reference", "costs", "accuracy"),
    [
        ([0.50, 0.40, 0.45], [0.44, 0.46, 0.42], _costs(), "not distinguishable"),  # overlapping seeds
        ([0.20, 0.21, 0.19], [0.30, 0.31, 0.29], _costs(), "lower"),
        ([0.50, 0.52, 0.51], [0.30, 0.31, 0.29], _costs(latency=(30.0, 20.0)), "higher"),  # slower
        ([0.50, 0.52, 0.51], [0.30, 0.31, 0.29], _costs(flash=(3e4, 2e4)), "higher"),  # larger
        ([0.50], [0.30], _costs(), "not distinguishable (no interval: one run per model, or no spread across seeds)"),
    ],
)
def test_anything_less_does_not_dominate(chosen, reference, costs, accuracy):
    v = confirm.verdict(_runs(chosen, reference), costs)
    assert not v["dominates"] and v["accuracy"] == accuracy
    assert v["sentence"].startswith("does not dominate")


def test_a_missing_model_is_not_confirmed():
    v = confirm.verdict(_runs([0.5, 0.6], []), _costs())
    assert not v["dominates"] and "not retrained" in v["sentence"]


def test_confirm_trains_every_model_and_seed_on_the_search_fold_and_scores_its_test_speakers(monkeypatch, tmp_path):
    calls = []

    def fake_train(genome, X, y, speakers, fit, val, test, **kw):
        calls.append({"fit": set(fit), "val": set(val), "test": set(test), **kw})
        return SimpleNamespace(test_accuracy=0.5, val_accuracy=0.4, n_fit=len(fit) * 4, n_test=len(test) * 4,
                               seconds=1.0, cached=False, folder=tmp_path)  # fmt: skip

    monkeypatch.setattr(retrain, "task_data", _fold_data)
    monkeypatch.setattr(retrain, "train_genome", fake_train)
    int8_calls = []
    monkeypatch.setattr(retrain, "int8_test_accuracy",
                        lambda trained, data, n, seed: int8_calls.append((n, seed)) or 0.125)  # fmt: skip
    genomes = {f"paper {k.split('_', 1)[1]}": g for k, g in published_candidates("language").items()}
    settings = confirm.ConfirmSettings(seeds=(1, 2, 3), epochs=7)
    config = SearchConfig(task="language", fold=3, seed=5, n_calibration=7)
    runs = confirm.confirm(None, config, genomes, settings, progress=False)
    assert len(runs) == 3 * 3 and set(runs.fold) == {3} and set(runs.seed) == {1, 2, 3}
    assert {c["seed"] for c in calls} == {1, 2, 3}
    for call in calls:
        assert call["test"] == {"s4", "s5"}  # fold 3's held-out speakers
        assert not call["test"] & (call["fit"] | call["val"])
        assert call["schedule"] == LAB_SCHEDULE and call["epochs"] == 7 and call["max_train_clips"] is None
    assert runs.test_accuracy_int8.eq(0.125).all()  # every model also scored as int8,
    assert set(int8_calls) == {(7, 6)}  # calibrated as the search's candidates: n_calibration clips, seed + 1
    with pytest.raises(ValueError, match="seed"):
        confirm.confirm(None, SearchConfig(), genomes, confirm.ConfirmSettings(seeds=()), progress=False)


def _search(candidates: pd.DataFrame, fittest: Genome):
    genomes = {Genome.from_json(g).genome_id(): Genome.from_json(g) for g in candidates.genome}
    genomes[fittest.genome_id()] = fittest
    return SimpleNamespace(config=SearchConfig(task="language", max_val_clips=None), candidates=candidates,
                           split={"clips": {"val": 800}}, pick=lambda role: fittest,
                           genome=lambda gid: genomes[gid])  # fmt: skip


def _record(genome: Genome, accuracy: float, latency: float, flash: float) -> dict:
    return {"genome_id": genome.genome_id(), "genome": genome.to_json(), "feasible": True, "val_accuracy": accuracy,
            "latency_ms": latency, "latency_ms_low": latency, "latency_ms_high": latency, "flash_bytes": flash,
            "description": genome.describe(), "reason": ""}  # fmt: skip


def test_the_chosen_candidate_is_the_best_validation_dominator_else_the_fittest_pick():
    paper = published_candidates("language")
    reference = paper["languages_fittest"]
    a, b, c = paper["languages_accurate"], paper["languages_fastest"], Genome(n_classes=4)  # three distinct genomes
    published = pd.DataFrame([{**_record(reference, 0.6, 100.0, 5e4), "model": "languages_fittest",
                               "variant": "fittest"}])  # fmt: skip
    candidates = pd.DataFrame([_record(a, 0.7, 90.0, 4e4), _record(b, 0.8, 80.0, 4e4), _record(c, 0.9, 200.0, 4e4)])
    chosen, why = confirm.chosen_candidate(_search(candidates, c), published)
    assert chosen.genome_id() == b.genome_id() and "dominated" in why  # c is more accurate but slower
    none_dominate = candidates.assign(val_accuracy=0.5)
    chosen, why = confirm.chosen_candidate(_search(none_dominate, c), published)
    assert chosen.genome_id() == c.genome_id() and "fittest pick" in why
    genomes = confirm.confirmation_genomes(_search(candidates, c), published)
    assert list(genomes) == [confirm.CHOSEN, "paper accurate", "paper fastest", "paper fittest"]
    costs = confirm.model_costs(_search(candidates, c), published, genomes)
    assert costs[confirm.CHOSEN] == {"latency_ms": 80.0, "flash_bytes": 4e4}
    assert costs["paper fittest"] == {"latency_ms": 100.0, "flash_bytes": 5e4}


def test_the_confirmed_models_are_the_confirmations_own_trainings_of_the_first_seed(monkeypatch, tmp_path):
    calls = []

    def fake_train(genome, X, y, speakers, fit, val, test, **kw):
        calls.append({"genome": genome.genome_id(), "fit": fit, "val": val, "test": test, **kw})
        return SimpleNamespace(test_accuracy=0.5, val_accuracy=0.4, n_fit=len(fit) * 4, n_test=len(test) * 4,
                               seconds=1.0, cached=False, model=f"model {len(calls)}", folder=tmp_path)  # fmt: skip

    monkeypatch.setattr(retrain, "task_data", _fold_data)
    monkeypatch.setattr(retrain, "train_genome", fake_train)
    int8_calls = []
    monkeypatch.setattr(retrain, "int8_test_accuracy",
                        lambda trained, data, n, seed: int8_calls.append((n, seed)) or 0.125)  # fmt: skip
    paper = published_candidates("language")
    genomes = {confirm.CHOSEN: paper["languages_accurate"], confirm.REFERENCE: paper["languages_fittest"]}
    config = SearchConfig(task="language", fold=2, recalibrate_clips=17)
    settings = confirm.ConfirmSettings(seeds=(4, 5), epochs=3)
    confirm.confirm(None, config, genomes, settings, progress=False)
    trainings = list(calls)
    models = confirm.confirmed_models(_fold_data(None, config), config, genomes, settings)
    assert list(models) == [confirm.CHOSEN, confirm.REFERENCE]
    for label, call in zip(models, calls[len(trainings) :], strict=True):
        assert call["keep_model"] and call["seed"] == 4  # the first seed, with its model kept
        same = [t for t in trainings if t["genome"] == genomes[label].genome_id() and t["seed"] == 4]
        # exactly the confirmation's training (read, then loaded to convert): every argument but keep_model agrees
        assert same and all({k: v for k, v in call.items() if k != "keep_model"}
                            == {k: v for k, v in t.items() if k != "keep_model"} for t in same)  # fmt: skip
    assert {c["recalibrate_clips"] for c in calls} == {
        17
    }  # the search's batch-norm recalibration, as its candidates had
    with pytest.raises(ValueError, match="no confirmed model"):
        confirm.confirmed_models(_fold_data(None, config), config, genomes, settings, labels=["paper fastest"])
    with pytest.raises(ValueError, match="no seeds"):
        confirm.confirmed_models(_fold_data(None, config), config, genomes, confirm.ConfirmSettings(seeds=()))


def test_the_statement_and_table_cover_every_confirmed_task():
    paper = published_candidates("number")
    genomes = {confirm.CHOSEN: paper["numbers_fastest"], confirm.REFERENCE: paper["numbers_fittest"]}
    runs = _runs([0.30, 0.32, 0.31], [0.20, 0.22, 0.21]).assign(task="number")
    costs = _costs()
    done = confirm.Confirmation("number", genomes, "the search's fittest pick", runs, costs,
                                confirm.verdict(runs, costs))  # fmt: skip
    text = confirm.statement({"number": done})
    assert "**number**" in text and genomes[confirm.CHOSEN].genome_id() in text and "it dominates" in text
    table = confirm.combined_table({"number": done})
    assert set(table.model) == {confirm.CHOSEN, confirm.REFERENCE} and (table.seeds == 3).all()
    assert "Not run" in confirm.statement({}) and confirm.combined_table({}).empty


def test_identical_scores_on_every_seed_give_no_interval_and_no_claim():
    v = confirm.verdict(_runs([0.31, 0.31, 0.31], [0.30, 0.30, 0.30]), _costs())
    assert not v["dominates"] and v["accuracy"].startswith("not distinguishable") and "no interval" in v["sentence"]


@pytest.mark.parametrize(("seeds", "epochs", "message"), [
    ([0, 0, 1], 10, "distinct"), (3, 10, "list of integers"), ("012", 10, "list of integers"),
    ([0, 1], 0, "confirm_epochs"),
])  # fmt: skip
def test_bad_confirmation_settings_are_refused_in_one_line(seeds, epochs, message):
    with pytest.raises(ValueError, match=message):
        confirm.settings_from(seeds, epochs)
    assert confirm.settings_from([2, 0], 4) == confirm.ConfirmSettings(seeds=(2, 0), epochs=4)


def test_a_confirmation_seed_equal_to_the_search_seed_is_refused_before_anything_trains(monkeypatch):
    trained = []
    monkeypatch.setattr(retrain, "task_data", _fold_data)
    monkeypatch.setattr(retrain, "train_genome", lambda *a, **kw: trained.append(kw["seed"]))
    genomes = {f"paper {k.split('_', 1)[1]}": g for k, g in published_candidates("number").items()}
    with pytest.raises(ValueError, match="search's seed 7"):
        confirm.settings_from([5, 7], 10, search_seed=7)
    assert confirm.settings_from([5, 6], 10, search_seed=7).seeds == (5, 6)
    with pytest.raises(ValueError, match="search's seed 7"):
        confirm.confirm(None, SearchConfig(task="number", seed=7), genomes, confirm.ConfirmSettings(seeds=(6, 7)),
                        progress=False)  # fmt: skip
    assert trained == []


@pytest.mark.parametrize("profile", sorted((Path(__file__).resolve().parents[1] / "profiles").glob("*.yml")),
                         ids=lambda p: p.stem)  # fmt: skip
def test_every_profiles_confirmation_seeds_are_accepted_with_its_search_seed(profile):
    chapter5 = load_profile(profile)["notebooks"].get("05_evonas")
    if chapter5 is None:
        pytest.skip(f"{profile.name} has no chapter 5 settings")
    default = load_profile(profile.parent / "default.yml")["notebooks"]["05_evonas"]
    chapter5 = {**default, **chapter5}
    confirm.settings_from(chapter5["confirm_seeds"], chapter5["confirm_epochs"], search_seed=chapter5["seed"])


def test_a_confirmation_that_did_not_run_is_glued_as_not_run_not_as_no():
    v = confirm.verdict(_runs([0.5, 0.6], []), _costs())
    glued = confirm.findings({"number": v}, confirm.combined_table({}), tasks=("number", "language"))
    assert glued["confirmed_dominates_number"] == "not run" and glued["confirmed_dominates_language"] == "not run"
    ran = confirm.verdict(_runs([0.5, 0.6, 0.55], [0.2, 0.25, 0.22]), _costs(latency=(30.0, 20.0)))
    assert confirm.findings({"number": ran}, confirm.combined_table({}), tasks=("number",))[
        "confirmed_dominates_number"] == "no"  # fmt: skip


def test_the_int8_verdict_applies_the_same_rule_to_the_int8_accuracies():
    runs = _runs([0.40, 0.42, 0.41], [0.30, 0.31, 0.29]).assign(test_accuracy_int8=[0.08, 0.09, 0.10, 0.27, 0.26, 0.28])
    float_verdict = confirm.verdict(runs, _costs())
    int8 = confirm.verdict(runs, _costs(), column="test_accuracy_int8", what="int8 test accuracy")
    assert float_verdict["dominates"] and not int8["dominates"] and int8["accuracy"] == "lower"
    assert int8["sentence"].startswith("does not dominate: int8 test accuracy lower")
    table = confirm.confirmation_table(runs, {"number": _costs_by_label()})
    assert list(table["int8 test accuracy %"].round(1)) == [9.0, 27.0]
    glued = confirm.findings({"number": float_verdict}, table, tasks=("number",), int8_verdicts={"number": int8})
    assert glued["confirmed_dominates_number"] == "yes" and glued["confirmed_int8_dominates_number"] == "no"
    assert glued["confirmed_chosen_int8_number"] == pytest.approx(9.0)
    assert (
        confirm.verdict(runs.drop(columns="test_accuracy_int8"), _costs(), column="test_accuracy_int8")["dominates"]
        is None
    )  # not scored: not run, never "no"


def _costs_by_label():
    return {label: {"latency_ms": 10.0, "flash_bytes": 1e4} for label in (confirm.CHOSEN, confirm.REFERENCE)}
