"""Two-dimensional embeddings of feature vectors: UMAP (the paper's choice), t-SNE and PCA.

The paper shows a UMAP embedding of all 12,800 clips, computed with umap-learn's defaults
(``n_neighbors=15``, ``min_dist=0.1``, Euclidean metric) on flattened 128 x 16 mel spectrograms
in dB (2048 features per clip; paper-facts §3). :func:`embed` computes the same embedding, and
t-SNE and PCA for comparison; :func:`embed_cached` stores the result so that the book's pages
and sweeps do not recompute it.

Choices, and why:

* **Determinism.** ``random_state=seed`` is always passed to UMAP, so the same input gives the
  same embedding on the same machine (bit-identical across processes; another BLAS or CPU may
  differ in the last bits, which UMAP's optimisation amplifies). A seeded umap-learn must run
  single-threaded (``n_jobs=1``: its parallel gradient descent updates shared coordinates without
  locks, and its parallel neighbour descent depends on thread timing). ``seed=None`` gives the
  parallel, non-reproducible run; it is never cached.
* **Nearest neighbours.** ``knn="exact"`` (default) computes the exact Euclidean neighbour graph
  by brute force (:func:`exact_knn`; BLAS: parallel and deterministic) and hands it to
  umap-learn as ``precomputed_knn``; ``knn="nndescent"`` lets umap-learn run its own approximate
  search (pynndescent), literally the paper's pipeline. The UMAP parameters are the same either way;
  the exact graph is the one that nearest-neighbour descent approximates, and the one umap-learn
  itself computes below 4096 points. Why exact is the default: with a fixed seed pynndescent runs
  single-threaded, and its main functions take the metric as an argument, which numba cannot cache
  on disk, so every new process compiles them again (tens of seconds); on 12,800 x 2048 features
  the exact search is faster than that compilation alone, and the first embedding in a fresh
  process takes about 40 % less time than with pynndescent. ``benchmarks/bench_embedding.py``
  measures both. Within a process the exact graph is memoised per input and ``n_neighbors``, so a
  ``min_dist`` sweep searches once.
* **Standardisation.** None by default: the paper fed the dB values directly, so loud mel bands
  with large variance dominate the Euclidean distances. ``standardize=True`` z-scores every feature
  first (constant features, such as the empty mel filters of the paper's settings, are left at 0),
  which weights quiet high bands as much as the formants. It is a documented deviation, off by
  default.
* **PCA pre-reduction.** t-SNE runs on the first 50 principal components by default
  (``pca_components=50``), as scikit-learn's documentation recommends for dense data: it removes
  noise dimensions and makes the neighbour search 40 times cheaper. For UMAP it is off by default
  (the paper used the full 2048 features); ``pca_components=50`` is available as a deviation.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import numpy as np

from spoken100.data.atomic import atomic_path
from spoken100.data.paths import cache_dir

Method = Literal["umap", "tsne", "pca"]
METHODS: tuple[str, ...] = ("umap", "tsne", "pca")

#: Parameters of the wrapper itself (not passed on to the estimator), with their defaults per method.
_WRAPPER_DEFAULTS: dict[str, dict[str, Any]] = {
    "umap": {"standardize": False, "pca_components": None, "knn": "exact"},
    "tsne": {"standardize": False, "pca_components": 50},
    "pca": {"standardize": False},
}
#: The estimator parameters that define the paper's UMAP (umap-learn defaults) and our t-SNE.
_ESTIMATOR_DEFAULTS: dict[str, dict[str, Any]] = {
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "metric": "euclidean"},
    "tsne": {"perplexity": 30.0, "init": "pca", "learning_rate": "auto"},
    "pca": {},
}
_PACKAGES = {"umap": ("umap-learn", "pynndescent", "numba"), "tsne": ("scikit-learn",), "pca": ("scikit-learn",)}


def import_umap() -> type:
    """Import umap-learn without its optional TensorFlow part; return the ``umap.UMAP`` class.

    ``import umap`` also imports ``umap.parametric_umap``, which loads TensorFlow, Keras and, through
    Keras, PyTorch whenever they are installed (they are here, for other chapters): about 5 s per
    process and a screen of log lines, for a class this companion does not use. While umap-learn is
    imported, ``tensorflow`` is marked unimportable, so umap-learn takes its own fallback
    ("ParametricUMAP unavailable"); the mark is removed straight after, so TensorFlow can still be
    imported later. Nothing is changed when TensorFlow is already loaded.
    """
    if "umap" in sys.modules:
        return sys.modules["umap"].UMAP
    block = "tensorflow" not in sys.modules
    if block:
        sys.modules["tensorflow"] = None  # type: ignore[assignment]  # makes `import tensorflow` raise ImportError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ImportWarning)
            import umap  # deferred: umap-learn compiles with numba on import (seconds)
    finally:
        if block and "tensorflow" in sys.modules and sys.modules["tensorflow"] is None:
            del sys.modules["tensorflow"]
    return umap.UMAP


def _split_params(method: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate the wrapper's options from the estimator's parameters, filling in the defaults."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    wrapper = dict(_WRAPPER_DEFAULTS[method])
    estimator = dict(_ESTIMATOR_DEFAULTS[method])
    for name, value in params.items():
        (wrapper if name in wrapper else estimator)[name] = value
    if method == "umap" and wrapper["knn"] not in ("nndescent", "exact"):
        raise ValueError(f"knn must be 'nndescent' or 'exact', not {wrapper['knn']!r}")
    return wrapper, estimator


def _prepare(X: np.ndarray, standardize: bool, pca_components: int | None, seed: int | None) -> np.ndarray:
    from sklearn.decomposition import PCA  # deferred: scikit-learn is slow to import; only the embedding scores need it

    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), not of shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values")
    if standardize:
        std = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
        X = X.astype(np.float32)
    if pca_components is not None and pca_components < X.shape[1]:
        X = PCA(n_components=pca_components, random_state=seed).fit_transform(X).astype(np.float32)
    return X


def exact_knn(X: np.ndarray, n_neighbors: int, block_rows: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact Euclidean ``n_neighbors`` nearest neighbours of every row, the row itself included.

    Returns ``(indices int32, distances float32)`` of shape (n, n_neighbors), each row sorted by
    distance and then by index: the layout of umap-learn's own search (which gives a point's own
    entry zero weight wherever it sits, so exact duplicates may come before it).

    Brute force, ``block_rows`` rows at a time: squared distances from one float32 matrix product
    of the centred data (BLAS, multi-threaded), the ``n_neighbors`` smallest per row, then their
    distances recomputed exactly in float64 and sorted. About 1.5 times less CPU than scikit-learn's
    brute-force search, which multiplies in float64; the same neighbours on the corpus features.
    The result does not depend on ``block_rows``, and is deterministic for a given machine and BLAS
    thread count (in the float32 product, only near-ties at the k-th place could resolve otherwise).
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    n = len(X)
    k = min(int(n_neighbors), n)
    centred = X - X.mean(axis=0, dtype=np.float64).astype(np.float32)  # smaller norms: less cancellation
    norms = np.einsum("ij,ij->i", centred, centred)
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        rows = np.arange(stop - start)
        squared = centred[start:stop] @ centred.T
        squared *= -2.0
        squared += norms[None, :]
        squared += norms[start:stop, None]
        squared[rows, rows + start] = -np.inf  # a point is its own nearest neighbour
        candidates = np.argpartition(squared, k - 1, axis=1)[:, :k]
        own = X[start:stop].astype(np.float64)
        exact = np.empty(candidates.shape)
        for j in range(k):
            exact[:, j] = np.sqrt(((X[candidates[:, j]] - own) ** 2).sum(axis=1))
        order = np.lexsort((candidates, exact), axis=1)
        indices[start:stop] = np.take_along_axis(candidates, order, axis=1)
        distances[start:stop] = np.take_along_axis(exact, order, axis=1)
    return indices, distances


_KNN_MEMO: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
_KNN_MEMO_SIZE = 4


def _memo_exact_knn(X: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact_knn`, remembered for the last few (input, ``n_neighbors``) pairs of this process."""
    key = (_digest(X), n_neighbors)
    if key not in _KNN_MEMO:
        while len(_KNN_MEMO) >= _KNN_MEMO_SIZE:
            _KNN_MEMO.pop(next(iter(_KNN_MEMO)))
        _KNN_MEMO[key] = exact_knn(X, n_neighbors)
    indices, distances = _KNN_MEMO[key]
    return indices.copy(), distances.copy()  # umap-learn writes into the graph it is given


