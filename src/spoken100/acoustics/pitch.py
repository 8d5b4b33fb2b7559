"""Fundamental frequency (F0) of a clip: the paper's pYIN recipe and a Praat autocorrelation track.

Two estimators, for two purposes:

* :func:`pyin_f0` reproduces the paper's per-clip F0 exactly (the companion repository's
  ``helper._get_f0_frequency``): ``librosa.pyin`` on the clip loaded at 11,025 Hz, C2-C7 search
  range, frame length 512, a single threshold; unvoiced (NaN) frames dropped, then only frames with
  50 < f0 < 300 Hz kept, and the clip's F0 is the mean of those. It costs about 0.4 s of one
  core per clip, so the book runs it on a stratified subsample. Its single threshold makes it
  misread low voices and vowels whose fundamental is weak (an octave or more too high): see the
  notes of :func:`pyin_f0`.
* :func:`praat_f0` is the fast, conventional alternative used on every clip: Praat's
  autocorrelation method (Boersma 1993) through parselmouth, a few milliseconds per clip.

Both return a dict of plain floats and a ``reason`` string that is empty when the estimate is
valid and says why it is NaN otherwise (silent clip, clip shorter than the analysis window, no
voiced frame, ...): a bad clip never raises, so one odd file cannot stop a corpus-wide run.
The ``*_clip`` functions read a file and are the per-clip functions given to
:func:`spoken100.data.clipmap.map_clips`.
"""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import soxr

from spoken100.data.audio import load_clip, read_mono

#: A clip whose largest absolute sample is at or below this (-100 dBFS) counts as silent; one
#: step of 16-bit PCM (3e-5) is above it.
SILENT_PEAK = 1e-5

#: The paper's pYIN search range: ``librosa.note_to_hz("C2")`` (65.4 Hz) to ``"C7"`` (2093 Hz).
PYIN_FMIN = 440.0 * 2 ** ((36 - 69) / 12)
PYIN_FMAX = 440.0 * 2 ** ((96 - 69) / 12)

#: Sample rate of the Sound that Praat analyses (twice the 5,500 Hz formant ceiling, so the
#: formant analysis needs no second resampling). Compared with the original 44.1 kHz it changes a
#: clip's mean F0 by less than 0.6 % for 95 % of stand-in clips, and halves the cost.
PRAAT_SR = 11_000.0


def signal_problem(y: np.ndarray, sr: float, min_seconds: float) -> str:
    """Why ``y`` cannot be analysed ("" if it can): empty, silent or shorter than ``min_seconds``."""
    if y.size == 0:
        return "empty"
    if not np.all(np.isfinite(y)):
        return "non-finite samples"
    if float(np.max(np.abs(y))) <= SILENT_PEAK:
        return "silent"
    if y.size / sr < min_seconds:
        return "too short for the pitch window"
    return ""


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else float("nan")


# --------------------------------------------------------------------------------------------
# pYIN, the paper's recipe
# --------------------------------------------------------------------------------------------


