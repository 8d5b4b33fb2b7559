"""All Praat voice features of a clip from one read: F0, formants, voicing, duration, speaking rate.

:func:`voice_features_clip` is the per-clip function that :func:`spoken100.acoustics.features.voice_features`
maps over the corpus. It reads the file once, resamples it once (to twice the formant ceiling,
the rate Burg works at), and computes one pitch track that serves the F0 statistics, the choice
of voiced frames for the formant means, and the voicing check of the syllable nuclei. About
6 ms of one core per one-second clip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spoken100.acoustics.formants import DEFAULT_MAX_FORMANT, MAX_BANDWIDTH, analyse_voice
from spoken100.data.audio import read_mono

#: The columns of :func:`voice_features`, in order.
VOICE_COLUMNS = (
    "duration_s",
    "f0_mean_hz",
    "f0_median_hz",
    "f0_sd_hz",
    "voiced_fraction",
    "n_voiced",
    "f1_hz",
    "f2_hz",
    "f3_hz",
    "n_formant_frames",
    "speech_s",
    "nuclei",
    "syllable_rate",
    "reason",
)


def voice_features(
    y: np.ndarray,
    sr: float,
    *,
    max_formant: float = DEFAULT_MAX_FORMANT,
    floor: float = 50.0,
    ceiling: float = 600.0,
    time_step: float = 0.015,
    n_formants: float = 5.0,
    window_length: float = 0.025,
    formant_time_step: float = 0.025,
    max_bandwidth: float | None = MAX_BANDWIDTH,
) -> dict:
    """Praat F0 statistics, voiced-frame formant means and speaking rate of a signal.

    The F0 settings are those of :func:`spoken100.acoustics.pitch.praat_f0` (autocorrelation, ``floor`` to
    ``ceiling`` Hz, ``time_step`` 15 ms); the formant and rate settings those of
    :func:`spoken100.acoustics.formants.formants`. The only difference from calling both is speed: one
    resampled Sound and one pitch track serve everything (the Sound is at ``2 * max_formant``).

    Returns the keys of :data:`VOICE_COLUMNS`: F0 mean, median and SD over voiced frames
    (``f0_*_hz``), the voiced fraction of pitch frames and their count, mean F1-F3 over voiced
    frames, the speech span, syllable-nucleus count and rate, and a ``reason`` ("" when all is
    well, else why values are NaN, e.g. ``"silent"`` or ``"no voiced frames"``).
    """
    f0, rest = analyse_voice(
        y, sr, max_formant=max_formant, n_formants=n_formants, window_length=window_length,
        formant_time_step=formant_time_step, max_bandwidth=max_bandwidth, floor=floor, ceiling=ceiling,
        time_step=time_step,
    )  # fmt: skip
    merged = {**f0, **rest}
    return {key: merged[key] for key in VOICE_COLUMNS}


def voice_features_clip(path: Path, **params) -> dict:
    """:func:`voice_features` of one file (channels averaged); keyword arguments as there."""
    try:
        y, sr = read_mono(path)
    except Exception as error:  # unreadable file: a reason, not a crash
        return {**voice_features(np.zeros(0), 1.0, **params), "reason": f"unreadable: {error}"}
    return voice_features(y, sr, **params)
