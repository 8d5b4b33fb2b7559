"""The paper's UMAP input and the MFCC summary: shapes, exactness, odd clips."""

from __future__ import annotations

import warnings

import librosa
import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from spoken100.acoustics.spectra import UMAP_DIM, mfcc_clip, mfcc_summary, paper_umap_clip, paper_umap_input

SR = 44_100


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


@pytest.mark.parametrize("seconds", [0.2, 1.6])
def test_umap_input_has_2048_values_whatever_the_length(seconds):
    x = paper_umap_input(noise(seconds), SR)
    assert x.shape == (UMAP_DIM,) == (2048,)
    assert x.dtype == np.float32
    assert np.isfinite(x).all() and x.max() == 0.0  # dB relative to the clip's maximum


def test_umap_input_is_the_papers_pipeline():
    """resample to 8000 samples -> melspectrogram(sr=8000, 2048, 512, 128, fmax=8000) -> dB(ref=max)."""
    y = noise(0.9, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Empty filters detected": fmax is above the 4 kHz Nyquist
        mel = librosa.feature.melspectrogram(
            y=scipy.signal.resample(y, 8000), sr=8000, n_fft=2048, hop_length=512, n_mels=128, fmax=8000
        )
    expected = librosa.power_to_db(mel, ref=np.max)
    assert expected.shape == (128, 16)
    np.testing.assert_allclose(paper_umap_input(y, SR), expected.ravel(), atol=1e-4)


def test_umap_input_rescales_frequency_with_duration():
    """A 400 Hz tone lands in higher mel bands when the clip is longer (fixed 8,000 samples)."""

    def peak_band(seconds: float) -> int:
        t = np.arange(int(seconds * SR)) / SR
        x = paper_umap_input(np.sin(2 * np.pi * 400 * t), SR).reshape(128, 16)
        return int(np.argmax(x.mean(axis=1)))

    assert peak_band(1.0) > peak_band(0.5)


def test_umap_input_of_other_rates_and_silence():
    """A clip at another rate is resampled first: the same 0.5 s tone at 22.05 kHz gives the same input."""

    def tone(sr: int) -> np.ndarray:
        return np.sin(2 * np.pi * 400 * np.arange(sr // 2) / sr).astype(np.float32)

    full, half = paper_umap_input(tone(SR), SR), paper_umap_input(tone(SR // 2), SR // 2)
    assert half.shape == (2048,)
    loud = full > -40  # the bands around the tone; quieter ones differ by the resamplers' residues
    assert loud.sum() >= 16 and np.abs(half[loud] - full[loud]).max() < 0.05
    assert np.abs(half - full).max() < 3.0
    assert np.argmax(half.reshape(128, 16).mean(axis=1)) == np.argmax(full.reshape(128, 16).mean(axis=1))
    # Silence has no maximum to be relative to: one finite, flat value, unlike any sound.
    silent = paper_umap_input(np.zeros(SR // 2), SR)
    assert np.isfinite(silent).all() and np.ptp(silent) == 0.0 and np.ptp(full) > 40


@pytest.mark.parametrize(("n_mfcc", "deltas", "dim"), [(20, True, 80), (13, False, 26)])
def test_mfcc_summary_shape(n_mfcc, deltas, dim):
    for seconds in (0.005, 0.3, 1.6):  # shorter than one frame, short, long
        x = mfcc_summary(noise(seconds), SR, n_mfcc, deltas=deltas)
        assert x.shape == (dim,) and x.dtype == np.float32 and np.isfinite(x).all()


def test_mfcc_summary_means_are_librosa_mfccs():
    y = noise(0.7, seed=5)
    reference = librosa.feature.mfcc(
        y=librosa.resample(y, orig_sr=SR, target_sr=16_000), sr=16_000, n_mfcc=20, n_fft=512, hop_length=160, n_mels=40
    )
    np.testing.assert_allclose(mfcc_summary(y, SR)[:20], reference.mean(axis=1), rtol=1e-4, atol=1e-3)


def test_clip_wrappers(tmp_path):
    sf.write(tmp_path / "a.wav", noise(0.4), SR, subtype="PCM_16")
    sf.write(tmp_path / "empty.wav", np.zeros(0), SR, subtype="PCM_16")
    good = paper_umap_clip(tmp_path / "a.wav")
    assert good["reason"] == "" and good["umap_input"].shape == (2048,)
    assert mfcc_clip(tmp_path / "a.wav")["mfcc"].shape == (80,)
    for func, key in ((paper_umap_clip, "umap_input"), (mfcc_clip, "mfcc")):
        bad = func(tmp_path / "empty.wav")
        assert bad["reason"] == "empty" and np.isnan(bad[key]).all()
