"""Genome -> Keras -> int8 TFLite -> TFLite Micro: the in-model front end, conversion, arena, inference."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

import librosa  # noqa: E402

from spoken100.nas import tflite  # noqa: E402
from spoken100.nas.build import (  # noqa: E402
    MAG_ALPHA,
    MAG_BETA,
    build_model,
    frontend_matrices,
    frontend_model,
    piecewise_log,
    reference_features,
)
from spoken100.nas.genome import Block, Genome, Head, Preprocessing, random_genome  # noqa: E402
from spoken100.nas.published import published_architecture  # noqa: E402

#: The published "accurate" architecture (paper-facts §5.2): its untrained logits are too small for
#: TFLite Micro's int8 softmax without the conversion guard.
ACCURATE = published_architecture("accurate")
LOG_POWER = Genome(
    preprocessing=Preprocessing(n_fft=128, hop_length=192, n_mels=40, spectrum="power", compression="log"),
    blocks=(Block("conv", 8, 3, 2, batch_norm=True, pool="avg", pool_size=2), Block("dwconv", None, 3, 1)),
    head=Head("avg", 0.0, ()),
    n_classes=100,
)


def _clips(n: int = 2, seed: int = 0) -> np.ndarray:
    """Speech-like test clips: harmonic tones under a Hann envelope plus a little noise, peak 0.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(8000) / 8000
    clips = []
    for _ in range(n):
        f0 = rng.uniform(100, 250)
        x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 12)) * np.hanning(8000)
        x = x + 0.01 * rng.standard_normal(8000)
        clips.append(0.5 * x / np.abs(x).max())
    return np.asarray(clips, dtype=np.float32)


@pytest.mark.filterwarnings("ignore:Empty filters")
def test_frontend_power_matches_librosa():
    pre = Preprocessing(n_fft=128, hop_length=160, n_mels=40, f_max=8000.0, spectrum="power")
    x = _clips()
    got = frontend_model(pre)(x).numpy()[..., 0]
    ref = librosa.feature.melspectrogram(
        y=x.astype(np.float64), sr=8000, n_fft=128, hop_length=160, n_mels=40, fmax=8000.0, center=False, power=2.0
    ).transpose(0, 2, 1)
    assert got.shape == ref.shape == (2, pre.n_frames, 40)
    np.testing.assert_allclose(got, ref, atol=1e-4 * ref.max())


def test_frontend_magnitude_is_within_the_approximation_bound():
    pre = Preprocessing(n_fft=112, hop_length=256, n_mels=44)
    x = _clips(seed=1)
    got = frontend_model(pre)(x).numpy()[..., 0].astype(np.float64)
    exact = reference_features(pre, x, exact=True)
    mask = exact > 1e-6 * exact.max()
    rel = np.abs(got[mask] - exact[mask]) / exact[mask]
    assert rel.max() <= 0.0397  # alpha-max-plus-beta-min: at most 3.96 % per bin, so per mel band too
    np.testing.assert_allclose(got, reference_features(pre, x, exact=False), atol=1e-5 * exact.max())


def test_frontend_log_tracks_the_natural_log():
    pre = LOG_POWER.preprocessing
    x = _clips(seed=2)
    got = frontend_model(pre)(x).numpy()[..., 0].astype(np.float64)
    m = frontend_matrices(pre)
    mel = reference_features(replace_compression(pre), x)
    np.testing.assert_allclose(got, piecewise_log(mel, m.log_knots, m.log_weights, m.log_bias), atol=2e-3)
    above = mel >= m.log_knots[0]
    assert above.mean() > 0.3  # the rest: empty mel bands above Nyquist (f_max 8 kHz) and quiet bins
    ratio = m.log_knots[1] / m.log_knots[0]
    bound = np.log((ratio - 1) / np.log(ratio)) - 1 + np.log(ratio) / (ratio - 1)  # chord error of ln
    assert np.abs(got[above] - np.log(mel[above])).max() <= bound + 1e-3


def replace_compression(pre: Preprocessing) -> Preprocessing:
    from dataclasses import replace

    return replace(pre, compression="none")


@pytest.mark.parametrize("seed", range(20))
def test_every_random_genome_builds(seed):
    g = random_genome(np.random.default_rng(seed))
    model = build_model(g)
    assert model.input_shape == (None, 8000)
    assert model.output_shape == (None, g.n_classes)
    assert model.get_layer("frontend_image").output.shape[1:] == (g.preprocessing.n_frames, g.preprocessing.n_mels, 1)
    assert not any(layer.trainable_weights for layer in model.layers if layer.name.startswith("frontend_"))


@pytest.mark.parametrize(
    "genome", [published_architecture("fittest"), LOG_POWER, ACCURATE], ids=["fittest", "power-log", "accurate"]
)
def test_int8_model_runs_in_tflite_micro(genome):
    model = build_model(genome)
    weights = [w.copy() for w in model.get_weights()]
    model_bytes = tflite.to_int8(model, tflite.noise_dataset(n=8))
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
    assert set(tflite.model_ops(model_bytes)) <= {op for op, s in tflite.INT8_OP_SUPPORT.items() if s.startswith("ok")}
    report = tflite.arena_report(model_bytes)
    assert report["total"] == report["head"] + report["tail"] > 0
    x = _clips(2, seed=3)
    micro = tflite.run_tflm(model_bytes, x, dequantize=False)
    assert micro.dtype == np.int8 and micro.shape == (2, genome.n_classes)
    np.testing.assert_array_equal(micro, tflite.run_tflite(model_bytes, x, dequantize=False))
    probs = tflite.run_tflm(model_bytes, x)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=0.05)


