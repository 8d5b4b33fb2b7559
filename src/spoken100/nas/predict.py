"""Classify one audio file with an int8 ``.tflite`` model, as the deployed firmware would.

``spoken100 predict MODEL.tflite CLIP.wav`` prints the predicted language (4-class models, in the
order of :data:`spoken100.data.layout.LANGUAGES`) or number (100-class models, 0-99) and its score.

**Preprocessing is the training preprocessing** (paper-facts §4.1): the clip is loaded at 44.1 kHz
and mono with :func:`spoken100.data.audio.load_clip` (``librosa.load(path, sr=44100)``, the
paper's loader), resampled to exactly 8,000 samples with
:func:`~spoken100.data.inputs.resample_to_length`, and quantised to int8 with the model's
own input scale and zero point. Models trained on peak-normalised clips (this book's search, chapter
5) need every clip divided by its largest sample first: chapter 6 writes ``model.json`` beside
the exported ``model.tflite`` with ``"peak_normalize": true``, and :func:`predict_file` follows it
(or an explicit ``normalize``). The model then runs in the TensorFlow Lite Micro interpreter (the
interpreter of the firmware; host reference kernels) or, on request, in TensorFlow's TFLite
interpreter with its reference kernels.

**Bad input** is reported, never silently used (:func:`load_clip_for_model`):

* a missing, empty, truncated, silent, corrupt or non-audio file raises :class:`ClipError` naming the file;
* more than one channel is averaged to mono (what the paper's loader does), with a note;
* a sample rate other than 44.1 kHz is resampled to 44.1 kHz (what the paper's loader does), with
  a note; below 8 kHz the clip is refused, as too little of the speech band is left;
* a duration far outside the corpus's clips, clipping, and input samples beyond the model's int8
  input range are noted.

A model whose input is not one 8,000-sample clip, or whose output is not 4 or 100 classes, raises
:class:`ModelError`. Both errors are ``ValueError`` subclasses, which the command line turns into
one ``Error: ...`` line and exit code 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spoken100.data.audio import clip_info, load_clip, peak_normalize, resample_to_length, wav_truncation
from spoken100.data.layout import LANGUAGES, NUMBERS, SAMPLE_RATE
from spoken100.data.tasks import N_SAMPLES, TASK_OF_CLASSES
from spoken100.nas import tflite
from spoken100.nas.tflite import io_details

#: Lowest sample rate accepted: below it the clip lacks the telephone band of speech (up to 4 kHz).
MIN_SAMPLE_RATE = 8000
#: Durations outside this range (seconds) get a note. The corpus's clips average about 0.45-1.45 s
#: per number, with spreads reaching about 1.85 s (paper-facts §1.5): every clip is squeezed or
#: stretched to 8,000 samples, so a much longer or shorter clip plays at a speed the model never heard.
DURATION_RANGE_S = (0.2, 2.5)
#: Share of samples beyond the model's int8 input range above which a note is given.
SATURATION_NOTE = 0.001


class ClipError(ValueError):
    """The audio file cannot be used (missing, corrupt, empty, silent, too low a sample rate)."""


class ModelError(ValueError):
    """The ``.tflite`` file is not a model that ``predict`` can run (wrong input or output shape)."""


# ---- the clip ---------------------------------------------------------------------------------
def load_clip_for_model(path: str | Path, n_samples: int = N_SAMPLES) -> tuple[np.ndarray, list[str]]:
    """Load an audio file as the models' training input: ``(waveform of n_samples float32, notes)``.

    The file is checked first with ``soundfile`` (format, channels, sample rate, length); then it
    is loaded exactly as the training clips were (44.1 kHz mono via
    :func:`spoken100.data.audio.load_clip`) and resampled to ``n_samples``.

    Returns the waveform and a list of notes (human-readable, one sentence each) about everything
    that was done beyond the training preprocessing or that makes the prediction less reliable.
    Raises :class:`ClipError` for files that cannot be used.
    """

    path = Path(path)
    if not path.is_file():
        raise ClipError(f"{path}: no such file")
    try:
        info = clip_info(path)
    except Exception as err:  # libsndfile's errors are RuntimeError/LibsndfileError/TypeError
        raise ClipError(f"{path}: not a readable audio file ({_first_line(err)}); expected a WAV file "
                        f"like the corpus's (mono, {SAMPLE_RATE:,} Hz)") from err  # fmt: skip
    if info.frames <= 0 or info.samplerate <= 0:
        raise ClipError(f"{path}: the file holds no audio samples")
    truncated = wav_truncation(path)
    if truncated:
        raise ClipError(f"{path}: {truncated}; the clip was cut short (an interrupted copy or download?)")
    notes = []
    if info.samplerate < MIN_SAMPLE_RATE:
        raise ClipError(f"{path}: sample rate {info.samplerate:,} Hz is too low to resample safely (at least "
                        f"{MIN_SAMPLE_RATE:,} Hz is needed; the corpus's clips are {SAMPLE_RATE:,} Hz)")  # fmt: skip
    if info.channels > 1:
        what = "stereo" if info.channels == 2 else f"{info.channels} channels"
        notes.append(f"{what}: the channels were averaged to mono, as the paper's loader does")
    if info.samplerate != SAMPLE_RATE:
        note = (f"sample rate {info.samplerate:,} Hz, not {SAMPLE_RATE:,} Hz like the corpus: resampled to "
                f"{SAMPLE_RATE:,} Hz before the usual preprocessing")  # fmt: skip
        if info.samplerate < SAMPLE_RATE:
            note += f" (nothing above {info.samplerate / 2000:g} kHz is left, unlike in the training clips)"
        notes.append(note)
    try:
        signal = load_clip(path)
    except Exception as err:
        raise ClipError(f"{path}: the audio data cannot be decoded ({_first_line(err)})") from err
    if signal.size == 0:
        raise ClipError(f"{path}: the file holds no audio samples")
    if not np.all(np.isfinite(signal)):
        raise ClipError(f"{path}: the audio holds NaN or infinite samples")
    peak = float(np.abs(signal).max())
    if peak == 0.0:
        raise ClipError(f"{path}: the clip is silent (every sample is zero)")
    if peak >= 0.999:
        notes.append("the clip reaches full scale: it may be clipped")
    duration = info.frames / info.samplerate
    low, high = DURATION_RANGE_S
    if not low <= duration <= high:
        notes.append(
            f"the clip lasts {duration:.2f} s; like the paper, it is resampled to {n_samples:,} samples whatever "
            f"its length, so a clip outside about {low:g}-{high:g} s plays at a speed the model never heard "
            "(trim the silence around the spoken number)"
        )
    return resample_to_length(signal, n_samples), notes


def _first_line(err: BaseException) -> str:
    text = (str(err).strip() or type(err).__name__).splitlines()[0]
    if text.startswith("Error opening") and "': " in text:  # libsndfile repeats the path: keep the reason
        text = text.split("': ", 1)[1].rstrip(".")
    return text


# ---- the model --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelInfo:
    """What :func:`check_model` read from a ``.tflite`` file: I/O details, task and labels."""

    path: Path | None
    input: dict[str, Any]
    output: dict[str, Any]
    task: str
    labels: tuple[str, ...]


def class_labels(n_classes: int) -> tuple[str, ...]:
    """Labels of a model's outputs: the languages (4, :data:`~spoken100.data.layout.LANGUAGES` order) or 0-99 (100)."""
    if n_classes == len(LANGUAGES):
        return tuple(LANGUAGES)
    if n_classes == len(NUMBERS):
        return tuple(str(n) for n in NUMBERS)
    raise ModelError(
        f"the model has {n_classes} outputs; predict knows the language task ({len(LANGUAGES)} classes: "
        f"{', '.join(LANGUAGES)}) and the number task ({len(NUMBERS)} classes: {NUMBERS[0]}-{NUMBERS[-1]})"
    )


