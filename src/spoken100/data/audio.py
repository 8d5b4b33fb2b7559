"""Reading (and writing) audio: the one place in the package that opens a sound file.

Every chapter, FSDD and ``spoken100 predict`` read clips through these functions, so a clip means
the same samples everywhere (``tests/test_layers.py`` fails when a module outside the data layer
reads audio itself):

* :func:`clip_info` -- the header facts (``soundfile.info``), without reading the samples;
* :func:`wav_truncation` -- whether a WAV file is shorter than its header says (a cut copy, a crash
  mid-write): libsndfile then reads the frames that are there without complaint;
* :func:`wav_damage` -- the same and more, from the header alone: empty, not a WAV file, truncated;
* :func:`read_mono` -- the samples at the file's own rate, channels averaged;
* :func:`load_clip` -- mono at a given rate as the paper's ``librosa.load(path, sr=...)`` reads a
  WAV file (soundfile, float32, channels averaged, librosa's default ``soxr_hq`` resampler; the same
  samples to the bit), without librosa's fallback to the deprecated audioread for files soundfile
  cannot read, and without its refusal of non-finite samples (the callers check those);
* :func:`resample_to_length` -- the paper's time-scale normalisation to a fixed number of samples;
* :func:`peak_normalize` -- each clip divided by its largest absolute sample (the EvoNAS input);
* :func:`encode_wav` -- 16-bit WAV bytes of a signal (the stand-in's clips).
"""

from __future__ import annotations

import io
from pathlib import Path

import librosa  # lazy package: its submodules load on first use
import numpy as np
import soundfile as sf

from spoken100.data.layout import SAMPLE_RATE
from spoken100.data.tasks import N_SAMPLES


def encode_wav(samples: np.ndarray, sr: int = SAMPLE_RATE) -> bytes:
    """16-bit mono WAV bytes (no timestamps or other varying header fields: the same samples, the same bytes)."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, sr, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def clip_info(path: str | Path) -> sf._SoundFileInfo:
    """The file's header (frames, sample rate, channels, format, subtype); raises if it is not audio."""
    return sf.info(str(path))


def wav_truncation(path: str | Path) -> str | None:
    """What is missing from a truncated WAV file, or ``None`` when it is complete (or not a RIFF WAV).

    Compares the size the ``data`` chunk declares with the bytes the file holds after it. A size of
    0 or 0xFFFFFFFF (a stream whose writer could not go back to fill it in) is not judged.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        position = 12
        while position + 8 <= size:
            fh.seek(position)
            chunk = fh.read(8)
            name, declared = chunk[:4], int.from_bytes(chunk[4:8], "little")
            if name == b"data":
                if declared in (0, 0xFFFFFFFF):
                    return None
                held = size - position - 8
                if held < declared:
                    return (f"truncated: the header declares {declared:,} bytes of audio, the file holds "
                            f"{held:,} ({held / declared:.0%})")  # fmt: skip
                return None
            position += 8 + declared + (declared & 1)
    return "truncated: the file ends before its audio data (no complete 'data' chunk)"


def wav_damage(path: str | Path) -> str | None:
    """What is wrong with a WAV file, judged from its size and header only (no samples read), or ``None``."""
    path = Path(path)
    if path.stat().st_size == 0:
        return "empty file (0 bytes)"
    with open(path, "rb") as fh:
        head = fh.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return "not a WAV file (no RIFF/WAVE header)"
    return wav_truncation(path)


def read_mono(path: str | Path, dtype: str = "float64") -> tuple[np.ndarray, int]:
    """A clip as a mono signal of ``dtype`` (channels averaged) and its own sample rate."""
    audio, sr = sf.read(str(path), dtype=dtype, always_2d=True)
    return audio.mean(axis=1), int(sr)


def read_channels(path: str | Path) -> tuple[np.ndarray, int]:
    """A clip as a float64 ``(frames, channels)`` array and its sample rate (for level and clipping checks)."""
    audio, sr = sf.read(str(path), dtype="float64", always_2d=True)
    return audio, int(sr)


def load_clip(path: str | Path, sr: int | None = SAMPLE_RATE) -> np.ndarray:
    """A clip as mono float32 at ``sr`` Hz (``None``: the file's own rate), as ``librosa.load`` reads it."""
    y, native_sr = read_mono(path, dtype="float32")
    if sr is not None and native_sr != sr:
        y = librosa.resample(y, orig_sr=native_sr, target_sr=sr, res_type="soxr_hq")
    return y


def resample_to_length(signal: np.ndarray, n_samples: int = N_SAMPLES) -> np.ndarray:
    """Resample ``signal`` to exactly ``n_samples`` with ``scipy.signal.resample`` (FFT method).

    The duration is discarded: every clip becomes ``n_samples`` long (paper-facts §4.1).
    """
    from scipy import signal as sps  # deferred: scipy.signal takes ~0.5 s to import; `import spoken100` needs none

    if len(signal) == 0:
        raise ValueError("cannot resample an empty signal")
    return sps.resample(np.asarray(signal, dtype=np.float32), n_samples).astype(np.float32)


def peak_normalize(x: np.ndarray) -> np.ndarray:
    """Divide every clip (row) by its largest absolute sample: float32 in [-1, 1]; silent rows stay 0."""
    x = np.asarray(x, dtype=np.float32)
    peak = np.abs(x).max(axis=-1, keepdims=True)
    return np.divide(x, peak, out=np.zeros_like(x), where=peak > 0)
