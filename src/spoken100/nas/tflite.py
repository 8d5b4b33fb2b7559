"""Full-integer (int8) conversion, TFLite and TFLite Micro inference, and the measured tensor arena.

Conversion follows the authors' ``convert_to_tflite.py`` (paper-facts §6): post-training
quantisation with ``Optimize.DEFAULT``, int8 input and output, calibrated on a *representative
dataset*. Two kinds are offered:

* :func:`noise_dataset` -- uniform random noise, as the paper did (200 inputs of shape (8000, 1));
* :func:`clips_dataset` -- real clips.

**Why it matters.** Calibration fixes every tensor's int8 range at the extremes it sees, starting
with the input: noise drawn from [0, 1) (``np.random.rand``, a common way to write "uniform random")
gives the input a zero point of -128 and *clips every negative sample*, i.e. the int8 model hears a
half-wave-rectified signal. Noise from [-1, 1) does not. Measured on this package's front end
(``Preprocessing()`` defaults; 10 synthetic harmonic clips peak-normalised to 0.3-1.0; relative L2
error of the TFLite Micro int8 features against float): magnitude-mel 3.6 % (median) with [-1, 1)
noise, 49 % with [0, 1) noise, 4.3 % with 40 clips of the same kind; power-mel 7.4 %, 78 %, 7.5 %.
So [-1, 1) noise is an adequate stand-in for the front end; whether it is for the layers after it
(whose ranges depend on the features' statistics) is for the trained models to show. Real speech is
far below full scale for most of a clip, and a clip far below full scale uses few of the input's 256
levels, so clips should be peak-normalised before quantisation. Unlike the paper, only TFLite
builtin int8 ops are allowed here (no ``SELECT_TF_OPS`` and no float fallback), so a model that
converts also runs in TFLite Micro.

Conversion wraps the model in one with a fixed batch of 1, so reshapes are static
and no ``SHAPE``/``STRIDED_SLICE``/``PACK`` ops appear.

**Arena.** The ``tflite_micro`` Python package has no getter for the arena size: its interpreter
exposes only ``PrintAllocations()``, which writes the ``RecordingMicroAllocator`` report to C-level
stderr (tinyml-anchors §C.4). The host measurement uses TFLite Micro's reference kernels; on a
Cortex-M with CMSIS-NN the scratch buffers differ, so treat it as "host-measured arena" and keep a
margin (tinyml-anchors §C.4).

**Isolation.** The TFLite Micro interpreter kills the whole Python process instead of raising on
some errors: a too-small arena segfaults, and an int8 ``SOFTMAX`` whose input scale is below
``2**-26`` aborts (``QuantizeMultiplierGreaterThanOne``). So :func:`run_tflm` and
:func:`arena_report` run it in a child process by default (:mod:`spoken100.nas._tflm_worker`,
about 0.5 s per call; no TensorFlow there) and read the report from the child's stderr; a crash
becomes a :class:`TFLMError`. With ``isolated=False`` they run in this process and capture file
descriptor 2 with ``os.dup2`` (:func:`capture_fd2`). Either way the arena handed to the
interpreter is sized generously from the model's own tensors (:func:`safe_arena_size`), and
:func:`to_int8` conditions the degenerate logits of untrained models (:func:`condition_logits`).

TFLite Micro int8 support found by running this package's interpreter
(``tflite_micro`` 0.dev20261023182759, see :data:`INT8_OP_SUPPORT`): ``CONV_2D``,
``DEPTHWISE_CONV_2D``, ``FULLY_CONNECTED``, ``MUL``, ``ADD``, ``ABS``, ``MAXIMUM``, ``MINIMUM``,
``RSQRT``, ``TANH``, ``LOGISTIC``, ``SOFTMAX``, ``MAX_POOL_2D``, ``AVERAGE_POOL_2D``, ``MEAN``,
``REDUCE_MAX``, ``RESHAPE``, ``QUANTIZE`` run; ``LOG``, ``SQRT`` (both "INT8 != FLOAT32" at invoke)
and ``EXP`` (fails to allocate) do not; ``SQUARE`` is left in float by the converter (wrapped in
``DEQUANTIZE``/``QUANTIZE``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: Representative-dataset size of the paper's conversion script.
PAPER_CALIBRATION_SAMPLES = 200
#: Smallest span of the logits kept as is at conversion (see :func:`condition_logits`).
MIN_LOGIT_RANGE = 1e-3

#: What this project's probe of the int8 kernels of ``tflite_micro`` 0.dev20261023182759 found
#: (tiny one-op models converted with TFLITE_BUILTINS_INT8 and invoked in the TFLM interpreter).
INT8_OP_SUPPORT: dict[str, str] = {
    "CONV_2D": "ok",
    "DEPTHWISE_CONV_2D": "ok",
    "FULLY_CONNECTED": "ok",
    "MUL": "ok",
    "ADD": "ok",
    "ABS": "ok",
    "MAXIMUM": "ok",
    "MINIMUM": "ok",
    "RSQRT": "ok",
    "TANH": "ok",
    "LOGISTIC": "ok",
    "SOFTMAX": "ok",
    "MAX_POOL_2D": "ok",
    "AVERAGE_POOL_2D": "ok",
    "MEAN": "ok (GlobalAveragePooling2D)",
    "REDUCE_MAX": "ok (GlobalMaxPooling2D)",
    "RESHAPE": "ok",
    "QUANTIZE": "ok (int8 -> int8 rescale)",
    "LOG": "fails at invoke: elementwise.cc 'INT8 != FLOAT32' (float32 only)",
    "SQRT": "fails at invoke: elementwise.cc 'INT8 != FLOAT32' (float32 only)",
    "EXP": "fails to allocate: exp.cc 'INT8 != FLOAT32' (float32 only)",
    "SQUARE": "converter keeps it float (DEQUANTIZE -> SQUARE -> QUANTIZE); use MUL(x, x)",
}

_ARENA_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")
_ARENA_HEAD = re.compile(r"Arena allocation head (\d+) bytes")
_ARENA_TAIL = re.compile(r"Arena allocation tail (\d+) bytes")
_FD_LOCK = threading.Lock()

Representative = Callable[[], Iterator[list[np.ndarray]]]


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf  # deferred: TensorFlow takes seconds to import; only conversion/training needs it

    return tf


def _keras():
    _tf()
    import keras  # deferred: Keras loads TensorFlow; only model building needs it

    return keras


# ---- representative datasets ----------------------------------------------------------------------
def noise_dataset(
    n: int = PAPER_CALIBRATION_SAMPLES, n_samples: int = 8000, seed: int = 0, low: float = -1.0, high: float = 1.0
) -> Representative:
    """The paper's calibration: ``n`` uniform-random waveforms in ``[low, high)``.

    The paper's script drew 200 "uniform-random inputs" (paper-facts §6); whether in [0, 1) or
    [-1, 1) is not known. [-1, 1) is the default here because [0, 1) calibrates the input to
    non-negative values and clips every negative sample of real audio (see the module docstring).
    """

    def gen() -> Iterator[list[np.ndarray]]:
        rng = np.random.default_rng(seed)
        for _ in range(n):
            yield [rng.uniform(low, high, size=(1, n_samples)).astype(np.float32)]

    return gen


def clips_dataset(
    clips: np.ndarray | Iterable[np.ndarray], n: int | None = PAPER_CALIBRATION_SAMPLES
) -> Representative:
    """Calibrate on real waveforms: an array ``(n_clips, n_samples)`` or any iterable of 1-D clips.

    Uses the first ``n`` clips (``None``: all). Shuffle and peak-normalise them beforehand as the
    deployed firmware would feed them.
    """
    if isinstance(clips, np.ndarray):
        clips = np.atleast_2d(clips)

    def gen() -> Iterator[list[np.ndarray]]:
        for i, clip in enumerate(clips):
            if n is not None and i >= n:
                break
            yield [np.asarray(clip, dtype=np.float32).reshape(1, -1)]

    return gen


# ---- conversion ---------------------------------------------------------------------------------
class ConversionError(RuntimeError):
    """The TFLite converter failed; the message ends with its captured log."""


def to_int8(
    model: keras.Model,
    representative: Representative | np.ndarray | None = None,
    min_logit_range: float = MIN_LOGIT_RANGE,
    strip_names: bool = True,
) -> bytes:
    """Full-integer int8 ``.tflite`` bytes of ``model`` (int8 input and output, builtin int8 ops only).

    model: a Keras model with one input (e.g. from :func:`spoken100.nas.build.build_model`).
    representative: a callable yielding ``[array of shape (1, *input_shape)]`` (see
        :func:`noise_dataset`, :func:`clips_dataset`), or an array of clips; default: the paper's
        200 noise inputs.
    min_logit_range: guard for untrained models (see :func:`condition_logits`); ``0`` disables it.
    strip_names: blank the tensor names (:func:`strip_tensor_names`), so that the size -- which is
        flash on the device -- does not depend on how the Keras model and its layers are named.

    Raises :class:`ConversionError` (with the converter's C-level log, which is otherwise kept off
    the console) when conversion fails, e.g. for an op without an int8 builtin kernel.
    """
    tf = _tf()
    keras = _keras()
    if representative is None:
        representative = noise_dataset(n_samples=int(model.input_shape[-1]))
    elif isinstance(representative, np.ndarray):
        representative = clips_dataset(representative, n=None)
    inputs = keras.Input(batch_shape=(1, *model.input_shape[1:]), name="waveform")
    fixed = keras.Model(inputs, model(inputs, training=False), name=model.name)  # static shapes: no SHAPE ops
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    out_layer = model.layers[-1]
    conditioned = condition_logits(model, representative, min_logit_range) if min_logit_range > 0 else None
    saved = out_layer.get_weights() if conditioned is not None else None
    try:
        if conditioned is not None:
            out_layer.set_weights(conditioned)
        log: list[str] = []
        try:
            with _quiet_python_warnings(), contextlib.redirect_stdout(io.StringIO()), capture_fd2() as log:
                model_bytes = bytes(converter.convert())
        except Exception as err:
            text = log[0] if log else ""
            raise ConversionError(f"int8 conversion failed: {err}\nconverter log:\n{text[-3000:]}") from err
    finally:
        if saved is not None:
            out_layer.set_weights(saved)
    return strip_tensor_names(model_bytes) if strip_names else model_bytes


def strip_tensor_names(model_bytes: bytes) -> bytes:
    """The same ``.tflite`` model with every tensor name blanked (re-serialised flatbuffer).

    The converter stores a name per tensor, prefixed with the Keras model's name twice (e.g.
    ``nas_<id>_1/nas_<id>_1/block0_relu_1/Relu;...``): about 3.4 kB for the published "accurate"
    architecture and ~8 kB more when the model is named ``evonas_languages_accurate``. TFLite Micro
    never reads them, so they are flash spent on nothing; the lab's firmware kept them. Operators,
    weights, quantisation and the signature are unchanged, and so are the outputs and the arena.
    """
    import flatbuffers  # deferred: only model-file parsing needs it
    from tflite_micro.python.tflite_micro.runtime import convert_bytearray_to_object

    model = convert_bytearray_to_object(bytearray(model_bytes))
    for sub in model.subgraphs:
        for tensor in sub.tensors:
            tensor.name = b""
    builder = flatbuffers.Builder(len(model_bytes))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def condition_logits(
    model: keras.Model, representative: Representative, min_range: float = MIN_LOGIT_RANGE
) -> list[np.ndarray] | None:
    """Output-layer weights that give degenerate logits a usable int8 range, or ``None`` if not needed.

    TFLite Micro's int8 ``SOFTMAX`` needs ``input_scale * 2**26 > 1``; below that it *aborts the
    process* (``QuantizeMultiplierGreaterThanOne`` in ``CalculateSoftmaxParams``). An untrained
    candidate -- which is what EvoNAS measures, since sizes, arena and latency do not depend on the
    weights -- can have logits that span only ~1e-6 (Keras' Glorot-uniform default shrinks
    activations by ``sqrt(2 / (C + 1))`` per depthwise layer, and the spectra are small), or none at
    all (a ReLU that zeroes every feature makes the output constant). When the logits of the first 8
    calibration inputs span less than ``min_range``, the conversion uses modified weights of the
    final ``Dense(softmax)`` (the Keras model keeps its own):

    * logits that vary: kernel and bias scaled by one positive factor, which keeps every argmax, so
      the int8 predictions are those of the float model; only the near-uniform probabilities of an
      untrained model get sharper;
    * constant logits (a dead network, whose prediction is one class whatever the input): the bias
      is replaced by an evenly spaced ramp of span ``4 * min_range``.

    Trained models are never touched.
    """
    keras = _keras()
    layer = model.layers[-1]
    if not isinstance(layer, keras.layers.Dense) or getattr(layer.activation, "__name__", "") != "softmax":
        return None
    features = keras.Model(model.inputs, layer.input)
    batch = [sample[0] for _, sample in zip(range(8), representative(), strict=False)]
    h = np.asarray(features([np.concatenate(batch, axis=0)], training=False), dtype=np.float64)
    kernel, bias = layer.get_weights()
    logits = h @ kernel + bias
    span = float(logits.max() - logits.min())
    if span >= min_range:
        return None
    if span > 1e-20:
        factor = np.float32(4.0 * min_range / span)
        return [kernel * factor, bias * factor]
    ramp = np.linspace(-2.0 * min_range, 2.0 * min_range, bias.shape[0]).astype(np.float32)
    return [kernel, ramp]


@contextlib.contextmanager
def _quiet_python_warnings():

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ---- flatbuffer inspection ------------------------------------------------------------------------
def _schema():
    from tflite_micro.tensorflow.lite.micro.python import (
        schema_py_generated as schema,  # deferred: loads TensorFlow Lite Micro's native library; only inference needs it
    )

    return schema


def model_ops(model_bytes: bytes) -> list[str]:
    """Sorted builtin op names used by a ``.tflite`` model (read from the flatbuffer)."""
    from tflite_micro.python.tflite_micro.runtime import (
        convert_bytearray_to_object,
        get_builtin_code_from_operator_code,
    )  # deferred: loads TensorFlow Lite Micro's native library; only inference needs it

    schema = _schema()
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = convert_bytearray_to_object(bytearray(model_bytes))
    codes = set()
    for sub in model.subgraphs:
        for op in sub.operators or []:
            codes.add(get_builtin_code_from_operator_code(model.operatorCodes[op.opcodeIndex]))
    return sorted(names.get(c, str(c)) for c in codes)


_DTYPE_BYTES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 9: 1, 10: 8, 16: 8}  # schema.TensorType -> bytes


def activation_bytes(model_bytes: bytes) -> int:
    """Sum of the sizes of all non-constant tensors: an upper bound of the activation memory."""
    from tflite_micro.python.tflite_micro.runtime import (
        convert_bytearray_to_object,  # deferred: loads TensorFlow Lite Micro's native library; only inference needs it
    )

    model = convert_bytearray_to_object(bytearray(model_bytes))
    total = 0
    for sub in model.subgraphs:
        for t in sub.tensors:
            buf = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
            if buf is not None and buf.data is not None and len(buf.data):
                continue  # constant (weights): lives in flash
            shape = t.shape if t.shape is not None else []
            total += int(np.prod([max(int(d), 1) for d in shape])) * _DTYPE_BYTES.get(t.type, 4)
    return total


def safe_arena_size(model_bytes: bytes) -> int:
    """An arena size that cannot be too small: 2x all activations + 10x the model + 64 KiB.

    TFLite Micro segfaults instead of raising on a too-small arena, so every interpreter created
    here gets at least this much (host memory is cheap).
    """
    return 2 * activation_bytes(model_bytes) + 10 * len(model_bytes) + 64 * 1024


# ---- inference ----------------------------------------------------------------------------------
_NP_DTYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 7: np.int16, 9: np.int8}


def io_details(model_bytes: bytes) -> dict[str, dict[str, Any]]:
    """Shape, dtype, scale and zero point of the (first) input and output, read from the flatbuffer."""
    from tflite_micro.python.tflite_micro.runtime import (
        convert_bytearray_to_object,  # deferred: loads TensorFlow Lite Micro's native library; only inference needs it
    )

    model = convert_bytearray_to_object(bytearray(model_bytes))
    sub = model.subgraphs[0]
    details = {}
    for key, index in (("input", sub.inputs[0]), ("output", sub.outputs[0])):
        t = sub.tensors[index]
        q = t.quantization
        scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else 0.0
        zero = int(q.zeroPoint[0]) if q is not None and q.zeroPoint is not None and len(q.zeroPoint) else 0
        details[key] = {"shape": tuple(int(d) for d in t.shape), "dtype": _NP_DTYPES.get(t.type, np.float32),
                        "scale": scale, "zero_point": zero}  # fmt: skip
    return details


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float -> int8 as TFLite does: ``clip(round(x / scale) + zero_point, -128, 127)``."""
    return np.clip(np.round(np.asarray(x, np.float64) / scale) + zero_point, -128, 127).astype(np.int8)