def check_model(model: str | Path | bytes, n_samples: int = N_SAMPLES) -> ModelInfo:
    """Read and check a ``.tflite`` model (path or bytes) for :func:`predict_file`.

    The model must be a TFLite flatbuffer with one input of ``n_samples`` values (shape
    ``(1, n_samples)`` or ``(1, n_samples, 1)``; int8 or float32) and one output of 4 or 100
    classes. Raises :class:`ModelError` with what is wrong otherwise.
    """
    path = None
    if isinstance(model, (bytes, bytearray)):
        data, where = bytes(model), "the model"
    else:
        path = Path(model)
        if not path.is_file():
            raise ModelError(f"{path}: no such file")
        data, where = path.read_bytes(), str(path)
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError(f"{where}: not a TensorFlow Lite model (no 'TFL3' flatbuffer identifier)")
    try:
        from tflite_micro.python.tflite_micro.runtime import (
            convert_bytearray_to_object,  # deferred: loads TensorFlow Lite Micro's native library; only inference needs it
        )

        sub = convert_bytearray_to_object(bytearray(data)).subgraphs[0]
        n_inputs, n_outputs = len(sub.inputs), len(sub.outputs)
        details = io_details(data)
    except Exception as err:
        raise ModelError(f"{where}: the TFLite flatbuffer cannot be read ({_first_line(err)})") from err
    if n_inputs != 1 or n_outputs != 1:
        raise ModelError(f"{where}: the model has {n_inputs} inputs and {n_outputs} outputs; predict needs one each")
    inp, out = details["input"], details["output"]
    shape = tuple(inp["shape"])
    if not (len(shape) >= 2 and shape[0] == 1 and int(np.prod(shape[1:])) == n_samples
            and all(d == 1 for d in shape[2:])):  # fmt: skip
        raise ModelError(
            f"{where}: the model's input has shape {shape}; predict needs one clip of {n_samples:,} samples "
            f"(shape (1, {n_samples})), the paper's input: every clip resampled to {n_samples:,} samples"
        )
    if np.dtype(inp["dtype"]) not in (np.dtype(np.int8), np.dtype(np.float32)):
        raise ModelError(f"{where}: the model's input is {np.dtype(inp['dtype']).name}; predict needs int8 or float32")
    if np.dtype(inp["dtype"]) == np.dtype(np.int8) and not inp["scale"]:
        raise ModelError(f"{where}: the int8 input has no quantisation scale")
    n_classes = int(np.prod(out["shape"][1:])) if len(out["shape"]) > 1 else int(np.prod(out["shape"]))
    try:
        labels = class_labels(n_classes)
    except ModelError as err:
        raise ModelError(f"{where}: {err}") from None
    return ModelInfo(path, inp, out, TASK_OF_CLASSES[n_classes], labels)


