"""Per-clip measurements for the generation audit: level, clipping, edge silence, a spectral profile.

Measurements are cached per corpus digest and parameters, so a rebuild over unchanged data reads
no audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np

from spoken100.data.audio import read_channels
from spoken100.data.clipmap import map_clips
from spoken100.data.segment import TrimParams, edge_silence


@dataclass(frozen=True)
class MeasureParams:
    """How clips are measured.

    clip_level: |sample| at or above this fraction of full scale counts as clipped.
    n_fft, hop, n_mels: frames and mel bands of the spectral profile (mean and standard deviation of
        each band's log power over time) used for speaker distinctness.
    silence: the rolling-standard-deviation rule that finds the speech inside each clip.
    """

    clip_level: float = 0.999
    n_fft: int = 1024
    hop: int = 512
    n_mels: int = 40
    silence: TrimParams = TrimParams()


def _mel_basis(sr: int, params: MeasureParams) -> np.ndarray:

    return librosa.filters.mel(sr=sr, n_fft=params.n_fft, n_mels=params.n_mels)


def measure_clip(path: Path, params: MeasureParams = MeasureParams()) -> dict:
    """Level, clipping, edge silence and the mean log-mel profile of one clip."""
    audio, sr = read_channels(path)
    mono = audio.mean(axis=1)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    rms = float(np.sqrt(np.mean(mono**2))) if mono.size else 0.0
    lead, trail = edge_silence(mono, sr, params.silence)
    padded = np.pad(mono, (0, max(0, params.n_fft - len(mono))))
    frames = np.lib.stride_tricks.sliding_window_view(padded, params.n_fft)[:: params.hop]
    power = np.abs(np.fft.rfft(frames * np.hanning(params.n_fft), axis=1)) ** 2
    log_mel = np.log10(power @ _mel_basis(sr, params).T + 1e-10)
    profile = np.concatenate([log_mel.mean(axis=0), log_mel.std(axis=0)])
    return {
        "peak_dbfs": 20 * np.log10(max(peak, 1e-10)),
        "rms_dbfs": 20 * np.log10(max(rms, 1e-10)),
        "clipped_samples": int(np.sum(np.abs(audio) >= params.clip_level)),
        "lead_silence_s": lead,
        "trail_silence_s": trail,
        "profile": profile.astype(np.float32),
    }


def measure_corpus(corpus, params: MeasureParams = MeasureParams(), n_jobs: int = -1, progress: bool = True):
    """Measurements of every clip in ``corpus.index``: a table and the spectral profiles.

    Returns ``(table, profiles)`` aligned with ``corpus.index`` rows; cached per chunk of clips
    (see :func:`spoken100.data.clipmap.map_clips`).
    """
    table, arrays = map_clips(
        measure_clip,
        corpus.root,
        corpus.index,
        {"params": params},
        name="audit-measure",
        n_jobs=n_jobs,
        progress=progress,
        desc="Measuring clips",
    )
    profiles = arrays.get("profile", np.zeros((0, 2 * params.n_mels), np.float32))
    return table, profiles
