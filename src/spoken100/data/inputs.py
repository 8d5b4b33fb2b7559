"""The baselines' input preprocessing (paper-facts §4.1) and its per-corpus cache.

Every clip is loaded at 44.1 kHz (mono) and resampled with ``scipy.signal.resample`` to exactly
8,000 samples, whatever its duration. This is a time-scale normalisation: a 0.5 s clip ends up at an
effective 16 kHz, a 1.6 s clip at 5 kHz. The waveform model takes those 8,000 samples unnormalised;
the spectrogram models take ``librosa.feature.melspectrogram(sr=8000, n_fft=1024, hop_length=256,
n_mels=128)`` converted with ``power_to_db(ref=np.max)``: 128 mel bands x 32 frames (1 + 8000 // 256)
in dB relative to the clip's loudest bin, so in [-80, 0].

Two input kinds cover all five models: ``"waveform"`` ``(8000,)`` and ``"logmel"`` ``(128, 32)``;
each model arranges its kind as the paper's loader did (see :mod:`spoken100.baselines.models`).

The mel settings not named in the paper's code are librosa's defaults: Hann window, centred frames,
power 2, Slaney mel scale and area normalisation, ``fmax = 4000`` Hz, ``top_db = 80``. The STFT's edge
padding changed default in librosa 0.10 (``"reflect"`` -> ``"constant"``); the paper's librosa version
is not known, and this module uses the installed version's default.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import librosa
import numpy as np
import pandas as pd

from spoken100.data import atomic
from spoken100.data.audio import load_clip, resample_to_length
from spoken100.data.clipmap import map_clips
from spoken100.data.codehash import code_fingerprint
from spoken100.data.layout import LANGUAGES
from spoken100.data.paths import cache_dir
from spoken100.data.tasks import N_SAMPLES, TASK_CLASSES

#: ``librosa.feature.melspectrogram`` settings of the spectrogram models.
MEL_PARAMS: dict[str, int] = {"sr": 8000, "n_fft": 1024, "hop_length": 256, "n_mels": 128}
#: Per-clip array shape of each input kind.
INPUT_SHAPES: dict[str, tuple[int, ...]] = {
    "waveform": (N_SAMPLES,),
    "logmel": (MEL_PARAMS["n_mels"], 1 + N_SAMPLES // MEL_PARAMS["hop_length"]),
}


def log_mel(waveform: np.ndarray) -> np.ndarray:
    """The 128 x 32 log-mel of an 8,000-sample waveform: mel power in dB relative to its maximum."""

    power = librosa.feature.melspectrogram(y=np.asarray(waveform, dtype=np.float32), **MEL_PARAMS)
    return librosa.power_to_db(power, ref=np.max).astype(np.float32)


def clip_input(path: str | Path, kind: str = "logmel") -> dict[str, np.ndarray]:
    """One clip's model input of ``kind`` (``"waveform"`` or ``"logmel"``), as ``{"input": array}``.

    The per-clip function :func:`corpus_inputs` maps over a corpus with :func:`~spoken100.data.clipmap.map_clips`.
    """
    if kind not in INPUT_SHAPES:
        raise ValueError(f"kind must be one of {', '.join(INPUT_SHAPES)}, not {kind!r}")
    waveform = resample_to_length(load_clip(path))
    return {"input": waveform if kind == "waveform" else log_mel(waveform)}


def _array_key(index: pd.DataFrame, kind: str) -> str:
    rows = list(zip(map(str, index["path"]), map(str, index["sha256"]), strict=True))
    return hashlib.sha256(json.dumps([kind, code_fingerprint(clip_input), rows]).encode()).hexdigest()[:24]


def corpus_inputs(
    root: str | Path,
    index: pd.DataFrame,
    kind: str = "logmel",
    *,
    n_jobs: int = -1,
    progress: bool = True,
    mmap: bool = False,
) -> np.ndarray:
    """Model inputs of ``kind`` for every row of a corpus index, ``(len(index), *INPUT_SHAPES[kind])`` float32.

    root: the corpus root that ``index.path`` is relative to (``Corpus.root``).
    index: the corpus index or any subset of its rows (needs ``path`` and ``sha256``); the output
        rows follow its order.
    n_jobs, progress: passed to :func:`~spoken100.data.clipmap.map_clips`.
    mmap: return a read-only memory map of the cached file instead of an in-memory array.

    The work is cached twice: per chunk of clips by ``map_clips`` (an interrupted run resumes; a
    changed clip recomputes only its chunk), and as one ``.npy`` file under
    ``cache_dir("baselines", "inputs")`` keyed by every clip's path and sha256, the kind and
    the fingerprint of :func:`clip_input`'s code, so a rerun over unchanged clips loads one file.
    """
    if kind not in INPUT_SHAPES:
        raise ValueError(f"kind must be one of {', '.join(INPUT_SHAPES)}, not {kind!r}")
    target = cache_dir("baselines", "inputs") / f"{kind}-{_array_key(index, kind)}.npy"
    if not target.is_file():
        _, arrays = map_clips(
            clip_input,
            Path(root),
            index,
            {"kind": kind},
            name="spoken100.data.inputs.clip_input",
            n_jobs=n_jobs,
            progress=progress,
            desc=f"{kind} inputs",
        )
        stacked = arrays.get("input", np.empty((0, *INPUT_SHAPES[kind]), dtype=np.float32)).astype(np.float32)
        with atomic.atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, stacked)
    return np.load(target, mmap_mode="r" if mmap else None)


def targets(index: pd.DataFrame, task: str) -> np.ndarray:
    """Integer class labels of ``index`` rows for ``task``.

    ``"number"``: the spoken number 0-99. ``"language"``: the paper's label order
    (English 0, Mandarin 1, German 2, French 3; :data:`spoken100.data.layout.LANGUAGES`).
    """
    if task == "number":
        return index["number"].to_numpy(dtype=np.int64, copy=True)
    if task == "language":
        return index["language"].map(LANGUAGES.index).to_numpy(dtype=np.int64, copy=True)
    raise ValueError(f"task must be one of {', '.join(TASK_CLASSES)}, not {task!r}")