def _prepare_inputs(model_bytes: bytes, x: np.ndarray | None) -> tuple[np.ndarray, dict[str, dict[str, Any]]]:
    details = io_details(model_bytes)
    inp = details["input"]
    if x is None:
        return np.zeros((1, *inp["shape"][1:]), dtype=inp["dtype"]), details
    x = np.asarray(x)
    if x.ndim == len(inp["shape"]) - 1:
        x = x[None]
    if x.dtype != inp["dtype"]:
        if inp["dtype"] != np.int8:
            raise TypeError(f"the model's input is {np.dtype(inp['dtype']).name}, not int8")
        x = quantize_input(x, inp["scale"], inp["zero_point"])
    return x.reshape(len(x), *inp["shape"][1:]), details


class TFLMError(RuntimeError):
    """The TFLite Micro interpreter failed (in the isolated worker: it crashed or aborted)."""


def worker_command(module: str = "spoken100.nas._tflm_worker") -> list[str]:
    """The command that starts a worker module in a child Python, safe from the current folder.

    ``python -m`` puts the current folder first on the import path, so a user's ``inspect.py`` or
    ``numpy.py`` there would be imported instead of the library's. ``-P`` (Python 3.11+) leaves
    it out; ``PYTHONPATH`` and the installed packages still apply, unlike with ``-I``.
    """
    return [sys.executable, "-P", "-m", module]


