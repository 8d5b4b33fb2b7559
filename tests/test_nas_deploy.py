"""Deployment: C-array export, bit-exactness of TFLite Micro, the deployment report, tables and figures."""

from __future__ import annotations

import numpy as np
import pytest

from spoken100.nas import deploy, deployment, search


@pytest.fixture(scope="module")
def tiny():
    """A small untrained genome model and its int8 conversion (noise calibration, as the paper)."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("tflite_micro")
    from spoken100.nas import tflite
    from spoken100.nas.build import build_model
    from spoken100.nas.genome import Block, DenseLayer, Genome, Head, Preprocessing

    genome = Genome(
        preprocessing=Preprocessing(n_fft=64, hop_length=256, n_mels=16),
        blocks=(Block("conv", 6, 3, 2, pool="max", pool_size=2),),
        head=Head("avg", 0.0, (DenseLayer(24),)),
        n_classes=4,
    )
    model = build_model(genome, seed=1)
    return model, tflite.to_int8(model, tflite.noise_dataset(n=8))


def _clips(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(8000) / 8000
    f0 = rng.uniform(100, 300, size=(n, 1))
    return (0.4 * np.sin(2 * np.pi * f0 * t) + 0.02 * rng.standard_normal((n, 8000))).astype(np.float32)


# ---- C array -----------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 12, 1001])
def test_c_array_round_trips(tmp_path, size):
    data = np.random.default_rng(size).integers(0, 256, size).astype(np.uint8).tobytes()
    cc, h = deploy.export_c_array(data, tmp_path / "out")
    assert (cc.name, h.name) == ("model_data.cc", "model_data.h")
    assert deploy.read_c_array(cc) == data
    source, header = cc.read_text(), h.read_text()
    assert "alignas(16) const unsigned char g_model[] = {" in source
    assert f"const unsigned int g_model_len = {size};" in source
    assert '#include "model_data.h"' in source
    assert "extern const unsigned char g_model[];" in header and "extern const unsigned int g_model_len;" in header
    assert "#ifndef MODEL_DATA_H_" in header and header.rstrip().endswith("MODEL_DATA_H_")
    assert all(len(line.split(",")) <= 13 for line in source.splitlines() if line.startswith("  0x"))


def test_c_array_names_and_length_are_checked(tmp_path):
    cc, h = deploy.export_c_array(b"\x01\x02\x03", tmp_path, name="g_clip", stem="clip_data")
    assert (cc.name, h.name) == ("clip_data.cc", "clip_data.h") and "g_clip_len = 3;" in cc.read_text()
    with pytest.raises(ValueError, match="C identifier"):
        deploy.export_c_array(b"\x00", tmp_path, name="2bad-name")
    cc.write_text(cc.read_text().replace("g_clip_len = 3", "g_clip_len = 4"))
    with pytest.raises(ValueError, match="length constant"):
        deploy.read_c_array(cc)


def test_op_resolver_code_names_tflm_methods():
    code = deploy.op_resolver_code(["SOFTMAX", "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED",
                                    "REDUCE_MAX", "CONV_2D"])  # fmt: skip
    lines = code.splitlines()
    assert lines[0] == "static tflite::MicroMutableOpResolver<6> resolver;"
    assert lines[1:] == [
        "resolver.AddConv2D();",
        "resolver.AddDepthwiseConv2D();",
        "resolver.AddFullyConnected();",
        "resolver.AddMaxPool2D();",
        "resolver.AddReduceMax();",
        "resolver.AddSoftmax();",
    ]


# ---- bit-exactness -----------------------------------------------------------------------------
def test_compare_outputs_counts_differences():
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int8)
    same = deploy.compare_outputs(a, a.copy())
    assert same.bit_exact and same.n == 2 and same.max_abs_diff == 0 and same.argmax_agreement == 1.0
    b = a.copy()
    b[1, 0] = 7  # one value of the second clip differs by 3 steps, and its argmax changes
    diff = deploy.compare_outputs(a, b)
    assert not diff.bit_exact and diff.n_identical == 1 and diff.max_abs_diff == 3 and diff.argmax_agreement == 0.5
    assert "1 of 2 clips differ" in str(diff) and diff.differing == (1,)
    with pytest.raises(ValueError, match="raw integer"):
        deploy.compare_outputs(a.astype(np.float32), a.astype(np.float32))
    with pytest.raises(ValueError, match="shapes differ"):
        deploy.compare_outputs(a, a[:1])


def test_bit_exactness_on_a_tiny_model(tiny):
    _, model_bytes = tiny
    check = deploy.bit_exactness(model_bytes, _clips(3))
    assert check.n == 3
    assert check.bit_exact, str(check)


def test_first_divergence_finds_the_layer(tiny, monkeypatch):
    from spoken100.nas import tflite

    model, _ = tiny
    x = _clips(2, seed=4)
    assert (
        deploy.first_divergence(model, x, tflite.noise_dataset(n=4), isolated=False) is None
    )  # bit-exact: one conversion
    run_tflm = tflite.run_tflm

    def perturbed(model_bytes, x, **kwargs):  # pretend TFLite Micro's dense layers round differently
        out = run_tflm(model_bytes, x, **kwargs)
        if out.shape[-1] in (24, 4):  # the outputs of head_dense0 (24 units) and of head_out (4 classes)
            out = out.copy()
            out[0, 0] = out[0, 0] + 1 if out[0, 0] < 127 else out[0, 0] - 1
        return out

    monkeypatch.setattr(tflite, "run_tflm", perturbed)
    found = deploy.first_divergence(model, x, tflite.noise_dataset(n=4), isolated=False)
    assert found["name"] == "head_dense0" and found["op"] == "FULLY_CONNECTED" and found["kind"] == "Dense"
    assert (found["clips_differing"], found["clips"], found["max_abs_diff"]) == (1, 2, 1)
    assert found["conversions"] <= 1 + int(np.ceil(np.log2(len(model.layers))))


# ---- the report --------------------------------------------------------------------------------
def test_deployment_report(tiny):
    import matplotlib

    matplotlib.use("Agg")
    from spoken100.nas import costs, tflite

    model, _ = tiny
    X = _clips(6, seed=1)
    y = np.array([0, 1, 2, 3, 0, 1])
    rep = deploy.deployment_report(model, X, y, tflite.noise_dataset(n=8), "tiny", task="language", n_tflm=4)
    assert rep.n_test == 6 and rep.n_tflm == 4 and rep.exactness.n == 4
    assert rep.exactness.bit_exact and rep.differing_clips().size == 0
    assert rep.tflm_indices.tolist() == [0, 2, 3, 5]
    for acc in (rep.float_accuracy, rep.int8_accuracy, rep.tflm_accuracy, rep.agreement):
        assert 0.0 <= acc <= 1.0
    assert rep.costs.model_bytes == len(rep.tflite)
    assert rep.costs.flash_bytes == len(rep.tflite) + costs.FLASH_OVERHEAD_BYTES
    assert rep.costs.arena_bytes == rep.arena["total"] > 0
    assert rep.costs.latency_s.low < rep.costs.latency_s.central < rep.costs.latency_s.high
    assert rep.fits and rep.io["input"]["shape"] == (1, 8000)
    assert set(rep.ops) <= {op for op, s in tflite.INT8_OP_SUPPORT.items() if s.startswith("ok")}
    row = rep.row()
    assert row["model"] == "tiny" and row["bit_exact"] and row["ram_fraction"] < 1
    assert rep.to_dict()["io"]["input"]["dtype"] == "int8"

    table = deploy.deployment_table([rep])
    assert table.loc[0, "TFLM = ref (bit-exact)"] == "yes" and "est. latency ms, central (band low–high)" in table
    assert deploy.deployment_table([rep], readable=False).loc[0, "flash_bytes"] == rep.costs.flash_bytes
    ops = deploy.op_table([rep])
    assert set(ops.op) == set(rep.ops) and (ops["ran here"] == "yes").all() and (ops["tiny"] == "✓").all()
    assert ops.set_index("op").loc["CONV_2D", "resolver call"] == "AddConv2D()"
    assert deploy.exactness_table([rep]).loc[0, "first differing layer"] == "-"
    found = deploy.findings([rep], {})
    assert found["n_bit_exact"] == 1 and found["max_differing_pct"] == 0.0 and found["divergence_ops"] == "none located"
    assert found["best_language_model"] == "tiny" and found["best_number_model"] == "none"
    assert found["latency_low_ms"] < found["latency_high_ms"] and 0 < found["max_ram_pct"] < 100
    assert 0 < found["max_frontend_latency_pct"] < 100  # the tiny model has a front end and a network
    assert found["paper_fittest_est_ms_low"] < found["paper_fittest_est_ms"] <= found["paper_fittest_est_ms_high"]
    for column in table.columns:
        if "latency" in column or "energy" in column:
            assert "est." in column and ("band" in column or "(central)" in column), column

    for figure in (deploy.memory_figure([rep, rep]), deploy.cost_band_figure([rep])):
        assert len(figure.axes) == 2
        matplotlib.pyplot.close(figure)


def test_firmware_bundle(tiny, tmp_path):
    from types import SimpleNamespace

    from spoken100.nas import tflite

    _, model_bytes = tiny
    io = tflite.io_details(model_bytes)
    fake = SimpleNamespace(
        tflite=model_bytes, ops=tflite.model_ops(model_bytes), io=io, name="tiny", task="language", normalize=False
    )
    clip = _clips(1, seed=5)[0]
    paths = deploy.export_firmware_bundle(fake, tmp_path / "fw", clip=clip)
    assert paths["model"].read_bytes() == model_bytes == deploy.read_c_array(paths["model_cc"])
    q = tflite.quantize_input(clip, io["input"]["scale"], io["input"]["zero_point"])
    assert deploy.read_c_array(paths["clip_cc"]) == q.tobytes()
    expected = [int(v) for v in paths["expected"].read_text().split()]
    assert expected == tflite.run_tflite(model_bytes, clip[None], dequantize=False)[0].tolist()
    assert paths["resolver"].read_text().startswith("static tflite::MicroMutableOpResolver<")


def test_report_refuses_mismatched_labels(tiny):
    model, _ = tiny
    with pytest.raises(ValueError, match="labels"):
        deploy.deployment_report(model, _clips(3), np.zeros(2, dtype=int), None, "tiny")


def test_spread_indices_cover_the_range():
    assert deploy.spread_indices(10, None).tolist() == list(range(10))
    assert deploy.spread_indices(10, 20).tolist() == list(range(10))
    picked = deploy.spread_indices(1600, 5)
    assert picked.tolist() == [0, 400, 800, 1199, 1599]
    with pytest.raises(ValueError):
        deploy.spread_indices(10, 0)


def test_model_source_seam():
    with pytest.raises(ValueError, match="models_from"):
        deploy.picked_models(None, models_from="zoo")
    with pytest.raises(search.SearchError, match="unknown search setting"):
        deploy.picked_models(None, models_from="search", search={"populaton": 4})


def test_search_picks_are_chapter_5s_trained_models(monkeypatch):
    """The search seam: every role of every task, the search's own trained weights, normalised inputs."""
    from types import SimpleNamespace

    from spoken100.nas.genome import Genome

    genomes = {role: Genome(n_classes=4) for role in search.ROLES}
    searched, trained = [], []

    loaded = []

    def fake_task_data(corpus, config, progress=True):
        loaded.append(config.task)
        return f"clips of {config.task}"

    def fake_search(data, config, progress=True):
        assert data == f"clips of {config.task}"
        searched.append(config)
        return SimpleNamespace(pick=lambda role: genomes[role])

    def fake_trained(data, config, genome, test=True):
        assert data == f"clips of {config.task}"  # the search's own data, not read again
        trained.append((config.task, genome))
        return SimpleNamespace(model=f"model of {config.task}")

    monkeypatch.setattr(search, "task_data", fake_task_data)
    monkeypatch.setattr(search, "search", fake_search)
    monkeypatch.setattr(search, "trained_candidate", fake_trained)
    chapter5 = {"tasks": ["language", "number"], "population": 3, "generations": 2, "epochs": 1,
                "published_variants": ["fittest"], "fold": 2, "n_folds": 4}  # fmt: skip
    picks = deploy.picked_models("corpus", "search", search=chapter5)
    assert [p.name for p in picks] == [f"{t}_{r}" for t in ("language", "number") for r in deploy.ROLES]
    assert all(p.source == "search" and p.normalize for p in picks)
    assert [c.task for c in searched] == ["language", "number"]
    assert all((c.population, c.generations, c.fold, c.n_folds) == (3, 2, 2, 4) for c in searched)
    assert len(trained) == 6 and picks[0].model == "model of language"
    assert loaded == ["language", "number"]  # the clips are read once per task
    only = deploy.picked_models("corpus", "search", names=["number_fittest"], search=chapter5)
    assert [p.name for p in only] == ["number_fittest"]
    with pytest.raises(ValueError, match="no picked model"):
        deploy.picked_models("corpus", "search", names=["languages_fittest"], search=chapter5)