@pytest.mark.parametrize("seed", [3, 23])
def test_random_genome_converts_and_runs(seed):
    # seed 23 has a dead network (constant logits): the conversion guard gives it a usable range.
    g = random_genome(np.random.default_rng(seed))
    model = build_model(g)
    if seed == 23:
        kernel, ramp = tflite.condition_logits(model, tflite.noise_dataset(n=8))
        assert np.array_equal(kernel, model.layers[-1].get_weights()[0]) and np.all(np.diff(ramp) > 0)
    model_bytes = tflite.to_int8(model, tflite.noise_dataset(n=8))
    x = _clips(1, seed=seed)
    np.testing.assert_array_equal(
        tflite.run_tflm(model_bytes, x, dequantize=False), tflite.run_tflite(model_bytes, x, dequantize=False)
    )


def test_tensor_names_are_stripped():
    model = build_model(Genome(), name="a_rather_long_model_name_that_would_cost_flash")
    full = tflite.to_int8(model, tflite.noise_dataset(n=4), strip_names=False)
    stripped = tflite.strip_tensor_names(full)
    assert len(stripped) < len(full) - 1000
    assert tflite.model_ops(stripped) == tflite.model_ops(full)
    x = _clips(1)
    np.testing.assert_array_equal(
        tflite.run_tflm(stripped, x, dequantize=False, isolated=False),
        tflite.run_tflm(full, x, dequantize=False, isolated=False),
    )


def test_in_process_arena_capture_matches_the_worker():
    model_bytes = tflite.to_int8(build_model(Genome()), tflite.noise_dataset(n=4))
    assert tflite.arena_bytes(model_bytes, isolated=False) == tflite.arena_bytes(model_bytes)


def test_tflm_abort_is_an_error_not_a_crash():
    # Without the logit guard the untrained "accurate" model's softmax input scale is below what
    # TFLite Micro accepts: its interpreter aborts the process, which the worker turns into an error.
    model_bytes = tflite.to_int8(build_model(ACCURATE), tflite.noise_dataset(n=4), min_logit_range=0)
    with pytest.raises(tflite.TFLMError, match="signal"):
        tflite.arena_report(model_bytes)


def test_magnitude_approximation_is_the_minimax_one():
    """The front end's |re + i im| (its own ABS/MAX/MIN/Rescaling layers) on 12,375 angles of two circles."""
    import keras

    front = frontend_model(Preprocessing(n_fft=64, hop_length=64, n_mels=32))
    re_out = front.get_layer("frontend_dft_real").output
    magnitude = keras.Model(
        [re_out, front.get_layer("frontend_dft_imag").output], front.get_layer("frontend_magnitude").output
    )
    alpha_layer, beta_layer = magnitude.get_layer("frontend_alpha"), magnitude.get_layer("frontend_beta")
    assert (alpha_layer.scale, beta_layer.scale) == (MAG_ALPHA, MAG_BETA)
    shape = tuple(re_out.shape[1:])
    size = int(np.prod(shape))
    batch = -(-10_000 // size)
    # The extrema of alpha max + beta min on the unit circle: 0 and 45 degrees (minima), atan(beta/alpha) (maximum).
    special = np.array([0.0, np.pi / 4, np.arctan2(MAG_BETA, MAG_ALPHA)])
    theta = np.concatenate([np.linspace(0, 2 * np.pi, batch * size - 3, endpoint=False), special])

    def relative_error(radius: float = 1.0) -> np.ndarray:
        re = (radius * np.cos(theta)).astype(np.float32).reshape(batch, *shape)
        im = (radius * np.sin(theta)).astype(np.float32).reshape(batch, *shape)
        return np.asarray(magnitude([re, im]), dtype=np.float64).reshape(-1) / radius - 1

    err = relative_error()
    worst = np.abs(err).max()
    assert 0.0395 < worst <= 0.0396  # the documented 3.96 %, attained
    np.testing.assert_allclose(np.abs(relative_error(37.5)).max(), worst, rtol=1e-4)  # relative: scale-free
    # Minimax: the error equioscillates, -E at 0 and 45 degrees, +E in between, all with the same size.
    np.testing.assert_allclose(err[-3:], [-worst, -worst, worst], rtol=1e-3)
    np.testing.assert_allclose(err.max(), -err.min(), rtol=1e-3)
    # ... so any nearby coefficient pair has a larger worst-case error.
    for d_alpha in (-2e-3, 0.0, 2e-3):
        for d_beta in (-2e-3, 0.0, 2e-3):
            if d_alpha == d_beta == 0.0:
                continue
            alpha_layer.scale, beta_layer.scale = MAG_ALPHA + d_alpha, MAG_BETA + d_beta
            assert np.abs(relative_error()).max() > worst + 1e-4, (d_alpha, d_beta)
