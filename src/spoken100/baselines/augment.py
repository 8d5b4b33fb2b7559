"""Training-time waveform augmentation, to narrow the gap between synthetic training and real test speech.

Each augmented copy of a clip is made at 44.1 kHz, *before* the paper's fixed-length resampling
(:func:`spoken100.data.inputs.resample_to_length`), from a recipe drawn at random per clip and
copy (:func:`sample_recipe`). Each augmentation is applied with its own probability; in this order:

1. speed change (resampling: tempo and pitch together, by ``speed``);
2. tempo change (``librosa.effects.time_stretch``: duration only);
3. pitch shift (``librosa.effects.pitch_shift``: pitch only, in semitones);
4. additive white or pink noise at a random SNR (:func:`spoken100.baselines.robustness.add_noise`);
5. band limit to a random cut-off: down- and up-sampling, like a recording made at ``2 x cutoff`` Hz
   and loaded at 44.1 kHz as the paper's loader does. FSDD is recorded at 8 kHz, so it has nothing
   above 4 kHz, while synthetic clips do: cut-offs of 3-4 kHz imitate that (and a telephone line);
6. gain in dB.

Two properties of the paper's preprocessing decide what helps:

* it stretches every clip to 8,000 samples, so a *speed change is undone*: a clip played 10 % faster is
  10 % shorter and stretched back by the same factor (only the band limits differ). Under the paper's
  preprocessing, tempo and pitch changes are the ones that change what the model sees; speed matters
  for duration-preserving inputs (:func:`spoken100.baselines.robustness.pad_or_crop`).
* the log-mel is in dB relative to each clip's maximum, so a *gain is invisible to the spectrogram
  models*; it only matters for the waveform model (CNN-1D), which takes the samples unnormalised.

Determinism: the recipe and the noise of a clip depend only on ``seed``, the copy number and the clip's
content (:func:`~spoken100.baselines.robustness.digest_rng`), so they do not change with the order of the
index, the cache's chunking or where the files lie. :func:`augmentation_recipes` lists them without
reading any audio.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import soxr

from spoken100.baselines.fsdd import load_trimmed, trim_settings, waveform_to_input
from spoken100.baselines.robustness import NOISE_COLORS, add_noise, digest_rng
from spoken100.data.audio import resample_to_length
from spoken100.data.clipmap import map_clips
from spoken100.data.inputs import INPUT_SHAPES
from spoken100.data.layout import SAMPLE_RATE
from spoken100.data.segment import TrimParams


@dataclass(frozen=True)
class AugmentParams:
    """Ranges (uniform) and probabilities of the augmentations; a probability of 0 turns one off.

    speed: factor range of the speed change (> 1 is faster and higher).
    tempo: rate range of the time stretch (> 1 is faster, same pitch).
    semitones: range of the pitch shift.
    snr_db: SNR range of the additive noise; noise_colors: drawn with equal probability.
    cutoff_hz: range of the band limit's cut-off frequency.
    gain_db: range of the gain.
    """

    speed: tuple[float, float] = (0.9, 1.1)
    p_speed: float = 0.5
    tempo: tuple[float, float] = (0.85, 1.15)
    p_tempo: float = 0.5
    semitones: tuple[float, float] = (-2.0, 2.0)
    p_pitch: float = 0.5
    snr_db: tuple[float, float] = (5.0, 30.0)
    noise_colors: tuple[str, ...] = NOISE_COLORS
    p_noise: float = 0.5
    cutoff_hz: tuple[float, float] = (3000.0, 4000.0)
    p_band_limit: float = 0.5
    gain_db: tuple[float, float] = (-6.0, 6.0)
    p_gain: float = 0.5

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("p_") and not 0 <= value <= 1:
                raise ValueError(f"{f.name} must be a probability, not {value}")
        if not set(self.noise_colors) <= set(NOISE_COLORS) or not self.noise_colors:
            raise ValueError(f"noise_colors must be drawn from {NOISE_COLORS}")
        if min(self.speed) <= 0 or min(self.tempo) <= 0 or min(self.cutoff_hz) <= 0:
            raise ValueError("speed, tempo and cutoff_hz must be positive")

    def as_dict(self) -> dict:
        """Plain values (lists for ranges), for a cache key or a manifest."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> AugmentParams:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


#: Columns of a recipe; NaN (or an empty colour) means "not applied".
RECIPE_COLUMNS = ["speed", "tempo", "semitones", "snr_db", "noise_color", "cutoff_hz", "gain_db"]