def test_confirmed_picks_are_the_two_models_of_chapter_5s_verdict(monkeypatch):
    """The confirmed seam: per task the chosen candidate and the paper's fittest, with the confirmation's settings."""
    from types import SimpleNamespace

    from spoken100.nas import confirm, picks
    from spoken100.nas.genome import Genome

    asked = []

    def fake_confirmation_genomes(result, published, variants):
        assert result == "search of language" or result == "search of number"
        assert published == f"published {variants}"
        return {confirm.CHOSEN: Genome(n_classes=4), confirm.REFERENCE: Genome(n_classes=100), "paper fastest": None}

    def fake_confirmed_models(data, config, genomes, settings, labels):
        asked.append((data, config.fold, settings, tuple(labels)))
        return {label: SimpleNamespace(model=f"{label} of {config.task}") for label in labels}

    monkeypatch.setattr(search, "task_data", lambda corpus, config, progress=True: f"clips of {config.task}")
    monkeypatch.setattr(search, "search", lambda data, config, progress=True: f"search of {config.task}")
    monkeypatch.setattr(search, "evaluate_published_data",
                        lambda data, config, progress=True, variants=(): f"published {tuple(variants)}")  # fmt: skip
    monkeypatch.setattr(picks.nas_confirm, "confirmation_genomes", fake_confirmation_genomes)
    monkeypatch.setattr(picks.nas_confirm, "confirmed_models", fake_confirmed_models)
    chapter5 = {"tasks": ["language", "number"], "population": 3, "generations": 2, "epochs": 1, "fold": 2,
                "n_folds": 4, "published_variants": ["fittest"], "confirm_seeds": [7, 8], "confirm_epochs": 4}  # fmt: skip
    chosen = deploy.picked_models("corpus", "confirmed", search=chapter5)
    assert [p.name for p in chosen] == ["language_search_chosen", "language_paper_fittest",
                                        "number_search_chosen", "number_paper_fittest"]  # fmt: skip
    assert all(p.source == "confirmed" and p.normalize for p in chosen)
    assert chosen[1].model == "paper fittest of language" and chosen[1].role == confirm.REFERENCE
    assert "seed 7" in chosen[0].notes[0] and "4 epoch(s)" in chosen[0].notes[0]
    assert [a[0] for a in asked] == ["clips of language", "clips of number"]  # the search's own clips
    assert all(a[1] == 2 and a[2] == confirm.ConfirmSettings(seeds=(7, 8), epochs=4) for a in asked)
    only = deploy.picked_models("corpus", "confirmed", names=["number_paper_fittest"], search=chapter5)
    assert [p.name for p in only] == ["number_paper_fittest"]
    with pytest.raises(ValueError, match="confirm_seeds"):
        deploy.picked_models("corpus", "confirmed", search={**chapter5, "confirm_seeds": []})
    with pytest.raises(ValueError, match="search's seed 8"):  # not the search's own trainings
        deploy.picked_models("corpus", "confirmed", search={**chapter5, "seed": 8})


