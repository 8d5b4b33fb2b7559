"""Cost model: MACs per layer, flash/RAM, latency and energy bands, the memory check and the fitness."""

from __future__ import annotations

import numpy as np
import pytest

from spoken100.nas.costs import (
    CYCLES_PER_MAC,
    FLASH_LIMIT_BYTES,
    FLASH_OVERHEAD_BYTES,
    RAM_LIMIT_BYTES,
    RAM_OVERHEAD_BYTES,
    Band,
    candidate_fitness,
    estimate_costs,
    estimate_energy_mj,
    estimate_latency,
    fitness,
    fits,
)

DS_CNN_MACS = 2_660_000  # MLPerf Tiny KWS reference (tinyml-anchors §B.1)


def test_latency_reproduces_the_mlperf_anchors_scaled_to_the_board_clock():
    # The DS-CNN (no front end) at 64 MHz takes the measured 120 MHz latencies x 120 / 64: the band's
    # low edge is the vendor engine, the central the CMSIS-NN stack, the high the reference kernels.
    from spoken100.data import paper_facts
    from spoken100.nas.calibration import ds_cnn_macs

    scale = paper_facts.figure("mlperf_kws_l4r5zi_clock_mhz").value / paper_facts.figure("nrf52840_clock_mhz").value
    latency = estimate_latency(ds_cnn_macs())
    for edge, key in (("low", "mlperf_kws_vendor_ms"), ("central", "mlperf_kws_cmsis_nn_ms"),
                      ("high", "mlperf_kws_reference_ms")):  # fmt: skip
        assert getattr(latency, edge) == pytest.approx(1e-3 * paper_facts.figure(key).value * scale)
    energy = estimate_energy_mj(latency)
    assert energy.central == pytest.approx(latency.central * 3.3e-3 * 3.0 * 1000)
    for band in (CYCLES_PER_MAC.dense, CYCLES_PER_MAC.depthwise, CYCLES_PER_MAC.frontend):
        assert band.low < band.central <= band.high


def test_an_int_counts_as_dense_macs_and_the_front_end_is_charged_its_own_rate():
    from spoken100.nas.costs import MacClasses, frontend_latency

    assert estimate_latency(DS_CNN_MACS) == estimate_latency(MacClasses(dense=DS_CNN_MACS))
    front = MacClasses(frontend=DS_CNN_MACS)
    assert estimate_latency(front).central / estimate_latency(DS_CNN_MACS).central == pytest.approx(
        CYCLES_PER_MAC.frontend.central / CYCLES_PER_MAC.dense.central
    )
    mixed = MacClasses(frontend=1000, dense=2000, depthwise=500)
    assert frontend_latency(mixed) == estimate_latency(MacClasses(frontend=1000))
    costs = estimate_costs(10_000, 10_000, mixed)
    assert costs.macs == 3500 and costs.mac_classes == mixed
    assert costs.frontend_latency_s.central < costs.latency_s.central


def test_costs_on_known_numbers():
    costs = estimate_costs(b"\0" * 50_000, arena_bytes=30_000, macs=DS_CNN_MACS, n_samples=8000)
    assert costs.model_bytes == 50_000
    assert costs.flash_bytes == 50_000 + FLASH_OVERHEAD_BYTES == 263_497
    assert costs.io_bytes == 16_000
    assert costs.ram_bytes == 30_000 + 16_000 + RAM_OVERHEAD_BYTES == 65_428
    assert costs.macs == DS_CNN_MACS
    assert isinstance(costs.latency_s, Band) and costs.energy_mj.central == pytest.approx(
        costs.latency_s.central * 3.3e-3 * 3.0 * 1000
    )
    assert fits(costs)
    assert costs.to_dict()["latency_s"]["central"] == pytest.approx(costs.latency_s.central)