def input_range(info: ModelInfo) -> tuple[float, float] | None:
    """The float range the model's int8 input represents, ``scale * ([-128, 127] - zero_point)`` (None if float)."""
    inp = info.input
    if np.dtype(inp["dtype"]) != np.dtype(np.int8):
        return None
    return inp["scale"] * (-128 - inp["zero_point"]), inp["scale"] * (127 - inp["zero_point"])


# ---- prediction -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    """One clip's prediction.

    task: ``"language"`` or ``"number"``; label: the predicted class's label; index: its output
    index; score: its output (the dequantised softmax probability); probabilities: every output;
    notes: what :func:`load_clip_for_model` and the quantisation reported; interpreter: which one ran.
    """

    task: str
    label: str
    index: int
    score: float
    probabilities: np.ndarray = field(repr=False)
    labels: tuple[str, ...] = field(repr=False)
    notes: tuple[str, ...] = ()
    interpreter: str = "tflm"
    model_path: Path | None = None
    clip_path: Path | None = None

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` best ``(label, score)`` pairs, best first."""
        order = np.argsort(-self.probabilities, kind="stable")[: max(int(k), 1)]
        return [(self.labels[i], float(self.probabilities[i])) for i in order]

    def __str__(self) -> str:
        return f"{self.task}: {self.label} ({self.score:.2f})"


