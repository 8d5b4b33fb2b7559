"""Memoise pure analysis functions on disk, so that a warm rebuild of a chapter recomputes nothing.

A thin layer over :class:`joblib.Memory`: results are keyed by the function's code and by its
arguments (numpy arrays and DataFrames are hashed by content), stored under
``cache_dir("memo")`` and written atomically by joblib. Use it for deterministic analysis steps
whose inputs are already in memory (scores of an embedding, a study on a finished run); expensive
stages with their own artefacts (features, embeddings, training runs) cache themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from joblib import Memory

from spoken100.data.paths import cache_dir

F = TypeVar("F", bound=Callable)


def memoize(func: F) -> F:
    """Decorator: cache ``func``'s results on disk by argument content and code (see the module docstring)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        # The memory is created per call: the data home may change between calls (tests, profiles).
        return Memory(cache_dir("memo"), verbose=0).cache(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
