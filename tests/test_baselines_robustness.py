"""Robustness and augmentation: exact SNR, pink noise's slope, pad/crop shapes, deterministic augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy import signal as sps

from spoken100.baselines import augment
from spoken100.baselines.augment import (
    AugmentParams,
    augment_waveform,
    augmentation_recipes,
    augmented_inputs,
    band_limit,
    sample_recipe,
    speed_change,
)
from spoken100.baselines.robustness import (
    add_noise,
    colored_noise,
    inputs_pad_crop,
    noisy_inputs,
    pad_or_crop,
    snr_db,
)
from spoken100.data.audio import load_clip, resample_to_length
from spoken100.data.index import sha256_file
from spoken100.data.inputs import clip_input

#: Tolerance on the fitted PSD slope of 2^16 noise samples (Welch, 4096-point segments, 50 Hz-3 kHz at 8 kHz):
#: over seeds 0-9 the fitted slopes lie within 0.05 dB/octave of -3.01 (pink) and of 0 (white).
SLOPE_TOLERANCE_DB = 0.25


def _slope_db_per_octave(x: np.ndarray, sr: int = 8000) -> float:
    f, power = sps.welch(x, fs=sr, nperseg=4096)
    band = (f >= 50) & (f <= 3000)
    return float(np.polyfit(np.log2(f[band]), 10 * np.log10(power[band]), 1)[0])


def _clips(tmp_path: Path, seconds=(0.4, 0.7, 1.3)) -> tuple[Path, pd.DataFrame]:
    """A few 44.1 kHz clips of different durations and their (path, sha256) index."""
    root = tmp_path / "clips"
    root.mkdir()
    paths = []
    for k, duration in enumerate(seconds):
        t = np.arange(int(duration * 44_100)) / 44_100
        x = 0.3 * np.sin(2 * np.pi * (180 + 60 * k) * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
        path = root / f"clip{k}.wav"
        sf.write(path, x, 44_100, subtype="PCM_16")
        paths.append(path)
    return root, pd.DataFrame({"path": [p.name for p in paths], "sha256": [sha256_file(p) for p in paths]})


# ---- noise ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("color", ["white", "pink"])
@pytest.mark.parametrize("target", [-5.0, 0.0, 12.5, 40.0])
def test_add_noise_hits_the_snr_exactly(color, target):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(8000) * np.hanning(8000)
    assert snr_db(x, add_noise(x, target, color, rng)) == pytest.approx(target, abs=1e-9)
    y32 = add_noise(x.astype(np.float32), target, color, 3)
    assert y32.dtype == np.float32 and snr_db(x.astype(np.float32), y32) == pytest.approx(target, abs=1e-3)


def test_noise_is_seeded_and_silence_is_refused():
    x = np.sin(np.arange(4000) / 5.0)
    np.testing.assert_array_equal(add_noise(x, 10, "pink", 7), add_noise(x, 10, "pink", 7))
    assert not np.array_equal(add_noise(x, 10, "pink", 7), add_noise(x, 10, "pink", 8))
    with pytest.raises(ValueError, match="silent"):
        add_noise(np.zeros(100), 10)
    with pytest.raises(ValueError, match="color"):
        add_noise(x, 10, "blue")


def test_pink_noise_falls_3_db_per_octave_and_white_is_flat():
    for seed in range(3):
        assert _slope_db_per_octave(colored_noise(2**16, "pink", seed)) == pytest.approx(-3.01, abs=SLOPE_TOLERANCE_DB)
        assert _slope_db_per_octave(colored_noise(2**16, "white", seed)) == pytest.approx(0.0, abs=SLOPE_TOLERANCE_DB)
    noise = colored_noise(1000, "pink", 0)
    assert np.mean(noise**2) == pytest.approx(1.0) and abs(noise.mean()) < 1e-12


def test_noisy_inputs_exact_at_the_model_input_and_cached(tmp_path):
    root, index = _clips(tmp_path)
    clean = np.stack([resample_to_length(load_clip(root / p)) for p in index.path])
    noisy = noisy_inputs(root, index, "waveform", "pink", 6.0, seed=3, n_jobs=1, progress=False)
    assert noisy.shape == (3, 8000)
    for c, n in zip(clean, noisy, strict=True):
        assert snr_db(c, n) == pytest.approx(6.0, abs=1e-3)
    again = noisy_inputs(root, index.iloc[::-1], "waveform", "pink", 6.0, seed=3, n_jobs=1, progress=False)
    np.testing.assert_array_equal(again, noisy[::-1])  # a clip's noise does not depend on its position
    other = noisy_inputs(root, index, "waveform", "pink", 6.0, seed=4, n_jobs=1, progress=False)
    assert not np.allclose(other, noisy)
    mel = noisy_inputs(root, index, "logmel", "white", 0.0, stage="recording", n_jobs=1, progress=False)
    assert mel.shape == (3, 128, 32) and np.isfinite(mel).all()


# ---- pad or crop ---------------------------------------------------------------------------------


def test_pad_or_crop_centres_to_a_fixed_duration():
    short = np.ones(int(0.3 * 44_100), dtype=np.float32)
    padded = pad_or_crop(short, 44_100)
    assert padded.shape == (8000,) and padded.dtype == np.float32
    nonzero = np.flatnonzero(np.abs(padded) > 0.5)
    assert abs((nonzero[0] + nonzero[-1]) / 2 - 4000) < 5 and len(nonzero) == pytest.approx(2400, abs=20)

    ramp = np.arange(12_000, dtype=np.float32)  # already at 8 kHz: no resampling, a centred crop
    np.testing.assert_array_equal(pad_or_crop(ramp, 8000), ramp[2000:10_000])
    assert pad_or_crop(ramp, 8000, seconds=0.5).shape == (4000,)
    assert pad_or_crop(np.ones(3, np.float32), 8000, seconds=1.0).tolist()[3997:4002] == [0.0, 1.0, 1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="at least one sample"):
        pad_or_crop(ramp, 8000, seconds=0.0)


def test_inputs_pad_crop_shapes(tmp_path):
    root, index = _clips(tmp_path)
    mel = inputs_pad_crop(root, index, "logmel", n_jobs=1, progress=False)
    wave = inputs_pad_crop(root, index, "waveform", n_jobs=1, progress=False)
    assert mel.shape == (3, 128, 32) and wave.shape == (3, 8000)
    assert np.count_nonzero(np.abs(wave[0]) > 1e-3) < 0.45 * 8000  # a 0.4 s clip fills 0.4 s of the second
    assert inputs_pad_crop(root, index, "waveform", seconds=1.5, n_jobs=1, progress=False).shape == (3, 12_000)
    assert inputs_pad_crop(root, index, "logmel", seconds=1.5, n_jobs=1, progress=False).shape == (3, 128, 47)


# ---- augmentation --------------------------------------------------------------------------------


def test_augmentation_is_deterministic_and_order_free(tmp_path, monkeypatch):
    root, index = _clips(tmp_path)
    first = augmented_inputs(root, index, "waveform", copies=2, seed=5, n_jobs=1, progress=False)
    assert first.shape == (2, 3, 8000) and first.dtype == np.float32
    assert not np.allclose(first[0], first[1])  # copies differ

    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path / "fresh"))  # no cache: computed again
    again = augmented_inputs(root, index.iloc[::-1], "waveform", copies=2, seed=5, n_jobs=1, progress=False)
    np.testing.assert_array_equal(again, first[:, ::-1])
    other = augmented_inputs(root, index, "waveform", copies=2, seed=6, n_jobs=1, progress=False)
    assert not np.allclose(other, first)

    recipes = augmentation_recipes(index, copies=2, seed=5)
    assert len(recipes) == 6 and list(recipes.columns[:2]) == ["path", "copy"]
    pd.testing.assert_frame_equal(recipes, augmentation_recipes(index, copies=2, seed=5))

    def fail(*args, **kwargs):
        raise AssertionError("recomputed despite the cache")

    monkeypatch.setattr(augment, "load_trimmed", fail)
    np.testing.assert_array_equal(augmented_inputs(root, index, "waveform", 2, 6, n_jobs=1, progress=False), other)


def test_no_augmentation_gives_the_plain_inputs(tmp_path):
    root, index = _clips(tmp_path)
    off = AugmentParams(p_speed=0, p_tempo=0, p_pitch=0, p_noise=0, p_band_limit=0, p_gain=0)
    mel = augmented_inputs(root, index, "logmel", copies=1, params=off, n_jobs=1, progress=False)
    np.testing.assert_array_equal(mel[0], np.stack([clip_input(root / p)["input"] for p in index.path]))


def test_recipe_draws_do_not_depend_on_other_probabilities():
    base = sample_recipe(np.random.default_rng(0))
    no_gain = sample_recipe(np.random.default_rng(0), AugmentParams(p_gain=0.0))
    every = AugmentParams(p_speed=1, p_tempo=1, p_pitch=1, p_noise=1, p_band_limit=1, p_gain=1)
    all_on = sample_recipe(np.random.default_rng(0), every)
    assert np.isnan(no_gain["gain_db"])
    for name in ("speed", "tempo", "semitones", "snr_db", "cutoff_hz"):
        assert no_gain[name] == base[name] or (np.isnan(no_gain[name]) and np.isnan(base[name]))
        assert not np.isnan(all_on[name])
    with pytest.raises(ValueError, match="probability"):
        AugmentParams(p_noise=2.0)


def test_speed_change_is_undone_by_the_fixed_length_resampling():
    t = np.arange(22_050) / 44_100
    x = (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 660 * t)).astype(np.float32)
    reference = resample_to_length(x)
    for factor in (0.9, 1.1):
        faster = speed_change(x, 44_100, factor)
        assert len(faster) == pytest.approx(len(x) / factor, abs=2)
        assert np.corrcoef(resample_to_length(faster), reference)[0, 1] > 0.999


def test_band_limit_removes_high_frequencies():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(44_100).astype(np.float32)
    y = band_limit(x, 44_100, 4000.0)
    assert len(y) == len(x)
    f, power = sps.welch(y, fs=44_100, nperseg=2048)
    assert power[f > 4500].mean() < 1e-3 * power[(f > 500) & (f < 3500)].mean()


#: Every augmentation off; ``_only(name=...)`` turns one on with probability 1.
_OFF = {"p_speed": 0.0, "p_tempo": 0.0, "p_pitch": 0.0, "p_noise": 0.0, "p_band_limit": 0.0, "p_gain": 0.0}


def _only(switch: str, **ranges) -> AugmentParams:
    return AugmentParams(**{**_OFF, switch: 1.0}, **ranges)


def test_augment_waveform_is_seeded_and_changes_the_signal():
    x = np.sin(np.arange(20_000) / 9.0).astype(np.float32)
    first = augment_waveform(x, 44_100, 3)
    np.testing.assert_array_equal(first, augment_waveform(x, 44_100, 3))
    assert first.dtype == np.float32 and not (first.shape == x.shape and np.allclose(first, x))
    second = augment_waveform(x, 44_100, 4)
    assert not (second.shape == first.shape and np.allclose(second, first))
    # With every probability at 0 nothing is drawn into the signal: the input comes back unchanged.
    np.testing.assert_array_equal(augment_waveform(x, 44_100, 3, AugmentParams(**_OFF)), x)


def test_augment_waveform_applies_the_requested_amounts():
    t = np.arange(22_050) / 44_100
    x = (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    noisy = augment_waveform(x, 44_100, 3, _only("p_noise", snr_db=(12.0, 12.0), noise_colors=("pink",)))
    assert noisy.shape == x.shape and snr_db(x, noisy) == pytest.approx(12.0, abs=1e-3)
    other = augment_waveform(x, 44_100, 4, _only("p_noise", snr_db=(12.0, 12.0), noise_colors=("pink",)))
    assert snr_db(x, other) == pytest.approx(12.0, abs=1e-3) and not np.allclose(other, noisy)

    quieter = augment_waveform(x, 44_100, 3, _only("p_gain", gain_db=(-6.0, -6.0)))
    np.testing.assert_allclose(quieter, x * 10 ** (-6 / 20), rtol=1e-6)

    faster = augment_waveform(x, 44_100, 3, _only("p_speed", speed=(1.1, 1.1)))
    assert len(faster) == pytest.approx(len(x) / 1.1, abs=2)
    slower = augment_waveform(x, 44_100, 3, _only("p_tempo", tempo=(0.8, 0.8)))
    assert len(slower) == pytest.approx(len(x) / 0.8, abs=2)

    limited = augment_waveform(x, 44_100, 3, _only("p_band_limit", cutoff_hz=(3000.0, 3000.0)))
    f, before = sps.welch(x, fs=44_100, nperseg=2048)
    after = sps.welch(limited, fs=44_100, nperseg=2048)[1]
    high, low = (f > 5500) & (f < 6500), (f > 150) & (f < 300)
    assert after[high].sum() < 1e-4 * before[high].sum()  # the 6 kHz tone is gone ...
    assert after[low].sum() == pytest.approx(before[low].sum(), rel=0.02)  # ... the 220 Hz one is kept
