"""Multiply-accumulates of a candidate, per layer and per operation class (front end, dense, depthwise).

The latency model (:mod:`spoken100.nas.costs`, calibrated in :mod:`spoken100.nas.calibration`)
charges each class its own cycles per MAC, so the counts are kept apart:

* ``frontend`` -- the fixed DFT, mel and log convolutions of the in-model front end
  (layers named ``frontend_*``, :data:`spoken100.nas.build.FRONTEND`);
* ``depthwise`` -- ``DepthwiseConv2D`` layers of the feature blocks;
* ``dense`` -- every other ``Conv2D`` and every ``Dense`` layer (feature blocks and head).

:func:`layer_macs` and :func:`mac_classes` read a built Keras model; :func:`genome_macs` computes
the same classes from a genome alone (no TensorFlow), which the latency budget and the
calibration use, and which the tests check against the Keras count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spoken100.nas.build import FRONTEND, LOG_KNOTS
from spoken100.nas.genome import Genome

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: The operation classes of :class:`MacClasses`, in the order the tables show them.
MAC_CLASSES = ("frontend", "dense", "depthwise")


@dataclass(frozen=True)
class MacClasses:
    """MACs of one model per operation class (see the module docstring)."""

    frontend: int = 0
    dense: int = 0
    depthwise: int = 0

    @property
    def total(self) -> int:
        return int(self.frontend + self.dense + self.depthwise)

    def as_dict(self) -> dict[str, int]:
        """``{"frontend": ..., "dense": ..., "depthwise": ..., "total": ...}``."""
        return {**{c: int(getattr(self, c)) for c in MAC_CLASSES}, "total": self.total}


@dataclass(frozen=True)
class LayerMACs:
    """Multiply-accumulates of one Keras layer (biases and elementwise ops not counted)."""

    name: str
    kind: str
    stage: str  # "frontend", "features" or "head"
    macs: int
    params: int
    output_shape: tuple[int, ...]

    @property
    def op_class(self) -> str:
        """The latency model's class of this layer: ``frontend``, ``depthwise`` or ``dense``."""
        if self.stage == "frontend":
            return "frontend"
        return "depthwise" if self.kind == "DepthwiseConv2D" else "dense"


def _stage(name: str) -> str:
    if name.startswith(FRONTEND):
        return "frontend"
    if name.startswith("head"):
        return "head"
    return "features"


def _shape(tensor) -> tuple[int, ...]:
    return tuple(int(d) if d is not None else 1 for d in tensor.shape[1:])


def layer_macs(model: keras.Model) -> list[LayerMACs]:
    """MACs per layer of a Keras model (batch of one).

    * ``Conv2D``: ``H_out W_out C_out k_h k_w C_in / groups`` -- this includes the fixed DFT,
      mel and log convolutions of the front end;
    * ``DepthwiseConv2D``: ``H_out W_out C_in m k_h k_w`` (``m`` the depth multiplier);
    * ``Dense``: ``units x inputs`` per position of any leading axes;
    * every other layer: 0 (pooling, activations, batch norm -- folded into the conv when
      converted --, elementwise ops).
    """
    import keras  # deferred: Keras loads TensorFlow; only model building needs it

    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        macs = 0
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)):
            out = _shape(layer.output)
            inp = _shape(layer.input)
            if isinstance(layer, keras.layers.DepthwiseConv2D):
                kh, kw = layer.kernel_size
                macs = int(np.prod(out)) * kh * kw
            elif isinstance(layer, keras.layers.Conv2D):
                kh, kw = layer.kernel_size
                macs = int(np.prod(out)) * kh * kw * inp[-1] // layer.groups
            else:
                macs = int(np.prod(out)) * inp[-1]
        out_shape = _shape(layer.output) if hasattr(layer, "output") else ()
        rows.append(LayerMACs(layer.name, kind, _stage(layer.name), int(macs), int(layer.count_params()), out_shape))
    return rows


def count_macs(model: keras.Model) -> dict[str, int]:
    """Total MACs per stage: ``{"frontend", "features", "head", "total"}``."""
    totals = {"frontend": 0, "features": 0, "head": 0}
    for row in layer_macs(model):
        totals[row.stage] += row.macs
    totals["total"] = sum(totals.values())
    return totals


def mac_classes(model: keras.Model) -> MacClasses:
    """MACs of a Keras model per operation class (:class:`MacClasses`)."""
    totals = dict.fromkeys(MAC_CLASSES, 0)
    for row in layer_macs(model):
        totals[row.op_class] += row.macs
    return MacClasses(**totals)


def genome_macs(genome: Genome) -> MacClasses:
    """The :class:`MacClasses` of ``genome``'s model, computed from the genome alone (no TensorFlow).

    Follows :func:`spoken100.nas.build.build_model`: the front end's DFT (two ``(1, n_fft)``
    convolutions with ``n_fft // 2 + 1`` outputs per frame), the mel ``1x1`` convolution and, with
    ``compression="log"``, the two ``1x1`` convolutions of the piecewise-linear log; then each
    block's convolution with 'same' padding (output ``ceil(size / stride)``) and its pooling
    (window = stride = ``pool_size``, 'same'); global pooling; the dense layers and the output.
    """
    pre = genome.preprocessing
    frames, bins, mels = pre.n_frames, pre.n_freqs, pre.n_mels
    frontend = 2 * frames * pre.n_fft * bins + frames * bins * mels
    if pre.compression == "log":
        frontend += 2 * frames * mels * LOG_KNOTS
    height, width, channels = frames, mels, 1
    dense = depthwise = 0
    for block in genome.blocks:
        height, width = math.ceil(height / block.stride), math.ceil(width / block.stride)
        if block.kind == "conv":
            dense += height * width * int(block.filters) * block.kernel**2 * channels
            channels = int(block.filters)
        else:
            depthwise += height * width * channels * block.kernel**2
        if block.pool != "none":
            height, width = math.ceil(height / block.pool_size), math.ceil(width / block.pool_size)
    features = channels
    for layer in genome.head.dense:
        dense += features * layer.units
        features = layer.units
    dense += features * genome.n_classes
    return MacClasses(frontend=int(frontend), dense=int(dense), depthwise=int(depthwise))
