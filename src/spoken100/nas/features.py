"""Front-end features computed once per front end and reused: candidate bodies train on them.

Every candidate's model starts with the fixed, non-trainable front end of :mod:`spoken100.nas.build`
(framing + DFT as convolutions, spectrum, mel filter bank, optional log). Training never changes it,
so recomputing it on every batch of every epoch is wasted work: :func:`split_frontend` cuts a
model into its front end and its *body* (the layers after it, sharing the model's weights), the
front end's float output is computed once (:func:`frontend_features`), and the body trains on it.
The trained weights are the full model's, so conversion and deployment keep the whole in-graph
int8 front end unchanged.

Within one process the features are kept in a small least-recently-used memo
(:class:`FeatureMemo`, at most :data:`MEMO_BYTES`), keyed by the preprocessing, the data and the
clips: a search worker that evaluates several candidates with the same front end (children inherit
their parents' preprocessing) computes it once. Nothing is written to disk: one feature set of the
fit speakers can take hundreds of megabytes, and the search meets dozens of front ends.

Equality: the features come from the same Keras layers as the in-graph front end, evaluated on
larger batches; TensorFlow's convolution may sum in another order for another batch size, so they
equal the in-graph front end's output to float32 rounding (``tests/test_nas_features.py`` bounds
the difference by :data:`EQUALITY_RTOL` of the largest feature), not always bit for bit.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np

from spoken100.nas.build import FRONTEND
from spoken100.nas.genome import Preprocessing

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: Bytes of features one process keeps for reuse (a loky worker is replaced when it grows by 2 GB).
MEMO_BYTES = 512 * 2**20
#: Clips per forward pass of the front end.
BATCH = 256
#: Largest difference between cached and in-graph features, as a fraction of the largest feature.
EQUALITY_RTOL = 1e-5


def split_frontend(model: keras.Model) -> tuple[keras.Model, keras.Model] | None:
    """``(front end, body)`` of a model built by :func:`~spoken100.nas.build.build_model`, or ``None``.

    Both are Keras models over the same layers (and weights) as ``model``: the front end maps
    waveforms to its last ``frontend_*`` layer's output; the body maps that output to the class
    probabilities. Training the body trains ``model``. ``None`` when the model has no front-end
    layers (then it is trained whole).
    """
    import keras  # deferred: Keras loads TensorFlow

    names = [layer for layer in model.layers if layer.name.startswith(FRONTEND)]
    if not names:
        return None
    last = names[-1].output
    return keras.Model(model.input, last, name="frontend"), keras.Model(last, model.output, name="body")


def frontend_features(frontend: keras.Model, x: np.ndarray, batch: int = BATCH) -> np.ndarray:
    """The front end's float32 output for the waveforms ``x`` (already normalised), ``batch`` clips at a time."""
    x = np.asarray(x, dtype=np.float32)
    if not len(x):
        return np.zeros((0, *frontend.output.shape[1:]), dtype=np.float32)
    return np.concatenate([np.asarray(frontend(x[i : i + batch], training=False)) for i in range(0, len(x), batch)])


def rows_digest(rows: np.ndarray) -> str:
    """A short hash of the row indices (part of a memo key)."""
    return hashlib.sha256(np.ascontiguousarray(rows, dtype=np.int64).tobytes()).hexdigest()[:16]


class FeatureMemo:
    """A least-recently-used store of feature arrays, bounded by their total size in bytes."""

    def __init__(self, max_bytes: int = MEMO_BYTES) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The array stored under ``key``, else ``compute()`` (stored when it fits the bound); read-only."""
        if key in self._items:
            self.hits += 1
            self._items.move_to_end(key)
            return self._items[key]
        self.misses += 1
        value = np.asarray(compute())
        value.setflags(write=False)  # shared by later trainings: nobody may change it in place
        if value.nbytes <= self.max_bytes:
            self._items[key] = value
            while self.nbytes > self.max_bytes:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        self._items.clear()


#: The process's memo (one per search worker).
MEMO = FeatureMemo()


def memo_key(preprocessing: Preprocessing, data_key: str, normalize: bool, rows: np.ndarray) -> tuple[str, ...]:
    """The memo key of one feature set: preprocessing, data fingerprint, normalisation and clips."""
    pre = json.dumps(asdict(preprocessing), sort_keys=True, default=str)
    return (pre, data_key, str(bool(normalize)), rows_digest(rows))


__all__ = [
    "BATCH",
    "EQUALITY_RTOL",
    "MEMO",
    "MEMO_BYTES",
    "FeatureMemo",
    "frontend_features",
    "memo_key",
    "rows_digest",
    "split_frontend",
]