def test_deployment_uses_the_search_fold_unless_told_otherwise():
    assert deploy.deployment_fold({"fold": 3, "n_folds": 4}) == (3, 4)
    assert deploy.deployment_fold({"fold": 3, "n_folds": 4}, fold=1, n_folds=8) == (1, 8)
    assert deploy.deployment_fold(None) == (1, 8)


def test_normalised_models_see_normalised_clips(tiny, tmp_path):
    from spoken100.data.audio import peak_normalize
    from spoken100.nas import tflite
    from spoken100.nas.predict import model_metadata

    model, _ = tiny
    quiet = 0.05 * _clips(4, seed=2)
    y = np.array([0, 1, 2, 3])
    assert deploy.model_inputs(quiet, False) is quiet
    np.testing.assert_allclose(np.abs(deploy.model_inputs(quiet, True)).max(axis=1), 1.0, rtol=1e-6)
    normalised = deploy.deployment_report(model, quiet, y, quiet, "n", task="language", normalize=True)
    by_hand = deploy.deployment_report(model, peak_normalize(quiet), y, peak_normalize(quiet), "h", task="language")
    assert normalised.normalize and normalised.tflite == by_hand.tflite
    assert normalised.float_accuracy == by_hand.float_accuracy and normalised.int8_accuracy == by_hand.int8_accuracy
    paths = deploy.export_firmware_bundle(normalised, tmp_path / "fw", clip=quiet[0])
    assert model_metadata(paths["model"]) == {"name": "n", "task": "language", "peak_normalize": True}
    io = normalised.io["input"]
    q = tflite.quantize_input(peak_normalize(quiet[:1])[0], io["scale"], io["zero_point"])
    assert deploy.read_c_array(paths["clip_cc"]) == q.tobytes()


