"""Fixed-length spectral inputs of a clip: the paper's UMAP input and an MFCC summary.

:func:`paper_umap_input` is the paper's "auditory feature" for its UMAP figure, exactly as in
the companion repository's ``data_exploration`` notebook: the clip, loaded at 44.1 kHz, is
resampled to **exactly 8,000 samples** whatever its duration (``scipy.signal.resample``, i.e.
Fourier resampling), then treated as if sampled at 8 kHz: mel spectrogram with ``n_fft`` 2048,
hop 512, 128 mel bands up to ``fmax`` = 8,000 Hz, power in dB relative to the clip's maximum,
flattened to 128 x 16 = 2,048 values. Because the length is fixed in samples, a 0.5 s clip is
effectively analysed at 16 kHz and a 1.6 s clip at 5 kHz: the spectrum of long clips is
stretched up and that of short clips squeezed down (a time-scale normalisation that also moves
formants and F0). The mel filter bank is built for sr = 8,000 Hz with ``fmax`` = 8,000 Hz, above
the 4 kHz Nyquist frequency, so the top mel bands get no FFT bin and are constant (librosa warns
"Empty filters detected"; the warning is silenced here, the bands kept, as in the paper).

:func:`mfcc_summary` is an alternative fixed-length input that keeps the real time and
frequency scales: means and standard deviations over time of 20 MFCCs and their deltas, computed
at 16 kHz with 32 ms frames.

The ``*_clip`` functions read a file and return ``{name: array, "reason": str}`` for
:func:`spoken100.data.clipmap.map_clips`; an unusable clip gives a NaN array and a reason.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import librosa
import numpy as np
import scipy.signal

from spoken100.data.audio import read_mono

#: The paper's UMAP input: samples per clip, the sample rate they are treated as, mel settings.
UMAP_SAMPLES = 8_000
UMAP_SR = 8_000
UMAP_LOAD_SR = 44_100
UMAP_N_FFT = 2048
UMAP_HOP = 512
UMAP_N_MELS = 128
UMAP_FMAX = 8_000.0
UMAP_DIM = UMAP_N_MELS * (1 + UMAP_SAMPLES // UMAP_HOP)  # 128 x 16 = 2048


@functools.lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmax: float | None) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Empty filters detected")
        return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmax=fmax)


def mel_power(
    y: np.ndarray, sr: int, n_fft: int, hop_length: int, n_mels: int, fmax: float | None = None
) -> np.ndarray:
    """``librosa.feature.melspectrogram`` with its defaults (Hann window, centred frames, power 2),
    but with the filter bank built once per setting instead of once per call (3x faster)."""
    power = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length)) ** 2
    return _mel_basis(sr, n_fft, n_mels, fmax) @ power


def paper_umap_input(y: np.ndarray, sr: int = UMAP_LOAD_SR) -> np.ndarray:
    """The paper's 2,048-value UMAP input of a clip (float32); see the module notes.

    y, sr: the clip and its sample rate. The paper loads every clip at 44.1 kHz as float32; a
    signal at another rate is first resampled to 44.1 kHz (as ``librosa.load(path, sr=44100)``
    would), then Fourier-resampled to 8,000 samples (``scipy.signal.resample``).
    """
    y = np.asarray(y, dtype=np.float32)
    if sr != UMAP_LOAD_SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=UMAP_LOAD_SR)
    fixed = scipy.signal.resample(y, UMAP_SAMPLES)
    mel = mel_power(fixed, UMAP_SR, UMAP_N_FFT, UMAP_HOP, UMAP_N_MELS, UMAP_FMAX)
    return librosa.power_to_db(mel, ref=np.max).astype(np.float32).ravel()


def mfcc_summary(
    y: np.ndarray,
    sr: int,
    n_mfcc: int = 20,
    *,
    analysis_sr: int = 16_000,
    n_fft: int = 512,
    hop_length: int = 160,
    n_mels: int = 40,
    deltas: bool = True,
) -> np.ndarray:
    """Mean and standard deviation over time of MFCCs (and their deltas): a fixed-length vector.

    The clip is resampled to ``analysis_sr`` (16 kHz) and analysed in 32 ms frames every 10 ms
    with 40 mel bands, the usual speech settings; unlike :func:`paper_umap_input` its time and
    frequency scales are not changed by the clip's duration. The MFCCs are librosa's (DCT-II,
    orthonormal, of the dB mel power). Deltas are librosa's 9-frame Savitzky-Golay derivative
    (edges by repetition, so any clip length works). Silence at the clip's edges is included.

    Returns a float32 vector of ``2 * n_mfcc`` values (means, then SDs) or ``4 * n_mfcc`` with
    ``deltas`` (means and SDs of the MFCCs, then of the deltas).
    """
    y = np.asarray(y, dtype=np.float32)
    if sr != analysis_sr:
        y = librosa.resample(y, orig_sr=sr, target_sr=analysis_sr)
    y = np.pad(y, (0, max(0, n_fft - y.size)))
    mel_db = librosa.power_to_db(mel_power(y, analysis_sr, n_fft, hop_length, n_mels))
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=n_mfcc)
    parts = [mfcc.mean(axis=1), mfcc.std(axis=1)]
    if deltas:
        delta = librosa.feature.delta(mfcc, width=9, mode="nearest")
        parts += [delta.mean(axis=1), delta.std(axis=1)]
    return np.concatenate(parts).astype(np.float32)


def mfcc_dim(n_mfcc: int = 20, deltas: bool = True) -> int:
    """Length of :func:`mfcc_summary`'s vector."""
    return (4 if deltas else 2) * n_mfcc


def _problem(y: np.ndarray) -> str:
    if y.size == 0:
        return "empty"
    if not np.all(np.isfinite(y)):
        return "non-finite samples"
    return ""


def paper_umap_clip(path: Path) -> dict:
    """:func:`paper_umap_input` of one file, mixed to mono (as ``librosa.load`` does).

    Returns ``{"umap_input": float32[2048], "reason": str}``; silent clips are kept (their
    spectrogram is constant), empty or unreadable ones give NaN.
    """
    try:
        y, sr = read_mono(path)
        reason = _problem(y)
    except Exception as error:
        reason = f"unreadable: {error}"
    if reason:
        return {"umap_input": np.full(UMAP_DIM, np.nan, np.float32), "reason": reason}
    return {"umap_input": paper_umap_input(y, sr), "reason": ""}


def mfcc_clip(path: Path, n_mfcc: int = 20, analysis_sr: int = 16_000, deltas: bool = True) -> dict:
    """:func:`mfcc_summary` of one file (mixed to mono). Returns ``{"mfcc": float32[...], "reason": str}``."""
    try:
        y, sr = read_mono(path)
        reason = _problem(y)
    except Exception as error:
        reason = f"unreadable: {error}"
    if reason:
        return {"mfcc": np.full(mfcc_dim(n_mfcc, deltas), np.nan, np.float32), "reason": reason}
    return {"mfcc": mfcc_summary(y, int(sr), n_mfcc, analysis_sr=analysis_sr, deltas=deltas), "reason": ""}