def test_fits_at_the_limits():
    edge = estimate_costs(FLASH_LIMIT_BYTES - FLASH_OVERHEAD_BYTES, RAM_LIMIT_BYTES - 16_000 - RAM_OVERHEAD_BYTES, 1)
    assert edge.flash_bytes == FLASH_LIMIT_BYTES and edge.ram_bytes == RAM_LIMIT_BYTES and fits(edge)
    assert not fits(estimate_costs(FLASH_LIMIT_BYTES - FLASH_OVERHEAD_BYTES + 1, 0, 1))
    assert not fits(estimate_costs(0, RAM_LIMIT_BYTES, 1))
    assert fits(estimate_costs(0, RAM_LIMIT_BYTES, 1), ram_limit=10 * RAM_LIMIT_BYTES)


def test_fitness_on_known_numbers():
    assert fitness(0.5, 200_000, 2.0) == pytest.approx(0.6 * 0.5 + 0.2 * 0.5 + 0.2 * 0.5)
    assert fitness(1.0, 50_000, 0.5) == pytest.approx(1.0)  # both cost terms saturate at 1
    assert fitness(0.8, 100_000, 0.0) == pytest.approx(0.48 + 0.2)  # no energy measurement: term 0
    assert fitness(0.8, 100_000, 1.0, weights=(0.7, 0.1, 0.2)) == pytest.approx(0.56 + 0.1 + 0.2)
    with pytest.raises(ValueError):
        fitness(80.0, 100_000, 1.0)  # a percentage, not a fraction


def test_the_printed_fitness_formula_is_the_one_fitness_computes():
    from spoken100.nas.report import fitness_formula

    assert fitness_formula() == "0.6·acc + 0.2·min(1, 100 kB/ROM) + 0.2·min(1, 1 mJ/E)"  # the lab's (EdgeVolution)
    assert fitness_formula((0.5, 0.3, 0.2), 50_000, 2.0) == "0.5·acc + 0.3·min(1, 50 kB/ROM) + 0.2·min(1, 2 mJ/E)"
    # the defaults it prints are the ones fitness() applies: at ROM_min and E_min both cost terms are 1
    assert fitness(0.0, 100_000, 1.0) == pytest.approx(0.4) and fitness(0.0, 200_000, 2.0) == pytest.approx(0.2)


def test_candidate_fitness_uses_flash_and_energy_band():
    costs = estimate_costs(50_000, 30_000, DS_CNN_MACS)
    central = candidate_fitness(0.5, costs)
    assert central == pytest.approx(fitness(0.5, costs.flash_bytes, costs.energy_mj.central))
    assert candidate_fitness(0.5, costs, estimate="low") > central > candidate_fitness(0.5, costs, estimate="high")


# ---- MACs on Keras models ------------------------------------------------------------------------
keras = pytest.importorskip("keras")


def test_macs_of_a_hand_counted_model():
    from spoken100.nas.costs import count_macs, layer_macs

    L = keras.layers
    inputs = keras.Input((8, 6, 1))
    x = L.Conv2D(4, 3, padding="same", name="block0_conv")(inputs)  # 8*6*4 outputs x 3*3*1 = 1728
    x = L.DepthwiseConv2D(3, strides=2, padding="same", name="block1_dwconv")(x)  # 4*3*4 x 3*3 = 432
    x = L.BatchNormalization(name="block1_bn")(x)
    x = L.GlobalAveragePooling2D(name="head_pool")(x)
    outputs = L.Dense(5, name="head_out")(x)  # 4 x 5 = 20
    model = keras.Model(inputs, outputs)
    rows = {r.name: r for r in layer_macs(model)}
    assert rows["block0_conv"].macs == 1728
    assert rows["block1_dwconv"].macs == 432
    assert rows["block1_bn"].macs == 0 and rows["head_pool"].macs == 0
    assert rows["head_out"].macs == 20 and rows["head_out"].stage == "head"
    assert count_macs(model) == {"frontend": 0, "features": 2160, "head": 20, "total": 2180}


def test_frontend_macs_follow_the_dft_and_mel_formulas():
    from spoken100.nas.build import LOG_KNOTS, build_model
    from spoken100.nas.costs import count_macs
    from spoken100.nas.genome import Genome, Preprocessing

    for compression in ("none", "log"):
        g = Genome(preprocessing=Preprocessing(compression=compression))
        p = g.preprocessing
        T, F, M, N = p.n_frames, p.n_freqs, p.n_mels, p.n_fft
        expected = 2 * T * N * F + T * F * M + (2 * T * M * LOG_KNOTS if compression == "log" else 0)
        assert count_macs(build_model(g))["frontend"] == expected