def test_deployment_reports_are_artefacts_keyed_by_model_and_data(tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path))
    model, _ = tiny
    X, y, calib = _clips(4, seed=3), np.array([0, 1, 2, 3]), _clips(4, seed=4)
    first = deploy.cached_deployment_report(model, X, y, calib, "m", task="language")

    def must_not_run(*args, **kwargs):
        raise AssertionError("a cached report was recomputed")

    monkeypatch.setattr(deployment, "deployment_report", must_not_run)
    again = deploy.cached_deployment_report(model, X, y, calib, "m", task="language")
    assert again.tflite == first.tflite and again.int8_accuracy == first.int8_accuracy
    with pytest.raises(AssertionError, match="recomputed"):  # other test clips: another artefact
        deploy.cached_deployment_report(model, X[::-1].copy(), y, calib, "m", task="language")
    before = deploy.model_fingerprint(model)
    weights = model.get_weights()
    model.set_weights([w + 1 for w in weights])
    try:
        assert deploy.model_fingerprint(model) != before
    finally:
        model.set_weights(weights)


def test_noise_calibration_is_the_papers_draw_as_an_array():
    from spoken100.nas import tflite

    noise, note = deploy.calibration_set(None, None, "noise", n=3, seed=7)
    drawn = np.concatenate([batch[0] for batch in tflite.noise_dataset(n=3, seed=7)()])
    np.testing.assert_array_equal(noise, drawn)
    assert "uniform-noise" in note
