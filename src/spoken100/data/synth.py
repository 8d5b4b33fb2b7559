"""Rendering numbers with the espeak-ng library, resampled to 44.1 kHz and trimmed.

The library is driven in-process through ctypes: spawning the ``espeak-ng`` program per clip
costs about 10 ms, the library about 0.5 ms. Its output depends on what it rendered before in
the same process (a few samples of state carry over), so every (speaker, language) sequence is
rendered in order, 0 to 99, in a *fresh* process (see :mod:`spoken100.data.generate`): the same
sequence then gives the same bytes.

espeak-ng has two silent failure modes that :func:`check_voice_applies` guards against: an
unknown variant name falls back to the plain voice, and a variant appended to ``fr-fr`` is
ignored (``fr`` works).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Iterator
from functools import cache

import numpy as np
import soxr

from spoken100.data.layout import SAMPLE_RATE
from spoken100.data.segment import TrimParams, trim_silence
from spoken100.data.speakers import Voice

#: espeak-ng voice per language. French uses ``fr`` because ``fr-fr+VARIANT`` ignores the variant;
#: Mandarin uses the pinyin reader because the character reader misreads numbers.
LANGUAGE_VOICES: dict[str, str] = {
    "english": "en-us",
    "german": "de",
    "french": "fr",
    "mandarin": "cmn-latn-pinyin",
}

#: Text rendered to check that a variant takes effect.
PROBE_TEXT: dict[str, str] = {
    "english": "forty-two",
    "german": "zweiundvierzig",
    "french": "quarante-deux",
    "mandarin": "si4 shi2 er4",
}

INSTALL_HINT = "sudo apt-get install espeak-ng   (Debian/Ubuntu; or: conda install -c conda-forge espeak-ng)"

# espeak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH, _RANGE, _WORDGAP = 1, 2, 3, 4, 7
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class SynthesisError(RuntimeError):
    """espeak-ng is missing, failed, or silently ignored a speaker's settings."""


@cache
def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as err:
        raise SynthesisError(
            f"the espeak-ng library was not found ({err}). Install it with:\n  {INSTALL_HINT}"
        ) from err
    lib.espeak_Info.restype = ctypes.c_char_p
    return lib


@cache
def espeak_version() -> str:
    """The espeak-ng library version, e.g. ``"1.51"`` (part of the stand-in's generation key)."""
    return _library().espeak_Info(None).decode()


class _Engine:
    """The process's espeak-ng instance in synchronous mode, collecting samples from its callback."""

    def __init__(self) -> None:
        self.lib = _library()
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0)
        if self.sample_rate <= 0:
            raise SynthesisError("espeak-ng failed to initialise (is espeak-ng-data installed?)")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # keep a reference: C holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, n_samples, _events) -> int:
        if n_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        return 0

    def render(self, text: str, voice_name: str, voice: Voice) -> np.ndarray:
        if self.lib.espeak_SetVoiceByName(voice_name.encode()) != 0:
            raise SynthesisError(f"espeak-ng has no voice {voice_name!r}")
        for parameter, value in (
            (_RATE, voice.speed), (_VOLUME, voice.amplitude), (_PITCH, voice.pitch),
            (_RANGE, voice.pitch_range), (_WORDGAP, voice.word_gap),
        ):  # fmt: skip
            self.lib.espeak_SetParameter(parameter, int(value), 0)
        self._chunks = []
        data = text.encode("utf-8") + b"\0"
        status = self.lib.espeak_Synth(data, len(data), 0, 0, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        if status != 0 or not self._chunks:
            raise SynthesisError(f"espeak-ng failed on {text!r} with voice {voice_name!r} (status {status})")
        return np.concatenate(self._chunks)


@cache
def _engine() -> _Engine:
    return _Engine()


def voice_name(language: str, voice: Voice, with_variant: bool = True) -> str:
    """The espeak-ng voice string, e.g. ``"fr+m3"``."""
    return LANGUAGE_VOICES[language] + (f"+{voice.variant}" if with_variant else "")


def render_raw(text: str, language: str, voice: Voice, with_variant: bool = True) -> tuple[np.ndarray, int]:
    """Raw espeak-ng output as int16 samples and its sample rate (22,050 Hz)."""
    engine = _engine()
    return engine.render(text, voice_name(language, voice, with_variant), voice), engine.sample_rate


def postprocess(raw: np.ndarray, sr: int, trim: TrimParams = TrimParams()) -> np.ndarray:
    """Resample to 44.1 kHz (soxr HQ), cut edge silence, return int16."""
    audio = soxr.resample(raw.astype(np.float32) / 32768.0, sr, SAMPLE_RATE, quality="HQ")
    audio = trim_silence(audio, SAMPLE_RATE, trim)
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def render_sequence(
    texts: list[str], language: str, voice: Voice, trim: TrimParams = TrimParams()
) -> Iterator[np.ndarray]:
    """Render ``texts`` in order for one speaker; yields int16 clips at 44.1 kHz.

    Call it in a fresh process for byte-identical results (see the module docstring).
    """
    for text in texts:
        raw, sr = render_raw(text, language, voice)
        clip = postprocess(raw, sr, trim)
        if clip.size == 0:
            raise SynthesisError(f"espeak-ng produced silence for speaker {voice.speaker} ({language}, {text!r})")
        yield clip


def probe(voice: Voice, language: str, with_variant: bool) -> bytes:
    """The probe text rendered for ``voice``; call in a fresh process (see :func:`find_ignored_variant`)."""
    raw, _ = render_raw(PROBE_TEXT[language], language, voice, with_variant)
    return raw.tobytes()


def ignored_variant_error(voice: Voice, language: str) -> SynthesisError:
    """The error raised when a speaker's variant makes no difference."""
    return SynthesisError(
        f"speaker {voice.speaker}: espeak-ng ignores variant {voice.variant!r} with voice "
        f"{LANGUAGE_VOICES[language]!r} ({language}) - an unknown variant name, or a language voice "
        "such as 'fr-fr' that drops variants; the speaker would not be distinct"
    )