def worker_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The worker's environment: ``base`` (default: this process's) with quiet TensorFlow logs and
    without empty ``PYTHONPATH`` entries, each of which would put the current folder back on the
    import path that ``-P`` keeps it off (``PYTHONPATH=/some/lib:`` ends in one)."""
    env = {**(os.environ if base is None else base), "TF_CPP_MIN_LOG_LEVEL": "2"}
    if "PYTHONPATH" in env:
        kept = [entry for entry in env["PYTHONPATH"].split(os.pathsep) if entry]
        if kept:
            env["PYTHONPATH"] = os.pathsep.join(kept)
        else:
            del env["PYTHONPATH"]
    return env


def _run_worker(model_bytes: bytes, x: np.ndarray, arena_size: int, timeout: float) -> tuple[np.ndarray, str]:
    buffer = io.BytesIO()
    np.savez(buffer, model=np.frombuffer(bytes(model_bytes), dtype=np.uint8), x=x, arena_size=np.int64(arena_size))
    proc = subprocess.run(
        worker_command(),
        input=buffer.getvalue(),
        capture_output=True,
        timeout=timeout,
        env=worker_environment(),
    )
    stderr = proc.stderr.decode("utf-8", errors="replace")
    if proc.returncode != 0:
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        raise TFLMError(f"the TFLite Micro interpreter failed ({how}); its stderr ends:\n{stderr[-2000:]}")
    outputs = np.load(io.BytesIO(proc.stdout))["outputs"]
    return outputs, stderr


def _run_inprocess(model_bytes: bytes, x: np.ndarray, arena_size: int) -> tuple[np.ndarray, str]:
    from tflite_micro.python.tflite_micro import (
        runtime,  # deferred: loads TensorFlow Lite Micro's native library; only inference needs it
    )

    interp = runtime.Interpreter.from_bytes(bytes(model_bytes), arena_size=arena_size)
    shape = tuple(interp.get_input_details(0)["shape"])
    outputs = []
    for example in x:
        interp.set_input(example.reshape(shape), 0)
        interp.invoke()
        outputs.append(np.array(interp.get_output(0)).reshape(-1))
    with capture_fd2() as box:
        interp.print_allocations()
    return np.stack(outputs), box[0]


def _tflm(
    model_bytes: bytes, x: np.ndarray | None, arena_size: int | None, isolated: bool, timeout: float
) -> tuple[np.ndarray, str, dict[str, dict[str, Any]]]:
    inputs, details = _prepare_inputs(model_bytes, x)
    size = max(int(arena_size or 0), safe_arena_size(model_bytes))
    if isolated:
        outputs, text = _run_worker(model_bytes, inputs, size, timeout)
    else:
        outputs, text = _run_inprocess(model_bytes, inputs, size)
    return outputs, text, details


def run_tflm(
    model_bytes: bytes,
    x: np.ndarray,
    dequantize: bool = True,
    arena_size: int | None = None,
    isolated: bool = True,
    timeout: float = 600.0,
) -> np.ndarray:
    """Run ``x`` through the TFLite Micro interpreter, one example at a time.

    x: float waveforms ``(batch, n_samples)`` (quantised with the model's input scale), or int8
        already quantised.
    dequantize: return float outputs (``(q - zero_point) * scale``); ``False`` returns the raw int8.
    arena_size: at least :func:`safe_arena_size` is always used (see the module docstring).
    isolated: run the interpreter in a child process (:mod:`spoken100.nas._tflm_worker`), so that an
        abort or segfault inside TFLite Micro raises :class:`TFLMError` instead of killing Python.
        ``False`` runs it here (faster for many small calls; only for models known to work).
    """
    outputs, _, details = _tflm(model_bytes, x, arena_size, isolated, timeout)
    out = details["output"]
    if dequantize and out["scale"]:
        return (outputs.astype(np.float32) - out["zero_point"]) * out["scale"]
    return outputs


def run_tflite(model_bytes: bytes, x: np.ndarray, dequantize: bool = True) -> np.ndarray:
    """Run ``x`` through TensorFlow's own TFLite interpreter (reference for :func:`run_tflm`)."""
    tf = _tf()
    with _quiet_python_warnings():  # reference kernels, as TFLite Micro's (no XNNPACK delegate)
        interp = tf.lite.Interpreter(
            model_content=bytes(model_bytes),
            experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
        )
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    x, details = _prepare_inputs(model_bytes, x)
    outputs = []
    for example in x:
        interp.set_tensor(inp["index"], example.reshape(inp["shape"]))
        interp.invoke()
        outputs.append(interp.get_tensor(out["index"]).reshape(-1).copy())
    res = np.stack(outputs)
    o = details["output"]
    return (res.astype(np.float32) - o["zero_point"]) * o["scale"] if dequantize and o["scale"] else res


# ---- arena --------------------------------------------------------------------------------------
@contextlib.contextmanager
def capture_fd2() -> Iterator[list[str]]:
    """Capture everything written to file descriptor 2 (C-level stderr) inside the block.

    Yields a list that receives the captured text as its single item on exit.
    """
    box: list[str] = []
    with _FD_LOCK, tempfile.TemporaryFile() as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            yield box
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            box.append(tmp.read().decode("utf-8", errors="replace"))


def parse_allocations(text: str) -> dict[str, Any]:
    """``{"total", "head", "tail"}`` bytes (and the ``text``) from a ``PrintAllocations()`` report."""
    found = [p.search(text) for p in (_ARENA_TOTAL, _ARENA_HEAD, _ARENA_TAIL)]
    if not all(found):
        raise TFLMError(f"could not parse the TFLite Micro allocation report:\n{text[-2000:]}")
    total, head, tail = (int(m.group(1)) for m in found)
    lines = [line for line in text.splitlines() if "RecordingMicroAllocator" in line]
    return {"total": total, "head": head, "tail": tail, "text": "\n".join(lines)}


def arena_report(model_bytes: bytes, isolated: bool = True, timeout: float = 600.0) -> dict[str, Any]:
    """The TFLite Micro ``RecordingMicroAllocator`` report after one inference on zeros.

    Returns ``{"total": int, "head": int, "tail": int, "text": str}`` in bytes: *head* holds the
    non-persistent activations (planned by TFLM's greedy memory planner), *tail* the persistent
    data (tensor structs, quantisation data, kernel buffers). With ``isolated`` (default) the
    interpreter runs in a child process and the report is read from its stderr; otherwise file
    descriptor 2 of this process is captured (:func:`capture_fd2`).
    """
    _, text, _ = _tflm(model_bytes, None, None, isolated, timeout)
    return parse_allocations(text)


def arena_bytes(model_bytes: bytes, isolated: bool = True) -> int:
    """Tensor-arena bytes TFLite Micro allocates for ``model_bytes`` (host-measured; see :func:`arena_report`)."""
    return arena_report(model_bytes, isolated=isolated)["total"]


@contextlib.contextmanager
def quiet_tensorflow():
    """Keep TensorFlow's Python log (the converter's INFO lines, retracing warnings) off the page."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
