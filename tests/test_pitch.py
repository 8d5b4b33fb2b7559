"""F0 estimators: the paper's pYIN recipe and Praat autocorrelation on synthetic voices.

Tolerance: 2 % of the true F0 for both estimators on steady harmonic signals.
"""

from __future__ import annotations

import math

import librosa
import numpy as np
import pytest
import soundfile as sf

from spoken100.acoustics.pitch import PYIN_FMIN, praat_f0, praat_f0_clip, pyin_f0, pyin_f0_clip

from .test_formants import VOWEL_A, VOWEL_I, vowel

TOLERANCE = 0.02


def harmonic(f0: float, seconds: float = 0.4, sr: int = 44_100, n_harmonics: int = 8, amp: float = 0.3) -> np.ndarray:
    """A steady voiced-like signal: ``n_harmonics`` harmonics of ``f0`` with 1/k amplitudes."""
    t = np.arange(int(seconds * sr)) / sr
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, n_harmonics + 1) if k * f0 < sr / 2)
    return amp * x / np.max(np.abs(x))


def at_11025(y: np.ndarray, sr: int = 44_100) -> np.ndarray:
    return librosa.resample(y, orig_sr=sr, target_sr=11_025)


def white_noise(seconds: float = 0.4, sr: int = 44_100) -> np.ndarray:
    return 0.3 * np.random.default_rng(0).standard_normal(int(seconds * sr))


@pytest.mark.parametrize("f0", [100.0, 150.0, 220.0, 280.0])
def test_pyin_paper_settings_recover_f0(f0):
    out = pyin_f0(at_11025(harmonic(f0)))
    assert out["reason"] == ""
    assert out["f0_hz"] == pytest.approx(f0, rel=TOLERANCE)
    assert out["n_kept"] == out["n_voiced"] > 0.8 * out["n_frames"]


def test_pyin_low_voice_needs_a_lower_fmin():
    """A 60 Hz voice: pYIN finds it with fmin = 50 Hz, but the paper's fmin (C2 = 65.4 Hz) cannot."""
    y = at_11025(harmonic(60.0))
    assert pyin_f0(y, fmin=50.0)["f0_hz"] == pytest.approx(60.0, rel=TOLERANCE)
    paper = pyin_f0(y)["f0_hz"]
    assert math.isnan(paper) or abs(paper - 60.0) / 60.0 > 0.05  # pinned at C2 or an octave off
    assert PYIN_FMIN == pytest.approx(65.406, abs=1e-3)


def test_pyin_single_threshold_misreads_vowels():
    """The paper's n_thresholds=1 takes the first dip: it follows a harmonic near F1, not F0."""
    for formants, paper_value in ((VOWEL_I, lambda f: f > 200.0), (VOWEL_A, math.isnan)):
        y = at_11025(vowel(formants, f0=120.0, seconds=0.4))
        assert paper_value(pyin_f0(y)["f0_hz"])
        assert pyin_f0(y, n_thresholds=100)["f0_hz"] == pytest.approx(120.0, rel=TOLERANCE)
        assert praat_f0(y, 11_025)["f0_mean_hz"] == pytest.approx(120.0, rel=TOLERANCE)


def test_pyin_drops_voices_above_300_hz():
    out = pyin_f0(at_11025(harmonic(320.0)))
    assert math.isnan(out["f0_hz"])
    assert out["reason"] == "no voiced frame within 50-300 Hz"
    assert out["f0_all_voiced_hz"] == pytest.approx(320.0, rel=TOLERANCE)


def test_pyin_clip_loads_at_11025(tmp_path):
    sf.write(tmp_path / "a.wav", harmonic(150.0), 44_100, subtype="PCM_16")
    out = pyin_f0_clip(tmp_path / "a.wav")
    assert out["f0_hz"] == pytest.approx(150.0, rel=TOLERANCE)


@pytest.mark.parametrize("f0", [60.0, 100.0, 150.0, 220.0, 400.0])
def test_praat_recovers_f0(f0):
    out = praat_f0(harmonic(f0), 44_100)
    assert out["reason"] == ""
    assert out["f0_mean_hz"] == pytest.approx(f0, rel=TOLERANCE)
    assert out["f0_median_hz"] == pytest.approx(f0, rel=TOLERANCE)
    assert out["voiced_fraction"] > 0.9


def test_praat_at_the_original_rate_agrees():
    y = harmonic(123.0)
    assert praat_f0(y, 44_100, analysis_sr=None)["f0_mean_hz"] == pytest.approx(123.0, rel=TOLERANCE)


BAD = {
    "silent": (np.zeros(22_050), "silent"),
    "too short": (harmonic(150.0, seconds=0.03), "too short for the pitch window"),
    "empty": (np.zeros(0), "empty"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_signals_give_nan_and_a_reason(name):
    y, reason = BAD[name]
    p = praat_f0(y, 44_100)
    assert math.isnan(p["f0_mean_hz"]) and p["reason"] == reason
    q = pyin_f0(at_11025(y) if y.size else y)
    assert math.isnan(q["f0_hz"]) and q["reason"] == reason


def test_white_noise_is_unvoiced():
    noise = white_noise()
    p = praat_f0(noise, 44_100)
    assert math.isnan(p["f0_mean_hz"]) and p["reason"] == "no voiced frames" and p["voiced_fraction"] == 0.0
    # With a single threshold pYIN calls most noise frames voiced (near 1.5 kHz); only the
    # 50-300 Hz filter of the paper's recipe rejects them.
    q = pyin_f0(at_11025(noise))
    assert math.isnan(q["f0_hz"]) and q["reason"] != ""


def test_unreadable_file_gives_a_reason(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    assert praat_f0_clip(bad)["reason"].startswith("unreadable")
    assert pyin_f0_clip(bad)["reason"].startswith("unreadable")


def test_praat_clip_mixes_channels(tmp_path):
    y = harmonic(180.0)
    sf.write(tmp_path / "s.wav", np.stack([y, y], axis=1), 44_100, subtype="PCM_16")
    assert praat_f0_clip(tmp_path / "s.wav")["f0_mean_hz"] == pytest.approx(180.0, rel=TOLERANCE)
