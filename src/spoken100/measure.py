"""Per-clip measurements for the generation audit: level, clipping, edge silence, a spectral profile.

Measurements are cached per corpus digest and parameters, so a rebuild over unchanged data reads
no audio.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from joblib import Parallel, delayed
from tqdm import tqdm

from spoken100 import atomic
from spoken100.paths import cache_dir
from spoken100.segment import TrimParams, edge_silence


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
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=params.n_fft, n_mels=params.n_mels)


def measure_clip(path: Path, params: MeasureParams = MeasureParams()) -> dict:
    """Level, clipping, edge silence and the mean log-mel profile of one clip."""
    audio, sr = sf.read(str(path), dtype="float64", always_2d=True)
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


def _measure_batch(root: Path, paths: list[str], params: MeasureParams) -> list[dict]:
    return [measure_clip(Path(root) / p, params) for p in paths]


def measure_corpus(corpus, params: MeasureParams = MeasureParams(), n_jobs: int = -1, progress: bool = True):
    """Measurements of every clip in ``corpus.index``: a table and the spectral profiles.

    Returns ``(table, profiles)`` aligned with ``corpus.index`` rows.
    """
    key = hashlib.sha256(json.dumps([corpus.digest, asdict(params)], default=str).encode()).hexdigest()[:16]
    cache = cache_dir("measure") / f"{key}.npz"
    if cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        table = pd.DataFrame({name: stored[name] for name in stored.files if name != "profiles"})
        if list(table["path"]) == list(corpus.index["path"]):
            return table, stored["profiles"]

    paths = list(corpus.index["path"])
    batches = [paths[i : i + 200] for i in range(0, len(paths), 200)]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_measure_batch)(corpus.root, batch, params) for batch in batches
    )
    rows: list[dict] = []
    with tqdm(total=len(paths), desc="Measuring clips", unit="clip", disable=not progress) as bar:
        for batch in results:
            rows.extend(batch)
            bar.update(len(batch))
    profiles = np.stack([r.pop("profile") for r in rows]) if rows else np.zeros((0, 2 * params.n_mels), np.float32)
    table = pd.DataFrame(
        rows, columns=["peak_dbfs", "rms_dbfs", "clipped_samples", "lead_silence_s", "trail_silence_s"]
    )
    table.insert(0, "path", paths)
    with atomic.atomic_path(cache) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                profiles=profiles,
                **{c: table[c].to_numpy(dtype=str if c == "path" else float) for c in table.columns},
            )
    return table, profiles