def test_fittest_published_model_front_end_macs():
    from spoken100.nas.build import build_model
    from spoken100.nas.costs import count_macs
    from spoken100.nas.published import published_architecture

    # n_fft 112, hop 256, 44 mels over 8000 samples: 1 + (8000 - 112) // 256 = 31 frames of 57 bins.
    # DFT: 2 convs x 31 frames x 112 taps x 57 bins; mel: 31 frames x 57 bins x 44 mels.
    model = build_model(published_architecture("fittest"))
    macs = count_macs(model)
    assert macs["frontend"] == 2 * 31 * 112 * 57 + 31 * 57 * 44 == 473_556
    assert macs["total"] == macs["frontend"] + macs["features"] + macs["head"]
    assert 0 < macs["head"] < macs["features"]  # the feature blocks cost more than one 40-unit dense layer


def test_latency_and_energy_grow_linearly_with_macs():
    grid = [0, 1, 1000, 473_556, DS_CNN_MACS, 10 * DS_CNN_MACS]
    latencies = [estimate_latency(m) for m in grid]
    energies = [estimate_energy_mj(lat) for lat in latencies]
    assert latencies[0] == Band(0.0, 0.0, 0.0)
    for band in latencies + energies:
        assert band.low <= band.central <= band.high
    for edge in ("low", "central", "high"):
        lat = [getattr(b, edge) for b in latencies]
        energy = [getattr(b, edge) for b in energies]
        assert np.all(np.diff(lat) > 0) and np.all(np.diff(energy) > 0)
        # Linear: twice the MACs take twice the time and energy, and energy / latency is the CPU power.
        assert getattr(estimate_latency(2 * DS_CNN_MACS), edge) == pytest.approx(2 * lat[4])
        assert energy[4] / lat[4] == pytest.approx(3.3e-3 * 3.0 * 1000)
    # A faster clock or fewer cycles per MAC shortens the estimate in proportion.
    assert estimate_latency(DS_CNN_MACS, clock_hz=128e6).central == pytest.approx(latencies[4].central / 2)
    assert estimate_latency(DS_CNN_MACS, Band(1.0, 1.0, 1.0)).high == pytest.approx(DS_CNN_MACS / 64e6)


def test_more_macs_or_bytes_never_raise_fitness_or_fit_better():
    accuracy = 0.9
    previous = None
    for macs in (10_000, 100_000, DS_CNN_MACS, 10 * DS_CNN_MACS, 100 * DS_CNN_MACS):
        score = candidate_fitness(accuracy, estimate_costs(50_000, 30_000, macs))
        assert previous is None or score <= previous
        previous = score
    assert candidate_fitness(accuracy, estimate_costs(50_000, 30_000, 100 * DS_CNN_MACS)) < candidate_fitness(
        accuracy, estimate_costs(50_000, 30_000, DS_CNN_MACS)
    )
    small = estimate_costs(50_000, 30_000, DS_CNN_MACS)
    big_flash = estimate_costs(FLASH_LIMIT_BYTES, 30_000, DS_CNN_MACS)  # the model alone fills the flash
    big_ram = estimate_costs(50_000, RAM_LIMIT_BYTES - RAM_OVERHEAD_BYTES, DS_CNN_MACS)  # + audio buffer
    assert fits(small) and not fits(big_flash) and not fits(big_ram)
    assert candidate_fitness(accuracy, big_flash) < candidate_fitness(accuracy, small)
    # A longer clip needs a longer audio buffer: it can push a candidate over the RAM limit.
    edge = RAM_LIMIT_BYTES - RAM_OVERHEAD_BYTES - 16_000
    assert fits(estimate_costs(50_000, edge, 1, n_samples=8000))
    assert not fits(estimate_costs(50_000, edge, 1, n_samples=8001))