def sample_recipe(rng: np.random.Generator, params: AugmentParams = AugmentParams()) -> dict[str, float | str]:
    """Draw one copy's augmentation settings.

    Every value and every coin is drawn, in a fixed order, whether or not it is used, so changing one
    probability does not change the other augmentations' draws.
    """
    coins = rng.random(6)
    values = {
        "speed": rng.uniform(*params.speed),
        "tempo": rng.uniform(*params.tempo),
        "semitones": rng.uniform(*params.semitones),
        "snr_db": rng.uniform(*params.snr_db),
        "noise_color": params.noise_colors[int(rng.integers(len(params.noise_colors)))],
        "cutoff_hz": rng.uniform(*params.cutoff_hz),
        "gain_db": rng.uniform(*params.gain_db),
    }
    probabilities = [params.p_speed, params.p_tempo, params.p_pitch, params.p_noise, params.p_band_limit,
                     params.p_gain]  # fmt: skip
    keys = [["speed"], ["tempo"], ["semitones"], ["snr_db", "noise_color"], ["cutoff_hz"], ["gain_db"]]
    recipe: dict[str, float | str] = {}
    for coin, p, names in zip(coins, probabilities, keys, strict=True):
        for name in names:
            if coin < p:
                recipe[name] = values[name] if name == "noise_color" else float(values[name])
            else:
                recipe[name] = "" if name == "noise_color" else float("nan")
    return recipe


def speed_change(x: np.ndarray, sr: int, factor: float) -> np.ndarray:
    """Play ``x`` ``factor`` times faster by resampling: duration / factor, every frequency x factor."""

    if factor == 1:
        return np.asarray(x, dtype=np.float32)
    return soxr.resample(np.asarray(x, dtype=np.float32), sr * factor, sr, quality="HQ").astype(np.float32)


def time_stretch(x: np.ndarray, rate: float) -> np.ndarray:
    """Change the tempo by ``rate`` (> 1 faster) keeping the pitch (phase vocoder, ``librosa.effects.time_stretch``)."""

    return librosa.effects.time_stretch(np.asarray(x, dtype=np.float32), rate=rate).astype(np.float32)