def predict_waveform(model: str | Path | bytes, waveform: np.ndarray, interpreter: str = "tflm") -> np.ndarray:
    """Dequantised outputs of a ``.tflite`` model for one preprocessed waveform (``n_samples`` floats).

    interpreter: ``"tflm"`` -- TensorFlow Lite Micro, in a child process (the firmware's interpreter;
        no TensorFlow import needed); ``"tflite"`` -- TensorFlow's TFLite interpreter with its
        reference kernels.
    """

    data = model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
    x = np.asarray(waveform, dtype=np.float32).reshape(1, -1)
    if interpreter == "tflm":
        try:
            return tflite.run_tflm(bytes(data), x)[0]
        except tflite.TFLMError as err:
            raise ModelError(f"the TensorFlow Lite Micro interpreter failed on this model: {err}") from err
    if interpreter == "tflite":
        return tflite.run_tflite(bytes(data), x)[0]
    raise ValueError(f"interpreter must be 'tflm' or 'tflite', not {interpreter!r}")


def model_metadata(model_path: str | Path) -> dict[str, Any]:
    """The ``<model>.json`` beside a model (``model.json`` for the exported ``model.tflite``), or ``{}``.

    :func:`spoken100.nas.deploy.export_firmware_bundle` writes it.
    """

    path = Path(model_path).with_suffix(".json")
    if not path.is_file():
        return {}
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(metadata, dict):
        raise ModelError(
            f'{path}: a JSON {type(metadata).__name__}, not an object; expected e.g. {{"peak_normalize": true}}'
        )
    return metadata


def predict_file(
    model_path: str | Path, clip_path: str | Path, interpreter: str = "tflm", normalize: bool | None = None
) -> Prediction:
    """Classify one audio file with an int8 ``.tflite`` model (see the module docstring).

    model_path: a ``.tflite`` model taking 8,000 samples and giving 4 (languages) or 100 (numbers)
        classes, e.g. one written by chapter 6 (``model.tflite``).
    clip_path: an audio file; WAV at 44.1 kHz mono is what the models were trained on.
    interpreter: ``"tflm"`` (default) or ``"tflite"`` (see :func:`predict_waveform`).
    normalize: peak-normalise the clip before quantisation; ``None`` (default) follows the
        ``peak_normalize`` entry of the model's ``model.json`` (:func:`model_metadata`; absent: no).

    Raises :class:`ModelError` or :class:`ClipError` (both ``ValueError``) for unusable input.
    """
    metadata = model_metadata(model_path) if normalize is None else {}  # first: a bad side file fails at once
    info = check_model(model_path)
    waveform, notes = load_clip_for_model(clip_path, n_samples=int(np.prod(info.input["shape"][1:])))
    if normalize is None:
        normalize = bool(metadata.get("peak_normalize", False))
    if normalize:
        waveform = peak_normalize(waveform[None])[0]
    bounds = input_range(info)
    if bounds is not None:
        outside = float(np.mean((waveform < bounds[0]) | (waveform > bounds[1])))
        if outside > SATURATION_NOTE:
            notes.append(
                f"{100 * outside:.1f} % of the samples lie outside the model's int8 input range "
                f"[{bounds[0]:.3g}, {bounds[1]:.3g}] and are clipped by the quantisation"
            )
    probabilities = np.asarray(predict_waveform(model_path, waveform, interpreter), dtype=np.float64).reshape(-1)
    if not 0.9 <= probabilities.sum() <= 1.1:
        notes.append(f"the outputs sum to {probabilities.sum():.2f}, not 1: the score is not a probability")
    index = int(np.argmax(probabilities))
    return Prediction(
        task=info.task, label=info.labels[index], index=index, score=float(probabilities[index]),
        probabilities=probabilities, labels=info.labels, notes=tuple(notes), interpreter=interpreter,
        model_path=Path(model_path), clip_path=Path(clip_path),
    )  # fmt: skip


__all__ = [
    "ClipError",
    "ModelError",
    "ModelInfo",
    "Prediction",
    "check_model",
    "class_labels",
    "input_range",
    "load_clip_for_model",
    "model_metadata",
    "predict_file",
    "predict_waveform",
]