def _digest(X: np.ndarray) -> str:
    """sha256 of a C-contiguous float32 array's dtype, shape and bytes."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    digest = hashlib.sha256(f"{X.dtype.str}{X.shape}".encode())
    digest.update(memoryview(X).cast("B"))
    return digest.hexdigest()


def embed(X: np.ndarray, method: Method = "umap", seed: int | None = 0, **params: Any) -> np.ndarray:
    """Embed the rows of ``X`` in two dimensions.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Feature vectors, e.g. the paper's flattened mel spectrograms in dB. Converted to float32.
    method : {"umap", "tsne", "pca"}
        ``"umap"``: umap-learn with its defaults (the paper's setting) unless parameters are given.
        ``"tsne"``: scikit-learn's Barnes-Hut t-SNE (perplexity 30, PCA initialisation, automatic
        learning rate) on the first 50 principal components. ``"pca"``: the first two principal
        components (no randomness in effect).
    seed : int or None
        ``random_state`` of the estimator. The same ``X``, method, parameters and seed give the same
        embedding. ``None`` lets UMAP run in parallel, without reproducibility.
    **params
        Estimator parameters (for UMAP e.g. ``n_neighbors``, ``min_dist``, ``n_epochs``; for t-SNE e.g.
        ``perplexity``, ``max_iter``) and the wrapper's options:
        ``standardize`` (bool, default False: raw values, as in the paper),
        ``pca_components`` (int or None; default 50 for t-SNE, None otherwise),
        ``knn`` (UMAP only: ``"exact"``, default, or ``"nndescent"``; see the module notes).

    Returns
    -------
    Z : array of shape (n_samples, 2), float32
    """
    wrapper, estimator = _split_params(method, params)
    X = _prepare(X, wrapper["standardize"], wrapper.get("pca_components"), seed)
    if method == "pca":
        from sklearn.decomposition import (
            PCA,  # deferred: scikit-learn is slow to import; only the embedding scores need it
        )

        return PCA(n_components=2, random_state=seed, **estimator).fit_transform(X).astype(np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE  # deferred: scikit-learn is slow to import; only the embedding scores need it

        tsne = TSNE(n_components=2, random_state=seed, **estimator)
        return tsne.fit_transform(X).astype(np.float32)

    UMAP = import_umap()
    n_neighbors = int(estimator["n_neighbors"])
    if wrapper["knn"] == "exact" and len(X) > n_neighbors:
        estimator["precomputed_knn"] = _memo_exact_knn(X, n_neighbors)
    reducer = UMAP(n_components=2, random_state=seed, n_jobs=1 if seed is not None else -1, **estimator)
    with warnings.catch_warnings():
        # A precomputed graph has no search index, so umap-learn warns that `transform` is unavailable.
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        return reducer.fit_transform(X).astype(np.float32)


def _package_versions(method: str) -> dict[str, str]:
    found = {}
    for name in _PACKAGES[method]:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found


def cache_key(X: np.ndarray, method: Method, seed: int, **params: Any) -> str:
    """The cache key of an embedding: a hash of ``X``'s bytes, dtype and shape, the resolved
    parameters (defaults filled in, so spelling a default out does not miss the cache), the seed and
    the versions of the libraries that compute it."""
    wrapper, estimator = _split_params(method, params)
    config = {"method": method, "seed": seed, "wrapper": wrapper, "estimator": estimator,
              "versions": _package_versions(method)}  # fmt: skip
    digest = hashlib.sha256(_digest(X).encode())
    digest.update(json.dumps(config, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:24]


def cache_file(X: np.ndarray, method: Method, seed: int, **params: Any) -> Path:
    """Where :func:`embed_cached` stores this embedding."""
    return cache_dir("embeddings") / f"{method}-{cache_key(X, method, seed, **params)}.npy"


def embed_cached(X: np.ndarray, method: Method = "umap", seed: int = 0, **params: Any) -> np.ndarray:
    """:func:`embed`, stored as ``.npy`` under ``cache_dir("embeddings")``; later calls load it.

    The key covers ``X``'s bytes and every parameter (see :func:`cache_key`). The file is written
    atomically, so an interrupted run never leaves a truncated embedding. ``seed`` must be an
    integer: an unseeded embedding is not reproducible and is not cached.
    """
    if seed is None:
        raise ValueError("embed_cached needs an integer seed: an unseeded embedding cannot be reused")
    target = cache_file(X, method, seed, **params)
    if target.is_file():
        try:
            return np.load(target)
        except (OSError, ValueError, EOFError):
            target.unlink(missing_ok=True)  # unreadable: recompute
    Z = embed(X, method, seed, **params)
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, Z)
    return Z