def pitch_shift(x: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    """Shift the pitch by ``semitones`` keeping the duration (``librosa.effects.pitch_shift``)."""

    return librosa.effects.pitch_shift(np.asarray(x, dtype=np.float32), sr=sr, n_steps=semitones).astype(np.float32)


def band_limit(x: np.ndarray, sr: int, cutoff_hz: float) -> np.ndarray:
    """Remove content above ``cutoff_hz``: resample to ``2 x cutoff_hz`` and back to ``sr`` (same length).

    With ``cutoff_hz = 4000`` this is what an 8 kHz recording (FSDD) looks like once loaded at 44.1 kHz.
    """

    x = np.asarray(x, dtype=np.float32)
    if 2 * cutoff_hz >= sr:
        return x
    low = soxr.resample(x, sr, 2 * cutoff_hz, quality="HQ")
    back = soxr.resample(low, 2 * cutoff_hz, sr, quality="HQ").astype(np.float32)
    if len(back) >= len(x):
        return back[: len(x)]
    return np.pad(back, (0, len(x) - len(back)))


def apply_gain(x: np.ndarray, gain_db: float) -> np.ndarray:
    """Scale ``x`` by ``gain_db`` dB."""
    return (np.asarray(x, dtype=np.float32) * np.float32(10 ** (gain_db / 20))).astype(np.float32)


def apply_recipe(x: np.ndarray, sr: int, recipe: dict, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Apply a :func:`sample_recipe` recipe to ``x`` (order: see the module docstring); ``rng`` draws the noise."""
    y = np.asarray(x, dtype=np.float32)

    def on(name: str) -> bool:
        value = recipe.get(name)
        return value is not None and value == value and value != ""  # not NaN, not empty

    if on("speed"):
        y = speed_change(y, sr, recipe["speed"])
    if on("tempo"):
        y = time_stretch(y, recipe["tempo"])
    if on("semitones"):
        y = pitch_shift(y, sr, recipe["semitones"])
    if on("snr_db") and np.any(y):
        y = add_noise(y, recipe["snr_db"], recipe["noise_color"] or "white", rng)
    if on("cutoff_hz"):
        y = band_limit(y, sr, recipe["cutoff_hz"])
    if on("gain_db"):
        y = apply_gain(y, recipe["gain_db"])
    return y


def augment_waveform(
    x: np.ndarray, sr: int, rng: np.random.Generator | int | None = None, params: AugmentParams = AugmentParams()
) -> np.ndarray:
    """One augmented copy of ``x``: a recipe drawn from ``rng`` (a generator or a seed), then applied."""
    rng = np.random.default_rng(rng)
    return apply_recipe(x, sr, sample_recipe(rng, params), rng)


def augmented_clip_input(
    path: str | Path,
    kind: str = "logmel",
    copies: int = 1,
    seed: int = 0,
    augment: dict | None = None,
    trim: dict | None = None,
) -> dict[str, np.ndarray]:
    """``copies`` augmented model inputs of one clip, as ``{"input": (copies, *INPUT_SHAPES[kind])}``.

    augment: :class:`AugmentParams` as a dict (default settings when ``None``); trim: as in
    :func:`spoken100.baselines.fsdd.fsdd_clip_input`.
    """
    params = AugmentParams.from_dict(augment) if augment else AugmentParams()
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    signal = load_trimmed(path, trim)
    out = []
    for copy in range(copies):
        rng = digest_rng(digest, seed, copy)
        waveform = apply_recipe(signal, SAMPLE_RATE, sample_recipe(rng, params), rng)
        if waveform.size == 0:
            waveform = signal
        out.append(waveform_to_input(resample_to_length(waveform), kind))
    return {"input": np.stack(out)}


def augmentation_recipes(
    index: pd.DataFrame, copies: int, seed: int = 0, params: AugmentParams = AugmentParams()
) -> pd.DataFrame:
    """The recipes :func:`augmented_inputs` uses, one row per (clip, copy), read from ``index.sha256`` only.

    Columns: ``path``, ``copy`` and :data:`RECIPE_COLUMNS`. (Valid when ``index.sha256`` is the
    checksum of the file's bytes, as in every index of this package.)
    """
    rows = []
    for path, digest in zip(index["path"], index["sha256"], strict=True):
        for copy in range(copies):
            rows.append({"path": path, "copy": copy, **sample_recipe(digest_rng(str(digest), seed, copy), params)})
    return pd.DataFrame(rows, columns=["path", "copy", *RECIPE_COLUMNS])


def augmented_inputs(
    root: str | Path,
    index: pd.DataFrame,
    kind: str = "logmel",
    copies: int = 1,
    seed: int = 0,
    *,
    params: AugmentParams = AugmentParams(),
    trim: bool | TrimParams = False,
    n_jobs: int = -1,
    progress: bool = True,
) -> np.ndarray:
    """Augmented training inputs: ``(copies, len(index), *INPUT_SHAPES[kind])`` float32, cached per chunk.

    root, index: a corpus root and its index (needs ``path`` and ``sha256``), or any subset of its rows
        (e.g. the English numbers 0-9 for the FSDD experiment); ``[c, i]`` is copy ``c`` of row ``i``.
    copies: augmented copies per clip; seed: with each clip's content, fixes every copy.
    params: the augmentations (:class:`AugmentParams`); trim: cut edge silence first.

    To train on the originals and the copies, stack them with repeated labels and speakers::

        X_all = np.concatenate([X, augmented.reshape(-1, *X.shape[1:])])
        y_all, speakers_all = np.tile(y, copies + 1), np.tile(speakers, copies + 1)

    Note that :class:`~spoken100.baselines.train.RunSpec` keys a run by its ``data_key``: give the
    augmented data its own (e.g. ``data_key(digest, kind, task, "augmented", copies, seed, params)``).
    """
    if kind not in INPUT_SHAPES:
        raise ValueError(f"kind must be one of {', '.join(INPUT_SHAPES)}, not {kind!r}")
    if copies < 1:
        raise ValueError("copies must be at least 1")
    settings = {"kind": kind, "copies": int(copies), "seed": int(seed), "augment": params.as_dict(),
                "trim": trim_settings(trim)}  # fmt: skip
    _, arrays = map_clips(
        augmented_clip_input, Path(root), index, settings, name="spoken100.baselines.augment.augmented_clip_input",
        n_jobs=n_jobs, progress=progress, desc=f"augmented {kind} inputs x{copies}",
    )  # fmt: skip
    stacked = arrays.get("input", np.empty((0, copies, *INPUT_SHAPES[kind]), dtype=np.float32))
    return np.ascontiguousarray(np.swapaxes(stacked, 0, 1)).astype(np.float32)
