"""Shared fixtures: an isolated data home and a tiny corpus in the SpokeN-100 layout."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from spoken100.data import assemble, prompts
from spoken100.data.prompt_words import needed_stems


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own data home, so caches never leak between tests."""
    home = tmp_path / "home"
    monkeypatch.setenv("SPOKEN100_HOME", str(home))
    return home


def tone(
    seconds: float = 0.5, sr: int = 44_100, freq: float = 220.0, channels: int = 1, amp: float = 0.3
) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = amp * np.sin(2 * np.pi * freq * t)
    x = np.concatenate([np.zeros(int(0.01 * sr)), x, np.zeros(int(0.01 * sr))])
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.fixture
def tiny_layout(tmp_path):
    """Two real speakers' English and German folders for numbers 0-99, all well-formed."""
    root = tmp_path / "SpokeN-100"
    for k, (language, speaker) in enumerate(
        (lang, spk) for lang in ("english", "german", "french", "mandarin") for spk in ("Bella", "Arnold")
    ):
        if True:
            folder = root / f"{language}_numbers" / speaker
            folder.mkdir(parents=True)
            for number in range(100):
                sf.write(
                    folder / f"{number}.wav", tone(freq=200 + number, amp=0.1 + 0.05 * k), 44_100, subtype="PCM_16"
                )
    return root


HARMONIC_SPEAKERS = ("s0", "s1", "s2", "s3", "s4", "s5")


def harmonic_speakers(n_per: int = 6, n_classes: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Six speakers' harmonic tones whose pitch depends on the class (and a little on the speaker), plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(8000) / 8000
    X, y, who = [], [], []
    for s, speaker in enumerate(HARMONIC_SPEAKERS):
        for c in range(n_classes):
            for _ in range(n_per):
                f0 = 140 + 70 * c + 6 * s + rng.uniform(-4, 4)
                x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 5)) * np.hanning(8000)
                X.append(0.3 * x + 0.01 * rng.standard_normal(8000))
                y.append(c)
                who.append(speaker)
    return np.asarray(X, np.float32), np.asarray(y), np.asarray(who)


@pytest.fixture
def human_corpus(tmp_path, monkeypatch):
    """The prompt corpus assembled from fake prompts (tones at 8 kHz) in a SPOKEN100_PROMPTS folder."""
    for voice, language in (("en_US_f_Testa", "english"), ("fr_CA_f_Testb", "french")):
        digits = tmp_path / "sounds" / voice / "digits"
        digits.mkdir(parents=True)
        t = np.arange(2000) / 8000
        for k, stem in enumerate(needed_stems(language)):
            word = np.concatenate([np.zeros(400), 0.3 * np.sin(2 * np.pi * (200 + 15 * k) * t), np.zeros(400)])
            sf.write(digits / f"{stem}.wav", word, 8000, subtype="PCM_16")
    (tmp_path / "sounds" / "en").symlink_to(tmp_path / "sounds" / "en_US_f_Testa")
    (tmp_path / "sounds" / "fr").symlink_to(tmp_path / "sounds" / "fr_CA_f_Testb")
    monkeypatch.setenv(prompts.ENV_PROMPTS, str(tmp_path / "sounds"))
    monkeypatch.setattr(prompts, "DEBIAN_SOUNDS", tmp_path / "no-debian")
    return assemble.prompt_corpus()
