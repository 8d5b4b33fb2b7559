"""memoize: a second call with equal arguments (arrays compared by content) is read from disk."""

import numpy as np

from spoken100.data.memo import memoize

CALLS = []


@memoize
def column_means(X: np.ndarray, scale: float = 1.0) -> np.ndarray:
    CALLS.append(1)
    return X.mean(axis=0) * scale


def test_memoize_hits_on_equal_content_and_misses_on_change():
    X = np.arange(12.0).reshape(4, 3)
    first = column_means(X)
    again = column_means(X.copy())
    assert np.array_equal(first, again) and len(CALLS) == 1
    column_means(X, scale=2.0)
    column_means(X + 1)
    assert len(CALLS) == 3