def pyin_f0(
    y: np.ndarray,
    sr: int = 11_025,
    *,
    fmin: float = PYIN_FMIN,
    fmax: float = PYIN_FMAX,
    frame_length: int = 512,
    n_thresholds: int = 1,
    low: float = 50.0,
    high: float = 300.0,
) -> dict:
    """Mean F0 of a signal by the paper's pYIN recipe.

    Runs ``librosa.pyin(y, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame_length,
    n_thresholds=n_thresholds)``, drops unvoiced (NaN) frames, keeps only frames with
    ``low < f0 < high`` and averages them. The defaults are the paper's; ``y`` should already be
    at ``sr`` (the paper loads clips at 11,025 Hz, see :func:`pyin_f0_clip`).

    Two properties of these settings matter when reading the results:

    * ``n_thresholds=1`` (librosa's default is 100) leaves pYIN a single YIN threshold of 1, so
      in every frame the *first* dip of the difference function counts, i.e. the shortest
      candidate period. Nearly every frame is then "voiced" (white noise too, near 1.5 kHz), and
      where the fundamental is not the strongest component the estimate follows a higher
      harmonic near F1: a synthetic /i/ at 120 Hz comes out at 250 Hz, a synthetic /a/ (F1 700 Hz)
      has no frame left in 50-300 Hz, and stand-in male voices at 70-90 Hz (Praat AC, CC, SHS
      and pYIN with 100 thresholds agree) come out at 150-330 Hz. The 50-300 Hz filter is what
      keeps the recipe usable for female voices.
    * With the paper's ``fmin`` (C2, 65.4 Hz) pYIN cannot report a lower F0, so the ``low`` =
      50 Hz bound never acts and a voice below 65 Hz is misread; pass a lower ``fmin`` for those.

    Returns a dict with ``f0_hz`` (the paper's value: mean over kept frames), ``f0_all_voiced_hz``
    (mean over all voiced frames, before the ``low``-``high`` filter), ``n_frames``,
    ``n_voiced`` and ``n_kept`` (frame counts) and ``reason`` ("" when ``f0_hz`` is valid).
    """

    y = np.asarray(y, dtype=np.float32)
    out = {"f0_hz": np.nan, "f0_all_voiced_hz": np.nan, "n_frames": 0.0, "n_voiced": 0.0, "n_kept": 0.0}
    reason = signal_problem(y, sr, frame_length / sr)
    if reason:
        return {**out, "reason": reason}
    f0, _, _ = librosa.pyin(y, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame_length, n_thresholds=n_thresholds)
    voiced = f0[~np.isnan(f0)]
    kept = voiced[(voiced > low) & (voiced < high)]
    out.update(
        f0_hz=_mean(kept),
        f0_all_voiced_hz=_mean(voiced),
        n_frames=float(f0.size),
        n_voiced=float(voiced.size),
        n_kept=float(kept.size),
    )
    if not voiced.size:
        reason = "no voiced frames"
    elif not kept.size:
        reason = f"no voiced frame within {low:g}-{high:g} Hz"
    return {**out, "reason": reason}


def pyin_f0_clip(
    path: Path,
    sr: int = 11_025,
    fmin: float = PYIN_FMIN,
    fmax: float = PYIN_FMAX,
    frame_length: int = 512,
    low: float = 50.0,
    high: float = 300.0,
    n_thresholds: int = 1,
) -> dict:
    """:func:`pyin_f0` of one file, loaded as the paper does: ``librosa.load(path, sr=11025)``.

    The file is read the way ``librosa.load`` reads it (soundfile, float32, channels averaged,
    resampled with librosa's default ``soxr_hq``), without its fallback to the deprecated
    audioread for files soundfile cannot read: those get a reason instead.
    """
    try:
        y = load_clip(path, sr)
    except Exception as error:  # unreadable file: a reason, not a crash
        return {**pyin_f0(np.zeros(0), sr), "reason": f"unreadable: {error}"}
    return pyin_f0(
        y, sr, fmin=fmin, fmax=fmax, frame_length=frame_length, n_thresholds=n_thresholds, low=low, high=high
    )


# --------------------------------------------------------------------------------------------
# Praat autocorrelation
# --------------------------------------------------------------------------------------------


def to_sound(y: np.ndarray, sr: float, target_sr: float | None = PRAAT_SR):
    """A ``parselmouth.Sound`` of ``y``, resampled (soxr, high quality) to ``target_sr`` if given."""
    import parselmouth  # deferred: Praat's library; only the Praat measures need it

    y = np.asarray(y, dtype=np.float64)
    if target_sr and target_sr != sr:
        y = soxr.resample(y, sr, target_sr)
        sr = target_sr
    return parselmouth.Sound(y, sampling_frequency=float(sr))


