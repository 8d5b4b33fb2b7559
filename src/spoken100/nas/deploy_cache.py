"""Keys of chapter 6's artefacts: a model's fingerprint, array digests, tool versions and the cache paths.

A deployment report or a located divergence is kept under ``cache_dir("deploy", kind)`` and keyed
by everything it depends on (the computing function's code, the model's architecture and weights,
the clips, the TensorFlow and TFLite Micro versions), so a rebuild with nothing changed reruns nothing.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spoken100.data.codehash import package_versions
from spoken100.data.paths import cache_dir

if TYPE_CHECKING:  # pragma: no cover
    import keras


def model_fingerprint(keras_model: keras.Model) -> str:
    """sha256 of a Keras model's architecture (JSON) and every weight: the same model, the same key."""
    digest = hashlib.sha256(keras_model.to_json().encode())
    for weight in keras_model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


def array_digest(*arrays: Any) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(b"none" if a is None else np.ascontiguousarray(np.asarray(a)).tobytes())
    return digest.hexdigest()


def tool_versions() -> str:
    return ",".join(f"{k}=={v}" for k, v in package_versions(("tensorflow-cpu", "tensorflow", "tflite-micro")).items())


def cache_file(kind: str, name: str, key: str, suffix: str) -> Path:

    return cache_dir("deploy", kind) / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}-{key[:20]}{suffix}"
