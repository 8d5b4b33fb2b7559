"""EvoNAS search: NSGA-II picks on the front, determinism, resume, and infeasible candidates recorded.

Most tests replace the (TensorFlow) candidate evaluation by a fast deterministic stand-in, so the
search logic is tested in milliseconds; one test runs the real pipeline on a tiny search.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from spoken100.data import paper_facts
from spoken100.nas import budget, search
from spoken100.nas import evaluate as nas_evaluate
from spoken100.nas.genome import Block, Genome, Head, Preprocessing, random_genome
from spoken100.nas.search import SearchConfig, TaskData

from .conftest import harmonic_speakers

SPEAKERS = ("s0", "s1", "s2", "s3", "s4", "s5")


def synthetic(n_per: int = 4, n_classes: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return harmonic_speakers(n_per, n_classes, seed)


def task_data(n_per: int = 4) -> TaskData:
    X, y, who = synthetic(n_per)
    return TaskData("language", X, y, who, ("s0", "s1", "s2"), ("s3", "s4"), ("s5",), data_key=f"synthetic-{n_per}")


def fake_evaluate(genome: Genome, payload, config) -> dict:
    """A deterministic stand-in for the real evaluation: objectives derived from the genome."""
    record = nas_evaluate.empty_record(genome)
    h = int(genome.genome_id(), 16)
    p = genome.preprocessing
    macs = p.n_frames * p.n_freqs * p.n_fft * 2 + 5_000 * len(genome.blocks)
    latency = macs * 4.5 / 64e6 * 1e3
    flash = 213_497 + p.n_fft * p.n_freqs * 2 + 1_000 * len(genome.blocks) + (h % 997)
    acc = 0.25 + 0.6 * (h % 1009) / 1009
    frontend = p.n_frames * p.n_freqs * p.n_fft * 2
    record.update(val_accuracy=acc, latency_ms=latency, latency_ms_low=latency * 0.7, latency_ms_high=latency * 1.8,
                  flash_bytes=flash, ram_bytes=60_000, macs=macs, energy_mj=latency * 9.9e-3,
                  energy_mj_low=latency * 0.7 * 9.9e-3, energy_mj_high=latency * 1.8 * 9.9e-3, macs_frontend=frontend,
                  latency_ms_frontend=frontend * 4.5 / 64e6 * 1e3,
                  fitness=0.6 * acc + 0.2 * min(1, 1e5 / flash) + 0.2 * min(1, 1 / (latency * 9.9e-3)))  # fmt: skip
    if h % 5 == 0:
        record.update(feasible=False, stage="memory", reason="over the nRF52840's memory: RAM (fake)",
                      val_accuracy=float("nan"), fitness=None)  # fmt: skip
    else:
        record.update(feasible=True)
    return record


SMALL = SearchConfig(task="language", population=4, offspring=None, generations=2, epochs=1, max_train_clips=None,
                     max_val_clips=None, n_calibration=4, int8_val_clips=0, n_jobs=1)  # fmt: skip


def _comparable(result: search.SearchResult) -> tuple:
    candidates = result.candidates.drop(columns=["eval_seconds", "train_seconds"])
    return candidates, result.history.drop(columns=["seconds"]), result.population, result.picks.genome_id.to_dict()


def _assert_same(a: search.SearchResult, b: search.SearchResult) -> None:
    ca, ha, pa, ka = _comparable(a)
    cb, hb, pb, kb = _comparable(b)
    pd.testing.assert_frame_equal(ca, cb)
    pd.testing.assert_frame_equal(ha, hb)
    assert pa == pb and ka == kb


@pytest.fixture
def fake(monkeypatch):
    calls = []

    def evaluate(genome, payload, config):
        calls.append(genome.genome_id())
        return fake_evaluate(genome, payload, config)

    monkeypatch.setattr(nas_evaluate, "evaluate_genome", evaluate)
    return calls


def test_search_is_deterministic_and_cached(fake, tmp_path, monkeypatch):
    data = task_data()
    first = search.search(data, SMALL, progress=False)
    assert len(first.candidates) == 8 and list(first.history.generation) == [1, 2]
    assert first.candidates.genome_id.is_unique and len(first.population) == 4
    assert set(first.picks.index) == set(search.ROLES)
    n_calls = len(fake)
    again = search.search(data, SMALL, progress=False)
    assert again.cached and len(fake) == n_calls  # loaded from the snapshots, nothing evaluated
    _assert_same(first, again)

    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path / "elsewhere"))
    fresh = search.search(data, SMALL, progress=False)
    assert not fresh.cached
    _assert_same(first, fresh)
    other = search.search(data, replace(SMALL, seed=1), progress=False)
    assert set(other.candidates.genome_id) != set(first.candidates.genome_id)


def test_resume_after_an_interruption_gives_the_same_result(fake, tmp_path, monkeypatch):
    data = task_data()
    config = replace(SMALL, generations=3)
    reference = search.search(data, config, progress=False)

    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path / "interrupted"))
    calls = {"n": 0}

    def dies_in_generation_2(genome, payload, cfg):
        calls["n"] += 1
        if calls["n"] == config.population + 2:  # the second child of generation 2
            raise KeyboardInterrupt
        return fake_evaluate(genome, payload, cfg)

    monkeypatch.setattr(nas_evaluate, "evaluate_genome", dies_in_generation_2)
    with pytest.raises(KeyboardInterrupt):
        search.search(data, config, progress=False)
    folder = search.search_folder(data, config)
    assert (folder / "generation-001.json").is_file() and not (folder / "generation-002.json").exists()

    monkeypatch.setattr(nas_evaluate, "evaluate_genome", fake_evaluate)
    resumed = search.search(data, config, progress=False)
    _assert_same(reference, resumed)

    # a longer search with the same settings continues this one
    longer = search.search(data, replace(config, generations=4), progress=False)
    volatile = ["eval_seconds", "train_seconds", "on_front"]  # the front grows with the search
    pd.testing.assert_frame_equal(
        longer.candidates[longer.candidates.generation <= 3].drop(columns=volatile),
        reference.candidates.drop(columns=volatile),
    )


def test_nsga2_picks_are_on_the_front(fake):
    result = search.search(task_data(), replace(SMALL, population=6, generations=3), progress=False)
    c = result.candidates
    feasible = c[c.feasible.astype(bool)]
    objectives = np.c_[-feasible.val_accuracy, feasible.latency_ms, feasible.flash_bytes]
    dominated = [
        any(np.all(o <= objectives[i]) and np.any(o < objectives[i]) for j, o in enumerate(objectives) if j != i)
        for i in range(len(objectives))
    ]
    brute_front = set(feasible.genome_id[~np.array(dominated)])
    assert set(c.genome_id[c.on_front]) == brute_front and brute_front
    assert set(result.picks.genome_id) <= brute_front
    assert result.picks.loc["most accurate", "val_accuracy"] == feasible.val_accuracy.max()
    assert result.picks.loc["fittest", "fitness"] == pytest.approx(feasible.fitness.max())
    useful = c[c.on_front & (c.val_accuracy > 0.25)]
    assert result.picks.loc["fastest", "latency_ms"] == useful.latency_ms.min()
    # infeasible candidates are recorded with a reason and never survive while feasible ones are left
    bad = c[~c.feasible.astype(bool)]
    assert len(bad) and bad.reason.str.contains("memory").all()
    records = c.to_dict("records")
    survivors = search.nsga2_select(records, len(feasible))
    assert set(survivors) == set(feasible.genome_id)
    assert result.history.best_val_accuracy.is_monotonic_increasing  # elitist
    # the survivors of the last generation all come from the evaluated candidates
    assert set(result.population) <= set(c.genome_id)


def test_objective_values_dominate_infeasible():
    good = {"feasible": True, "val_accuracy": 0.0, "latency_ms": 1e6, "flash_bytes": 1_000_000}
    over = {"feasible": False, "val_accuracy": None, "flash_bytes": 2_000_000, "ram_bytes": 100_000}
    broken = {"feasible": False, "val_accuracy": None, "flash_bytes": None, "ram_bytes": None}
    g, o, b = (search.objective_values(r) for r in (good, over, broken))
    assert g[0] > o[0] and g[1] < o[1] and g[2] < o[2]
    assert o[1] < b[1] and o[2] < b[2]  # less infeasible first


def test_the_real_pipeline_records_failures_and_never_crashes(monkeypatch, tmp_path):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tflite_micro")
    from spoken100.nas import tflite

    data = task_data(n_per=3)
    config = replace(SMALL, population=3, generations=1, max_train_clips=24, int8_val_clips=8)
    real_to_int8 = tflite.to_int8
    calls = {"n": 0}

    def flaky_to_int8(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise tflite.ConversionError("int8 conversion failed: injected by the test")
        return real_to_int8(*args, **kwargs)

    monkeypatch.setattr(tflite, "to_int8", flaky_to_int8)
    result = search.search(data, config, progress=False)
    c = result.candidates
    assert len(c) == 3 and list(result.history.generation) == [1]
    failed = c[c.stage == "int8 conversion"]
    assert len(failed) == 1 and not failed.feasible.iloc[0]
    assert "injected by the test" in failed.reason.iloc[0]
    ok = c[c.feasible.astype(bool)]
    assert len(ok) >= 1
    for column in ("val_accuracy", "val_accuracy_int8", "flash_bytes", "ram_bytes", "latency_ms", "fitness"):
        assert ok[column].notna().all(), column
    assert (ok.flash_bytes > ok.model_bytes).all() and (ok.ram_bytes > ok.arena_bytes).all()

    # the same genome evaluated again from scratch (no caches) gives the same record
    monkeypatch.setattr(tflite, "to_int8", real_to_int8)
    genome = Genome.from_json(ok.genome.iloc[0])
    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path / "fresh"))
    record = search.evaluate_genome(genome, data.payload(), config)
    row = ok.iloc[0]
    for column in ("val_accuracy", "val_accuracy_int8", "model_bytes", "arena_bytes", "macs", "fitness"):
        assert record[column] == pytest.approx(row[column]), column

    # a genome that does not build, one that is invalid and one too big for the RAM are recorded
    import spoken100.nas.build as build

    def no_build(*args, **kwargs):
        raise ValueError("cannot build (injected)")

    with monkeypatch.context() as m:
        m.setattr(build, "build_model", no_build)
        r = search.evaluate_genome(genome, data.payload(), config)
    assert not r["feasible"] and r["stage"] == "build" and "injected" in r["reason"]
    invalid = replace(genome, blocks=())
    r = search.evaluate_genome(invalid, data.payload(), config)
    assert not r["feasible"] and r["stage"] == "genome" and "blocks" in r["reason"]
    huge = Genome(Preprocessing(n_fft=64, hop_length=64, n_mels=96), (Block("conv", 32, 3, 1),), Head("avg", 0.0, ()))
    r = search.evaluate_genome(huge, data.payload(), config)
    assert not r["feasible"] and r["stage"] == "memory" and "RAM at least" in r["reason"]
    assert r["train_seconds"] is None  # rejected before training


def test_report_tables_and_the_dominance_check(fake):
    import matplotlib

    matplotlib.use("Agg")
    from spoken100.nas import report

    data = task_data()
    result = search.search(data, replace(SMALL, population=6, generations=3), progress=False)
    published = search.evaluate_published_data(data, SMALL, progress=False)
    assert list(published.model) == ["languages_accurate", "languages_fastest", "languages_fittest"]
    assert (published.generation == 0).all()
    results, tables = {"language": result}, {"language": published}

    goal = report.dominance(results, tables).iloc[0]
    ref = published[published.variant == "fittest"].iloc[0]
    c = result.candidates[result.candidates.feasible.astype(bool)]
    expected = c[(c.val_accuracy >= ref.val_accuracy) & (c.latency_ms <= ref.latency_ms)
                 & (c.flash_bytes <= ref.flash_bytes)]  # fmt: skip
    assert goal.reached == (len(expected) > 0) and goal.n_dominating == len(expected)
    # a reference that is easy to beat is beaten; one that cannot be is not
    easy = published.copy()
    easy.loc[easy.variant == "fittest", ["val_accuracy", "latency_ms", "flash_bytes"]] = [0.0, 1e9, 1e9]
    assert report.dominance(results, {"language": easy}).iloc[0].reached
    hard = published.copy()
    hard.loc[hard.variant == "fittest", ["val_accuracy", "latency_ms", "flash_bytes"]] = [1.0, 0.0, 0.0]
    assert not report.dominance(results, {"language": hard}).iloc[0].reached
    assert not report.dominance(results, {}).iloc[0].reached

    comparison = report.paper_comparison(results, tables, "synthetic")
    assert list(comparison.model[:3]) == list(search.ROLES) and (comparison["this build: corpus"] == "synthetic").all()
    figures = report.paper_figures()
    assert set(figures.task) == {"language", "number"} and figures.source.str.len().min() > 20
    number = report.paper_figures().query("task == 'number' and role == 'fittest'")
    published = [paper_facts.figure(k) for k in ("evonas_number_fittest", "evonas_number_fittest_summary")]
    assert sorted(number.accuracy_pct) == sorted(f.percent for f in published)  # read from the one table
    assert paper_facts.figure("evonas_fittest_latency_ms").value in set(number.latency_ms)
    assert len(report.picks_table(results)) == 3 and "architecture" in report.picks_table(results)
    assert len(report.published_table(tables)) == 3
    assert report.infeasible_table(results).reason.str.len().min() > 0
    assert "validation speakers" in report.protocol_text(result)
    report.progress_figure(results)
    report.pareto_figure(results, tables)

    # every latency and energy column reads "estimated" and carries its band
    for table in (report.picks_table(results), report.published_table(tables), comparison,
                  report.dominance(results, tables), report.frontend_table(tables)):  # fmt: skip
        for column in table.columns:
            if "latency" in column or "energy" in column:  # a share (%) is of the central estimate
                assert "est." in column and ("band" in column or "% of est. latency (central)" in column), column
    front = report.frontend_table(tables)
    assert len(front) == 3 and front["front end % of MACs"].between(0, 100).all()
    assert (front["front end % of est. latency (central)"] > 0).all()


def test_chapter_5_findings_are_computed_from_the_results(fake):
    import math

    from spoken100.nas import report

    data = task_data()
    result = search.search(data, replace(SMALL, population=6, generations=3), progress=False)
    tables = {"language": search.evaluate_published_data(data, SMALL, progress=False)}
    found = report.findings({"language": result}, tables)
    ours = result.picks.loc["fittest"]
    theirs = tables["language"].query("variant == 'fittest'").iloc[0]
    goal = report.dominance({"language": result}, tables).iloc[0]
    assert found["goal_language"] == ("reached" if goal.reached else "not reached")
    lab = paper_facts.figure("evonas_lab_population_start")
    assert found["lab_search_text"].startswith(f"population {lab.text}") and lab.source in found["lab_search_text"]
    assert found["ours_fittest_language"] == pytest.approx(100 * ours.val_accuracy)
    assert found["ours_fittest_ms_low_language"] == pytest.approx(ours.latency_ms_low)
    assert found["paper_fittest_ms_high_language"] == pytest.approx(theirs.latency_ms_high)
    assert found["se_pp_language"] == pytest.approx(goal["accuracy SE pp"])
    assert found["n_candidates"] == len(result.candidates)
    assert found["goal_number"] == "not run in this build" and math.isnan(found["ours_fittest_number"])
    assert report.findings({"language": result}, {})["goal_language"].startswith("not checked")
    # the estimate set beside the paper's 368 ms is that of the same architecture (its fitted anchor)
    assert found["paper_fittest_est_ms"] == pytest.approx(paper_facts.figure("evonas_fittest_latency_ms").value)
    assert found["paper_fittest_est_ms_low"] < found["paper_fittest_est_ms"] <= found["paper_fittest_est_ms_high"]
    assert found["paper_fittest_est_text"].startswith(f"{found['paper_fittest_est_ms']:.0f} (")


def _dies_or_fakes(genome_json, payload, config, folder):
    """Worker stand-in for ``nas_evaluate._evaluate_cached``: kills its process for every third genome."""
    import os

    genome = Genome.from_json(genome_json)
    if int(genome.genome_id(), 16) % 3 == 0:
        os._exit(13)
    return _fake_and_store(genome, payload, config, folder)


def _fake_and_store(genome, payload, config, folder):
    """What a worker that survives does: a fake record, written where the real one would go."""
    from pathlib import Path

    from spoken100.data import atomic

    record = fake_evaluate(genome, payload, config)
    atomic.write_json(Path(folder) / f"{genome.genome_id()}.json", nas_evaluate.jsonable(record))
    return record


def test_a_dying_worker_is_recorded_and_the_search_goes_on(monkeypatch):
    monkeypatch.setattr(nas_evaluate, "_evaluate_cached", _dies_or_fakes)
    config = replace(SMALL, population=3, offspring=2, generations=2, n_jobs=2)
    result = search.search(task_data(), config, progress=False)
    c = result.candidates
    died = c.genome_id.map(lambda g: int(g, 16) % 3 == 0)
    assert died.any() and (~died).any() and len(c) == 5
    assert (c[died].stage == "process").all() and c[died].reason.str.contains("EXIT\\(13\\)").all()
    assert not c[died].feasible.any() and (c[~died].stage != "process").all()


def test_candidate_records_are_keyed_by_the_library_releases(monkeypatch):
    data = task_data()
    key = nas_evaluate.protocol_key(data, SMALL)
    assert nas_evaluate.protocol_key(data, SMALL) == key
    real = nas_evaluate.package_versions
    for library in ("tensorflow", "keras", "tflite-micro"):  # training, conversion, arena
        monkeypatch.setattr(nas_evaluate, "package_versions", lambda names, lib=library: {**real(names), lib: "0.0"})
        assert nas_evaluate.protocol_key(data, SMALL) != key, library


def _dies_once_or_always(genome_json, payload, config, folder):
    """Worker stand-in: every attempt leaves a mark; genome ids ending in 0-7 die on their first attempt
    only (damage left by earlier candidates), the others on every attempt (the candidate itself)."""
    import os
    import uuid
    from pathlib import Path

    genome = Genome.from_json(genome_json)
    gid = genome.genome_id()
    tries = sorted(Path(folder).glob(f"{gid}.attempt-*"))
    (Path(folder) / f"{gid}.attempt-{uuid.uuid4().hex}").touch()
    if int(gid[-1], 16) >= 8 or not tries:
        os._exit(13)
    return _fake_and_store(genome, payload, config, folder)


def test_a_candidate_is_recorded_as_crashed_only_if_it_kills_every_fresh_worker(monkeypatch):
    from spoken100.data.paths import cache_dir

    monkeypatch.setattr(nas_evaluate, "_evaluate_cached", _dies_once_or_always)
    data, config = task_data(), replace(SMALL, n_jobs=2)
    genomes = [random_genome(np.random.default_rng(s)) for s in range(6)]
    always = [int(g.genome_id()[-1], 16) >= 8 for g in genomes]
    assert any(always) and not all(always)
    records = nas_evaluate.evaluate_many(genomes, data, config, progress=False)
    folder = cache_dir("nas", "candidates", nas_evaluate.protocol_key(data, config))
    for genome, record in zip(genomes, records, strict=True):
        gid = genome.genome_id()
        attempts = len(list(folder.glob(f"{gid}.attempt-*")))
        if int(gid[-1], 16) >= 8:  # killed its pool worker (if it started there), then every fresh one
            assert record["stage"] == "process" and f"{nas_evaluate.CRASH_ATTEMPTS} times in a row" in record["reason"]
            assert attempts in (nas_evaluate.CRASH_ATTEMPTS, nas_evaluate.CRASH_ATTEMPTS + 1)
        else:  # died on its first attempt only, and was then evaluated in a fresh worker
            assert record["stage"] != "process" and attempts == 2


def test_warm_start_puts_the_paper_architectures_into_generation_1(fake):
    data = task_data()
    cold = search.search(data, SMALL, progress=False)
    warm = search.search(data, replace(SMALL, warm_start=True), progress=False)
    published = {g.genome_id() for g in search.published_candidates("language").values()}
    first = warm.candidates[warm.candidates.generation == 1]
    assert published <= set(first.genome_id) and len(first) == SMALL.population
    assert not published & set(cold.candidates.genome_id)
    assert warm.folder != cold.folder


def test_a_latency_budget_keeps_every_generated_genome_within_it(fake, monkeypatch):
    """Generation 1 and every child are drawn within the budget; published models are never budgeted."""
    monkeypatch.setattr(budget, "estimated_latency_ms", lambda genome, threads=1: float(genome.preprocessing.n_fft))
    budgeted = replace(SMALL, max_latency_ms=300.0)
    result = search.search(task_data(), budgeted, progress=False)
    n_ffts = [Genome.from_json(g).preprocessing.n_fft for g in result.candidates.genome]
    assert n_ffts and max(n_ffts) <= 300
    assert result.folder != search.search(task_data(), SMALL, progress=False).folder
    assert budgeted.protocol()["max_latency_ms"] == 300.0 and "max_latency_ms" not in SMALL.protocol()


def test_latency_budget_settings_are_resolved_or_refused():
    assert search.latency_budget_ms(None, "language") is None
    assert search.latency_budget_ms(50, "number") == 50.0
    for bad in ("fittest", "paper-best", -3):
        with pytest.raises(search.SearchError, match="latency_budget"):
            search.latency_budget_ms(bad, "language")
    configs = search.search_configs({"tasks": ["language"], "latency_budget": 42.5, "population": 4})
    assert configs["language"].max_latency_ms == 42.5 and configs["language"].population == 4


def test_the_paper_fittest_budget_is_its_calibrated_estimate():
    # The calibration fits the front end's cycles per MAC on the paper's 368 ms of its fittest number
    # model, so that model's budget is the anchor; the language model has 4 outputs instead of 100.
    number = search.latency_budget_ms("paper-fittest", "number")
    assert number == pytest.approx(paper_facts.figure("evonas_fittest_latency_ms").value, abs=1e-3)
    language = search.latency_budget_ms("paper-fittest", "language")
    assert language < number
    assert search.latency_budget_ms("paper-accurate", "language") > language


def test_an_over_budget_genome_is_rejected_before_training(monkeypatch):
    pytest.importorskip("tensorflow")

    def no_training(*args, **kwargs):
        raise AssertionError("an over-budget genome must not be trained")

    monkeypatch.setattr(nas_evaluate, "train_genome", no_training)
    data = task_data()
    record = search.evaluate_genome(Genome(n_classes=4), data.payload(), replace(SMALL, max_latency_ms=0.001))
    assert not record["feasible"] and record["stage"] == "latency" and "latency budget" in record["reason"]
    assert record["latency_ms"] > 0.001 and record["macs"] > 0


def test_accuracy_standard_error_in_percentage_points():
    from spoken100.nas import report

    assert report.accuracy_se_pp(0.5, 100) == pytest.approx(5.0)
    assert report.accuracy_se_pp(0.0, 800) == 0.0
    assert np.isnan(report.accuracy_se_pp(0.5, 0))


def test_the_protocol_names_the_rates_the_proxy_actually_trains_at():
    """Only the schedule's entries the proxy's epochs reach are named, read from the schedule itself."""
    from spoken100.nas import report
    from spoken100.nas.train import LAB_SCHEDULE

    first_until, first_rate = LAB_SCHEDULE[0]
    short = report.schedule_text(first_until)
    assert short == f"learning rate {first_rate:g} in all {first_until} epochs"
    long = report.schedule_text(LAB_SCHEDULE[-1][0])
    assert all(f"{rate:g} in epoch" in long for _, rate in LAB_SCHEDULE)
    assert report.schedule_text(1).endswith("its one epoch")


def test_the_skipped_retraining_is_described_from_the_roles_variants_and_facts():
    """Architectures per task follow the search's roles and the published variants; folds the facts table."""
    from pathlib import Path

    import yaml

    from spoken100.nas import retrain
    from spoken100.nas.roles import ROLES

    assert f"retraining {len(ROLES) + 1} architectures" in retrain.not_run_text(("fittest",))
    paper = yaml.safe_load((Path(__file__).resolve().parents[1] / "profiles" / "paper.yml").read_text())
    assert f"all {len(paper['notebooks']['05_evonas']['retrain_folds'])} folds" in retrain.not_run_text()