def praat_pitch_track(
    sound, floor: float = 50.0, ceiling: float = 600.0, time_step: float = 0.015
) -> tuple[np.ndarray, np.ndarray]:
    """Frame times (s) and F0 (Hz, NaN where unvoiced) of a Sound by Praat's ``To Pitch (ac)``.

    All other settings are Praat's defaults (15 candidates, silence threshold 0.03, voicing
    threshold 0.45, octave cost 0.01, octave-jump cost 0.35, voiced/unvoiced cost 0.14).
    """
    pitch = sound.to_pitch_ac(time_step=time_step, pitch_floor=floor, pitch_ceiling=ceiling)
    f0 = np.array(pitch.selected_array["frequency"], dtype=float)
    f0[f0 <= 0] = np.nan
    return np.asarray(pitch.xs(), dtype=float), f0


def summarise_f0(f0: np.ndarray) -> dict:
    """Mean, median and standard deviation of the voiced frames of a track, and the voiced fraction."""
    voiced = f0[np.isfinite(f0)]
    return {
        "f0_mean_hz": _mean(voiced),
        "f0_median_hz": float(np.median(voiced)) if voiced.size else np.nan,
        "f0_sd_hz": float(np.std(voiced)) if voiced.size else np.nan,
        "voiced_fraction": float(voiced.size / f0.size) if f0.size else np.nan,
        "n_voiced": float(voiced.size),
    }


def praat_f0(
    y: np.ndarray,
    sr: float,
    *,
    floor: float = 50.0,
    ceiling: float = 600.0,
    time_step: float = 0.015,
    analysis_sr: float | None = PRAAT_SR,
) -> dict:
    """F0 of a signal by Praat's autocorrelation method (``Sound: To Pitch (ac)``).

    Why these settings:

    * **Method.** Autocorrelation is Praat's recommended method for intonation and average F0
      (cross-correlation is meant for voice-quality measures such as jitter, and here costs 20x
      more); it is also what most phonetic studies report.
    * **Range.** ``floor`` 50 Hz reaches the lowest voices (the stand-in's deepest voices sit near
      55 Hz); ``ceiling`` 600 Hz is Praat's default and leaves room above the paper's 300 Hz cut,
      so that high voices are measured rather than folded down an octave.
    * **Time step.** 15 ms is Praat's own default for a 50 Hz floor (0.75 / floor); the analysis
      window is 3 / floor = 60 ms, so frames still overlap by 75 %, and a 0.2 s clip keeps about
      13 frames. A 10 ms step gives the same means at 1.3x the cost.
    * **Sample rate.** The signal is resampled to ``analysis_sr`` (11 kHz; ``None`` keeps the
      original), which halves the cost and changes clip means by < 0.6 % for 95 % of clips.
      Below about 8 kHz octave errors appear, so do not go lower.

    Returns ``f0_mean_hz``, ``f0_median_hz``, ``f0_sd_hz`` (over voiced frames),
    ``voiced_fraction`` (voiced frames / all frames), ``n_voiced`` and ``reason``
    ("" when valid).
    """
    y = np.asarray(y, dtype=np.float64)
    empty = summarise_f0(np.zeros(0))
    reason = signal_problem(y, sr, 3.0 / floor)
    if reason:
        return {**empty, "reason": reason}
    import parselmouth  # deferred: Praat's library; only the Praat measures need it

    try:
        _, f0 = praat_pitch_track(to_sound(y, sr, analysis_sr), floor, ceiling, time_step)
    except parselmouth.PraatError as error:
        return {**empty, "reason": f"praat: {str(error).strip().splitlines()[0]}"}
    out = summarise_f0(f0)
    return {**out, "reason": "" if out["n_voiced"] else "no voiced frames"}


def praat_f0_clip(
    path: Path,
    floor: float = 50.0,
    ceiling: float = 600.0,
    time_step: float = 0.015,
    analysis_sr: float | None = PRAAT_SR,
) -> dict:
    """:func:`praat_f0` of one file (channels averaged)."""
    try:
        y, sr = read_mono(path)
    except Exception as error:
        return {**praat_f0(np.zeros(0), 1.0), "reason": f"unreadable: {error}"}
    return praat_f0(y, sr, floor=floor, ceiling=ceiling, time_step=time_step, analysis_sr=analysis_sr)
