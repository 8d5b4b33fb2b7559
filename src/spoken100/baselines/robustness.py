"""Robustness of the baselines: additive noise at an exact SNR, and duration-preserving inputs.

Noise. :func:`add_noise` adds white or pink Gaussian noise scaled so that the signal-to-noise ratio
of the returned signal, ``10 log10(mean(x^2) / mean(noise^2))``, is exactly the requested value for
that noise realisation (not only in expectation). Pink noise has a power spectral density
proportional to 1/f, i.e. -3.01 dB per octave, made by shaping white noise in the frequency domain.

:func:`noisy_inputs` adds the noise at one of two stages:

``"input"`` (default)
    to the 8,000-sample waveform the model sees, so the SNR is exact at the model's input;
``"recording"``
    to the 44.1 kHz clip before the fixed-length resampling, like noise in the recording. The
    resampling then low-passes the noise with the speech, so for white noise the SNR at the model's
    input is *higher* than requested (for a 1 s clip by about 10 log10(22.05 / 4) = 7.4 dB).

Duration. The paper resamples every clip to 8,000 samples whatever its length
(:func:`spoken100.data.inputs.resample_to_length`), so a short clip is played slowly and a long
one fast: the model sees each number on its own time and frequency scale. :func:`pad_or_crop` is the
usual alternative: resample to a true 8 kHz and pad with zeros (or crop), centred, to a fixed duration;
1 s at 8 kHz gives the same 8,000 samples and 128 x 32 log-mel, so every model runs unchanged. Time and
pitch keep their real scale, but clips longer than 1 s lose their edges (on SpokeN-100 the two-digit
German and French numbers, about 1.1-1.45 s; paper-facts §1.5), and short digits leave most of the
second silent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import librosa
import numpy as np
import pandas as pd

from spoken100.baselines.fsdd import load_trimmed, trim_settings, waveform_to_input
from spoken100.data.audio import resample_to_length
from spoken100.data.clipmap import map_clips
from spoken100.data.inputs import INPUT_SHAPES, MEL_PARAMS
from spoken100.data.layout import SAMPLE_RATE
from spoken100.data.segment import TrimParams

NOISE_COLORS = ("white", "pink")
NOISE_STAGES = ("input", "recording")


def digest_rng(digest: str, seed: int, *streams: int) -> np.random.Generator:
    """A random generator for one clip, seeded by ``seed``, ``streams`` and the clip's sha256 (hex).

    Seeding by the content rather than the position or path makes the draw of a clip the same whatever
    the order of the index, the chunking of the cache or where the corpus lies.
    """
    if int(seed) < 0 or any(int(s) < 0 for s in streams):
        raise ValueError("seed and streams must be non-negative integers")
    return np.random.default_rng([int(seed), *map(int, streams), int(digest[:15], 16)])


def clip_rng(path: str | Path, seed: int, *streams: int) -> np.random.Generator:
    """:func:`digest_rng` of the file at ``path`` (its bytes are hashed)."""
    return digest_rng(hashlib.sha256(Path(path).read_bytes()).hexdigest(), seed, *streams)


def colored_noise(n: int, color: str = "white", rng: np.random.Generator | int | None = None) -> np.ndarray:
    """``n`` samples of zero-mean, unit-power Gaussian noise, white (flat) or pink (power ~ 1/f).

    Pink noise is white noise whose FFT amplitudes are scaled by ``1/sqrt(f)`` (the DC bin set to zero).
    """
    if color not in NOISE_COLORS:
        raise ValueError(f"color must be one of {', '.join(NOISE_COLORS)}, not {color!r}")
    rng = np.random.default_rng(rng)
    white = rng.standard_normal(n)
    if color == "white" or n < 2:
        noise = white
    else:
        spectrum = np.fft.rfft(white)
        k = np.arange(len(spectrum), dtype=float)
        k[0] = np.inf  # no DC
        noise = np.fft.irfft(spectrum / np.sqrt(k), n)
    noise = noise - noise.mean()
    power = np.mean(noise**2)
    return noise / np.sqrt(power) if power > 0 else noise


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    """Signal-to-noise ratio of ``noisy`` against ``clean`` in dB: 10 log10(mean(clean^2) / mean(noise^2))."""
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(noisy, dtype=np.float64) - clean
    return float(10 * np.log10(np.mean(clean**2) / np.mean(noise**2)))


def add_noise(
    x: np.ndarray, snr_db: float, color: str = "white", rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """``x`` plus Gaussian noise of ``color`` at exactly ``snr_db`` dB (for this realisation).

    x: a 1-D signal (float; its dtype is kept, integer input gives float32).
    rng: a generator or a seed; the same seed gives the same noise.

    The signal power is the mean square over the whole signal, including any silence in it.
    """
    x = np.asarray(x)
    work = x.astype(np.float64)
    power = np.mean(work**2) if work.size else 0.0
    if power <= 0:
        raise ValueError("cannot set an SNR for a silent (all-zero) or empty signal")
    noise = colored_noise(len(work), color, rng)
    noise *= np.sqrt(power / (np.mean(noise**2) * 10 ** (snr_db / 10)))
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
    return (work + noise).astype(dtype)


def noisy_clip_input(
    path: str | Path,
    kind: str = "logmel",
    color: str = "white",
    snr_db: float = 10.0,
    seed: int = 0,
    stage: str = "input",
    trim: dict | None = None,
) -> dict[str, np.ndarray]:
    """One clip's model input with noise added at ``stage`` (see the module docstring)."""
    if stage not in NOISE_STAGES:
        raise ValueError(f"stage must be one of {', '.join(NOISE_STAGES)}, not {stage!r}")
    rng = clip_rng(path, seed)
    signal = load_trimmed(path, trim)
    if stage == "recording":
        waveform = resample_to_length(add_noise(signal, snr_db, color, rng))
    else:
        waveform = add_noise(resample_to_length(signal), snr_db, color, rng)
    return {"input": waveform_to_input(waveform, kind)}


