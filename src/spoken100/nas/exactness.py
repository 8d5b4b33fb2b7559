"""Is TFLite Micro bit-exact with TFLite's reference kernels? Clip-by-clip comparison and the first differing layer.

**What "bit-exact" means here.** Both interpreters get the same int8 input; the check compares the
raw int8 outputs. TensorFlow's interpreter is created with ``OpResolverType.BUILTIN_REF`` (see
:func:`spoken100.nas.tflite.run_tflite`), i.e. its reference kernels, not XNNPACK or the optimised
ones, because those may round differently. On the board TFLM uses CMSIS-NN kernels, which "are
bit-exact with TensorFlow Lite reference kernels" and follow TFLM's where the two references differ
(``ARM-software/CMSIS-NN`` README); that is not checked here (no board).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from spoken100.data import atomic
from spoken100.data.codehash import code_fingerprint
from spoken100.nas import tflite
from spoken100.nas.deploy_cache import array_digest, cache_file, model_fingerprint, tool_versions
from spoken100.nas.deploy_inputs import model_inputs
from spoken100.nas.tflite import quiet_tensorflow

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from spoken100.nas.deployment import Deployment
    from spoken100.nas.picks import Pick
    from spoken100.nas.tflite import Representative


# ---- bit-exactness ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BitExactness:
    """TFLite Micro's raw int8 outputs against TFLite's reference kernels, clip by clip.

    n: clips compared; n_identical: clips whose every output value is equal; max_abs_diff: the
    largest difference of one output value, in int8 steps; argmax_agreement: fraction of clips
    with the same predicted class; differing: positions (among the compared clips) of the clips
    that differ.
    """

    n: int
    n_identical: int
    max_abs_diff: int
    argmax_agreement: float
    differing: tuple[int, ...] = ()

    @property
    def bit_exact(self) -> bool:
        """``True`` when every compared clip gave identical int8 outputs."""
        return self.n > 0 and self.n_identical == self.n

    def __str__(self) -> str:
        if self.bit_exact:
            return f"bit-exact on {self.n} clips"
        return (f"{self.n - self.n_identical} of {self.n} clips differ (by up to {self.max_abs_diff} int8 steps; "
                f"same class on {100 * self.argmax_agreement:.1f} %)")  # fmt: skip


def compare_outputs(tflm: np.ndarray, reference: np.ndarray) -> BitExactness:
    """Compare two arrays of raw int8 outputs ``(clips, classes)`` (see :class:`BitExactness`)."""
    a = np.asarray(tflm)
    b = np.asarray(reference)
    if a.shape != b.shape:
        raise ValueError(f"output shapes differ: {a.shape} vs {b.shape}")
    if a.ndim != 2:
        raise ValueError(f"expected outputs of shape (clips, classes), got {a.shape}")
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        raise ValueError("compare raw integer outputs (dequantize=False), not dequantised floats")
    diff = np.abs(a.astype(np.int32) - b.astype(np.int32))
    per_clip = diff.max(axis=1) if diff.size else np.zeros(len(a), dtype=np.int32)
    return BitExactness(
        n=int(len(a)),
        n_identical=int((per_clip == 0).sum()),
        max_abs_diff=int(diff.max()) if diff.size else 0,
        argmax_agreement=float((a.argmax(axis=1) == b.argmax(axis=1)).mean()) if len(a) else float("nan"),
        differing=tuple(int(i) for i in np.flatnonzero(per_clip)),
    )


def bit_exactness(model_bytes: bytes, x: np.ndarray, isolated: bool = True) -> BitExactness:
    """Run ``x`` through TFLite Micro and TFLite's reference kernels and compare the int8 outputs.

    x: float waveforms ``(clips, n_samples)`` (quantised with the model's input scale and zero
        point, as the firmware does) or int8 inputs.
    isolated: run TFLite Micro in a child process (see :func:`spoken100.nas.tflite.run_tflm`).
    """

    micro = tflite.run_tflm(model_bytes, x, dequantize=False, isolated=isolated)
    reference = tflite.run_tflite(model_bytes, x, dequantize=False)
    return compare_outputs(micro, reference)


#: The TFLite op a Keras layer becomes after conversion (batch norm and ReLU fold into the layer before).
KERAS_TO_TFLITE_OP = {
    "Conv2D": "CONV_2D",
    "DepthwiseConv2D": "DEPTHWISE_CONV_2D",
    "Dense": "FULLY_CONNECTED",
    "GlobalAveragePooling2D": "MEAN",
    "GlobalMaxPooling2D": "REDUCE_MAX",
    "MaxPooling2D": "MAX_POOL_2D",
    "AveragePooling2D": "AVERAGE_POOL_2D",
    "Add": "ADD",
    "Maximum": "MAXIMUM",
    "Minimum": "MINIMUM",
    "Rescaling": "MUL",
    "Reshape": "RESHAPE",
    "Softmax": "SOFTMAX",
}


def first_divergence(
    keras_model: keras.Model,
    x: np.ndarray,
    representative: Representative | np.ndarray | None,
    isolated: bool = True,
) -> dict[str, Any] | None:
    """The first layer whose int8 output differs between TFLite Micro and TFLite's reference kernels.

    Neither interpreter exposes its intermediate tensors in int8 as the other computes them, so
    this converts *prefixes* of the model (input -> layer ``k``), each calibrated on
    ``representative``, and runs ``x`` through both interpreters. A bisection over the layers finds a
    layer ``k`` whose prefix differs while the prefix ending one layer earlier is bit-exact on
    ``x``. It costs about ``log2(layers) + 1`` conversions; pass only a few clips, best those that
    differ in the full model (:attr:`BitExactness.differing`).

    Returns ``None`` when the full model is bit-exact on ``x``, else a dict with the layer's
    ``name``, Keras ``kind``, the TFLite ``op`` it becomes, ``clips_differing`` and
    ``max_abs_diff`` (int8 steps) at its output, and ``conversions`` (how many were needed).
    Prefix models are calibrated on their own, so their int8 scales are not those of the full
    model; the result says which op behaves differently, not by how much inside the full model.
    """
    import keras as _k  # deferred: Keras loads TensorFlow; only model building needs it

    layers = [layer for layer in keras_model.layers if not isinstance(layer, _k.layers.InputLayer)]
    x = np.asarray(x, dtype=np.float32)
    checked: dict[int, BitExactness] = {}

    def check(k: int) -> BitExactness:
        if k not in checked:
            prefix = _k.Model(keras_model.inputs, layers[k].output) if k < len(layers) - 1 else keras_model
            with quiet_tensorflow():
                model_bytes = tflite.to_int8(prefix, representative)
            micro = tflite.run_tflm(model_bytes, x, dequantize=False, isolated=isolated)
            reference = tflite.run_tflite(model_bytes, x, dequantize=False)
            checked[k] = compare_outputs(micro.reshape(len(x), -1), reference.reshape(len(x), -1))
        return checked[k]

    last = len(layers) - 1
    if check(last).bit_exact:
        return None
    low, high = -1, last  # prefix `low` is bit-exact (-1: the input itself), prefix `high` differs
    while high - low > 1:
        mid = (low + high) // 2
        if check(mid).bit_exact:
            low = mid
        else:
            high = mid
    layer = layers[high]
    kind = type(layer).__name__
    found = checked[high]
    return {
        "name": layer.name,
        "kind": kind,
        "op": KERAS_TO_TFLITE_OP.get(kind, "?"),
        "clips_differing": found.n - found.n_identical,
        "clips": found.n,
        "max_abs_diff": found.max_abs_diff,
        "conversions": len(checked),
    }


def locate_divergences(
    picks: Sequence[Pick],
    deployments: Sequence[Deployment],
    X_test: np.ndarray,
    representative: Representative | np.ndarray | None,
    n_models: int | None = None,
    max_clips: int = 20,
) -> dict[str, dict[str, Any]]:
    """:func:`first_divergence` for the models that are not bit-exact, smallest model first.

    n_models: locate at most this many (each costs a few conversions); ``None``: all.
    max_clips: run each check on at most this many of the model's differing test clips.
    """
    by_name = {p.name: p for p in picks}
    todo = sorted((d for d in deployments if not d.exactness.bit_exact), key=lambda d: d.costs.model_bytes)
    found = {}
    for d in todo[: len(todo) if n_models is None else max(int(n_models), 0)]:
        pick = by_name[d.name]
        clips = model_inputs(np.asarray(X_test, dtype=np.float32)[d.differing_clips()[:max_clips]], pick.normalize)
        calibration = model_inputs(representative, pick.normalize)
        cacheable = calibration is None or isinstance(calibration, np.ndarray)
        key = hashlib.sha256(json.dumps([code_fingerprint(locate_divergences), tool_versions(), model_fingerprint(pick.model),
                                         array_digest(clips, calibration)]).encode()).hexdigest()  # fmt: skip
        path = cache_file("divergences", d.name, key, ".json")
        if cacheable and path.is_file():
            found[d.name] = json.loads(path.read_text())["first_divergence"]
            continue
        result = first_divergence(pick.model, clips, calibration)
        # numpy scalars become plain numbers, so the cached and the fresh result are the same values
        found[d.name] = json.loads(json.dumps(result, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
        if cacheable:
            atomic.write_json(path, {"first_divergence": found[d.name]})
    return found


def exactness_table(deployments: Sequence[Deployment], divergences: dict[str, Any] | None = None) -> pd.DataFrame:
    """Per model: clips compared, identical clips, the largest difference, class agreement, first differing layer."""
    rows = []
    for d in deployments:
        e = d.exactness
        where = (divergences or {}).get(d.name)
        rows.append({
            "model": d.name,
            "clips compared": e.n,
            "identical clips": e.n_identical,
            "largest difference (int8 steps)": e.max_abs_diff,
            "same class %": 100 * e.argmax_agreement,
            "first differing layer": "-" if e.bit_exact else
            (f"{where['name']} ({where['op']})" if where else "not located"),
        })  # fmt: skip
    return pd.DataFrame(rows)
