"""The latency model's calibration: anchors, fitted constants, the band, MACs per class."""

from __future__ import annotations

import numpy as np
import pytest

from spoken100.data import paper_facts
from spoken100.nas import calibration
from spoken100.nas.calibration import Band, calibrate, calibration_table, ds_cnn_macs, estimate_ms, latency_breakdown
from spoken100.nas.macs import MacClasses


def test_every_fitted_anchor_is_reproduced_and_every_anchor_is_in_the_band():
    table = calibration_table(calibrate())
    fitted = table[table.role == "fitted"]
    assert len(fitted) == 4 and np.allclose(fitted["ratio estimated / measured"], 1.0)
    assert table["in band"].all()
    check = table[table.role == "check"].iloc[0]
    assert check["ratio estimated / measured"] != pytest.approx(1.0)  # a real residual
    # the measured values are the published table's, and the uncertain anchor says so
    paper = table[table.constant == "front end, board"].iloc[0]
    assert paper["measured ms"] == paper_facts.figure("evonas_fittest_latency_ms").value
    assert "secondary summary" in paper.caveat and paper["front end % of MACs"] > 50
    assert (table["source"].str.len() > 20).all()


def test_the_constants_follow_the_anchors(monkeypatch):
    base = calibrate()
    assert base.dense["vendor"] < base.dense["cmsis-nn"] < base.dense["reference"]
    assert base.frontend > base.dense["reference"]  # the paper's model is far slower than its MACs at CMSIS-NN rates
    real = paper_facts.figure

    def doubled(key):
        fig = real(key)
        if key in ("evonas_fittest_latency_ms", "mlperf_kws_cmsis_nn_ms"):
            from dataclasses import replace

            return replace(fig, value=2 * fig.value)
        return fig

    monkeypatch.setattr(paper_facts, "figure", doubled)
    moved = calibrate()
    # doubling both the CMSIS-NN DS-CNN and the paper's latency doubles both their constants; the rest stay
    assert moved.dense["cmsis-nn"] == pytest.approx(2 * base.dense["cmsis-nn"])
    assert moved.frontend == pytest.approx(2 * base.frontend)
    assert moved.dense["vendor"] == pytest.approx(base.dense["vendor"])
    assert moved.dense["reference"] == pytest.approx(base.dense["reference"])


def test_the_depthwise_prior_moves_depthwise_models_only():
    one, three = calibrate(1.0), calibrate(3.0)
    assert three.cycles.depthwise.central == pytest.approx(3 * three.cycles.dense.central)
    assert three.dense["cmsis-nn"] < one.dense["cmsis-nn"]  # the DS-CNN's depthwise MACs take a larger share
    for cal in (one, three):  # the DS-CNN anchors are reproduced under either prior
        assert np.allclose(calibration_table(cal).query("role == 'fitted'")["ratio estimated / measured"], 1.0)
    dense_only = MacClasses(dense=1_000_000)
    depthwise_only = MacClasses(depthwise=1_000_000)
    assert (
        estimate_ms(dense_only, "nrf52840_clock_mhz", three.cycles).central
        < estimate_ms(dense_only, "nrf52840_clock_mhz", one.cycles).central
    )
    assert (
        estimate_ms(depthwise_only, "nrf52840_clock_mhz", three.cycles).central
        > estimate_ms(depthwise_only, "nrf52840_clock_mhz", one.cycles).central
    )
    with pytest.raises(ValueError):
        calibrate(0.0)


def test_clock_rates_are_scaled_explicitly():
    macs = ds_cnn_macs()
    board = estimate_ms(macs, "nrf52840_clock_mhz")
    m4 = estimate_ms(macs, "mlperf_kws_l4r5zi_clock_mhz")
    ratio = paper_facts.figure("mlperf_kws_l4r5zi_clock_mhz").value / paper_facts.figure("nrf52840_clock_mhz").value
    for edge in ("low", "central", "high"):
        assert getattr(board, edge) == pytest.approx(ratio * getattr(m4, edge))


def test_front_end_share_of_macs_and_of_latency():
    plain = latency_breakdown(ds_cnn_macs())
    assert plain["front end % of MACs"] == 0 and plain["front end % of est. latency (central)"] == 0
    paper = latency_breakdown(calibration.paper_fittest_macs())
    assert 0 < paper["front end % of MACs"] < paper["front end % of est. latency (central)"] < 100
    assert paper["est. latency ms, low"] < paper["est. latency ms, central"] <= paper["est. latency ms, high"]
    assert paper["est. latency ms, central"] == pytest.approx(paper_facts.figure("evonas_fittest_latency_ms").value)


def test_band_arithmetic():
    assert Band(1, 2, 3) + Band(1, 1, 1) == Band(2, 3, 4)
    assert 2 * Band(1, 2, 3) == Band(2, 4, 6)


# ---- MACs per class, from Keras and from the genome ----------------------------------------------
keras = pytest.importorskip("keras")


def test_the_ds_cnn_layer_list_matches_a_keras_build():
    from spoken100.nas.macs import mac_classes

    spec, L = calibration.DS_CNN, keras.layers
    inputs = keras.Input((*spec["input"], 1))
    x = L.Conv2D(spec["filters"], spec["kernel"], strides=spec["stride"], padding="same", name="conv1")(inputs)
    for i in range(spec["blocks"]):
        x = L.DepthwiseConv2D(spec["dw_kernel"], padding="same", name=f"dw{i}")(x)
        x = L.Conv2D(spec["filters"], 1, name=f"pw{i}")(x)
    x = L.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, L.Dense(spec["classes"], name="head_out")(x))
    assert mac_classes(model) == ds_cnn_macs()


def test_genome_macs_equal_the_keras_count():
    from spoken100.nas.build import build_model
    from spoken100.nas.genome import Genome, Preprocessing, random_genome
    from spoken100.nas.macs import genome_macs, mac_classes
    from spoken100.nas.published import published_architecture

    rng = np.random.default_rng(3)
    genomes = [random_genome(rng, n_classes=100) for _ in range(4)]
    genomes += [published_architecture(v, 100) for v in ("accurate", "fastest", "fittest")]
    genomes.append(Genome(preprocessing=Preprocessing(compression="log")))
    for genome in genomes:
        assert genome_macs(genome) == mac_classes(build_model(genome)), genome.describe()