def noisy_inputs(
    root: str | Path,
    index: pd.DataFrame,
    kind: str = "logmel",
    color: str = "white",
    snr_db: float = 10.0,
    seed: int = 0,
    *,
    stage: str = "input",
    trim: bool | TrimParams = False,
    n_jobs: int = -1,
    progress: bool = True,
) -> np.ndarray:
    """Model inputs of ``kind`` for the rows of ``index`` with noise at ``snr_db`` dB; cached per chunk.

    root, index: a corpus root and its index (or an FSDD folder and :func:`~spoken100.baselines.fsdd.fsdd_index`),
        the index needing ``path`` and ``sha256``; the output follows its order.
    color: ``"white"`` or ``"pink"``. seed: with each clip's content, fixes its noise.
    stage: ``"input"`` (exact SNR at the model's input) or ``"recording"`` (before resampling).
    trim: cut edge silence first (use ``True`` for FSDD, as :func:`~spoken100.baselines.fsdd.fsdd_inputs`).
    """
    if kind not in INPUT_SHAPES:
        raise ValueError(f"kind must be one of {', '.join(INPUT_SHAPES)}, not {kind!r}")
    if color not in NOISE_COLORS:
        raise ValueError(f"color must be one of {', '.join(NOISE_COLORS)}, not {color!r}")
    if stage not in NOISE_STAGES:
        raise ValueError(f"stage must be one of {', '.join(NOISE_STAGES)}, not {stage!r}")
    params = {"kind": kind, "color": color, "snr_db": float(snr_db), "seed": int(seed), "stage": stage,
              "trim": trim_settings(trim)}  # fmt: skip
    _, arrays = map_clips(
        noisy_clip_input, Path(root), index, params, name="spoken100.baselines.robustness.noisy_clip_input",
        n_jobs=n_jobs, progress=progress, desc=f"{kind} inputs, {color} noise {snr_db:g} dB",
    )  # fmt: skip
    return arrays.get("input", np.empty((0, *INPUT_SHAPES[kind]), dtype=np.float32)).astype(np.float32)


def pad_or_crop(signal: np.ndarray, sr: int, seconds: float = 1.0, target_sr: int = MEL_PARAMS["sr"]) -> np.ndarray:
    """Resample ``signal`` from ``sr`` to ``target_sr`` Hz, then zero-pad or crop it, centred, to ``seconds``.

    The alternative to the paper's fixed-length resampling: the clip keeps its real time and frequency
    scale. Padding puts half the missing samples before the clip and half (plus one for an odd count)
    after; cropping keeps the middle. 1 s at the default 8 kHz gives 8,000 samples, the models' input.
    """

    signal = np.asarray(signal, dtype=np.float32)
    if sr != target_sr and signal.size:
        signal = librosa.resample(signal, orig_sr=sr, target_sr=target_sr).astype(np.float32)
    n = int(round(seconds * target_sr))
    if n < 1:
        raise ValueError(f"seconds must give at least one sample at {target_sr} Hz")
    if len(signal) >= n:
        start = (len(signal) - n) // 2
        return signal[start : start + n].copy()
    before = (n - len(signal)) // 2
    return np.pad(signal, (before, n - len(signal) - before)).astype(np.float32)


def pad_crop_clip_input(
    path: str | Path, kind: str = "logmel", seconds: float = 1.0, trim: dict | None = None
) -> dict[str, np.ndarray]:
    """One clip's model input by :func:`pad_or_crop` to ``seconds`` at 8 kHz instead of fixed-length resampling."""
    waveform = pad_or_crop(load_trimmed(path, trim), SAMPLE_RATE, seconds)
    return {"input": waveform_to_input(waveform, kind)}


def inputs_pad_crop(
    root: str | Path,
    index: pd.DataFrame,
    kind: str = "logmel",
    seconds: float = 1.0,
    *,
    trim: bool | TrimParams = False,
    n_jobs: int = -1,
    progress: bool = True,
) -> np.ndarray:
    """Model inputs of ``kind`` made by :func:`pad_or_crop` (true 8 kHz, centred to ``seconds``); cached.

    With ``seconds=1.0`` the arrays have the shapes of :data:`~spoken100.data.inputs.INPUT_SHAPES`,
    so any baseline trains on them unchanged; other durations give other lengths (``seconds x 8000``
    samples, ``1 + seconds x 8000 // 256`` log-mel frames), which the fixed-size models do not accept.
    root, index, trim, n_jobs, progress: as for :func:`noisy_inputs`.
    """
    if kind not in INPUT_SHAPES:
        raise ValueError(f"kind must be one of {', '.join(INPUT_SHAPES)}, not {kind!r}")
    params = {"kind": kind, "seconds": float(seconds), "trim": trim_settings(trim)}
    _, arrays = map_clips(
        pad_crop_clip_input, Path(root), index, params, name="spoken100.baselines.robustness.pad_crop_clip_input",
        n_jobs=n_jobs, progress=progress, desc=f"{kind} inputs, pad/crop {seconds:g} s",
    )  # fmt: skip
    n = int(round(seconds * MEL_PARAMS["sr"]))
    shape = (n,) if kind == "waveform" else (MEL_PARAMS["n_mels"], 1 + n // MEL_PARAMS["hop_length"])
    return arrays.get("input", np.empty((0, *shape), dtype=np.float32)).astype(np.float32)
