"""Embeddings: determinism, caching, parameter handling, and the figures drawn from them."""

from __future__ import annotations

import sys
import types

import matplotlib
import numpy as np
import pytest

from spoken100.data.paths import cache_dir
from spoken100.embeddings import embed as embedding

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def blobs():
    """Four well-separated Gaussian blobs in 20 dimensions (240 points)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=10.0, size=(4, 20))
    labels = np.repeat(np.arange(4), 60)
    X = (centres[labels] + rng.normal(size=(len(labels), 20))).astype(np.float32)
    return X, labels


@pytest.fixture(scope="module")
def umap_blobs(blobs):
    return embedding.embed(blobs[0], "umap", seed=0)


def test_umap_is_deterministic(blobs, umap_blobs):
    Z = embedding.embed(blobs[0], "umap", seed=0)
    assert Z.shape == (240, 2) and Z.dtype == np.float32
    np.testing.assert_array_equal(Z, umap_blobs)


def test_umap_seed_changes_the_embedding(blobs, umap_blobs):
    assert not np.array_equal(embedding.embed(blobs[0], "umap", seed=1), umap_blobs)


def test_umap_parameters_reach_umap_learn(blobs, monkeypatch):
    """Paper defaults unless overridden; a fixed seed means n_jobs=1; knn picks the neighbour search."""
    seen = []

    class FakeUMAP:
        def __init__(self, **kwargs):
            seen.append(kwargs)

        def fit_transform(self, X):
            return np.zeros((len(X), 2))

    monkeypatch.setattr(embedding, "import_umap", lambda: FakeUMAP)
    embedding.embed(blobs[0], "umap", seed=3)
    embedding.embed(blobs[0], "umap", seed=None, knn="nndescent", n_neighbors=30, min_dist=0.5)
    first, second = seen
    assert (first["n_neighbors"], first["min_dist"], first["metric"]) == (15, 0.1, "euclidean")
    assert (first["random_state"], first["n_jobs"]) == (3, 1)
    assert first["precomputed_knn"][0].shape == (240, 15)
    assert (second["n_neighbors"], second["min_dist"], second["n_jobs"]) == (30, 0.5, -1)
    assert "precomputed_knn" not in second


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_other_methods_are_deterministic(blobs, method):
    from threadpoolctl import threadpool_limits

    params = {"max_iter": 250, "perplexity": 10} if method == "tsne" else {}
    with threadpool_limits(1):  # OpenMP threads spin-waiting on a busy 2-core machine make tiny t-SNE runs slow
        first = embedding.embed(blobs[0], method, seed=0, **params)
        assert first.shape == (240, 2)
        np.testing.assert_array_equal(first, embedding.embed(blobs[0], method, seed=0, **params))
    # ... and it is an embedding of these points: each point's 10 nearest neighbours share its blob.
    labels = blobs[1]
    indices, _ = embedding.exact_knn(first, 11)
    assert (labels[indices[:, 1:]] == labels[:, None]).mean() > 0.9  # 0.25 for a random or constant map


def test_pca_is_the_projection_on_the_two_leading_principal_axes(blobs):
    X = blobs[0].astype(np.float64)
    centred = X - X.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2]
    expected = centred @ axes[:2].T
    Z = embedding.embed(blobs[0], "pca", seed=0)
    signs = np.sign((Z * expected).sum(axis=0))  # an axis' sign is arbitrary
    np.testing.assert_allclose(Z * signs, expected, atol=1e-3 * np.abs(expected).max())
    assert Z[:, 0].var() > Z[:, 1].var()
    # Standardised: the same projection of the z-scored features.
    z_scored = centred / X.std(axis=0)
    top = np.linalg.svd(z_scored, full_matrices=False)[2][:2]
    Zs = embedding.embed(blobs[0], "pca", standardize=True)
    np.testing.assert_allclose(np.abs(Zs), np.abs(z_scored @ top.T), atol=1e-3 * np.abs(Zs).max())


def test_standardize_and_bad_input(blobs):
    X = blobs[0].copy()
    X[:, 0] = 5.0  # a constant feature, like an empty mel filter
    assert np.isfinite(embedding.embed(X, "pca", standardize=True)).all()
    with pytest.raises(ValueError, match="method"):
        embedding.embed(X, "mds")
    with pytest.raises(ValueError, match="knn"):
        embedding.embed(X, "umap", knn="annoy")
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        embedding.embed(bad, "pca")


def test_exact_knn_matches_brute_force(blobs):
    X = blobs[0]
    indices, distances = embedding.exact_knn(X, 5)
    full = np.linalg.norm(X[:, None, :] - X[None, :, :], axis=2)
    np.testing.assert_array_equal(indices[:, 0], np.arange(len(X)))
    np.testing.assert_allclose(distances, np.sort(full, axis=1)[:, :5], atol=1e-3)
    np.testing.assert_array_equal(embedding.exact_knn(X, 5, block_rows=7)[0], indices)
    twins = np.vstack([X[:10], X[:1]])  # row 10 duplicates row 0: both at distance 0, ordered by index
    indices, distances = embedding.exact_knn(twins, 3)
    assert list(indices[10, :2]) == [0, 10] and list(indices[0, :2]) == [0, 10]
    assert distances[10, 1] == 0.0


def test_cache_hit_on_second_call(blobs, monkeypatch):
    X = blobs[0]
    first = embedding.embed_cached(X, "pca", seed=0)
    files = list(cache_dir("embeddings").glob("pca-*.npy"))
    assert len(files) == 1

    def fail(*args, **kwargs):
        raise AssertionError("embed() was called although the embedding is cached")

    monkeypatch.setattr(embedding, "embed", fail)
    np.testing.assert_array_equal(embedding.embed_cached(X, "pca", seed=0), first)
    # Spelling out a default is the same key; other data, seed or parameters are not.
    key = embedding.cache_key(X, "pca", 0)
    assert embedding.cache_key(X, "pca", 0, standardize=False) == key
    assert embedding.cache_key(X, "pca", 1) != key
    assert embedding.cache_key(X + 1, "pca", 0) != key
    assert embedding.cache_key(X, "umap", 0) != embedding.cache_key(X, "umap", 0, min_dist=0.5)
    with pytest.raises(ValueError, match="seed"):
        embedding.embed_cached(X, "pca", seed=None)


_FAKE_UMAP = """
try:
    import tensorflow
    SAW_TENSORFLOW = tensorflow
except ImportError:
    SAW_TENSORFLOW = None


class UMAP:
    pass
"""


def _fresh_umap_import(tmp_path, monkeypatch):
    """Make the next ``import umap`` load a stand-in that records what ``import tensorflow`` gave it."""
    (tmp_path / "umap").mkdir()
    (tmp_path / "umap" / "__init__.py").write_text(_FAKE_UMAP)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "umap", None)  # recorded, so the real module (or its absence) comes back
    monkeypatch.delitem(sys.modules, "umap")


def test_import_umap_blocks_tensorflow_only_while_importing(tmp_path, monkeypatch):
    _fresh_umap_import(tmp_path, monkeypatch)
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    monkeypatch.delitem(sys.modules, "tensorflow")  # as in a process that has not loaded TensorFlow
    UMAP = embedding.import_umap()
    assert UMAP is sys.modules["umap"].UMAP and sys.modules["umap"].__file__.startswith(str(tmp_path))
    assert sys.modules["umap"].SAW_TENSORFLOW is None  # umap-learn's `import tensorflow` failed ...
    assert "tensorflow" not in sys.modules  # ... and the block is lifted: a later import can load it
    assert embedding.import_umap() is UMAP  # already imported: returned as is


def test_import_umap_keeps_a_loaded_tensorflow(tmp_path, monkeypatch):
    _fresh_umap_import(tmp_path, monkeypatch)
    loaded = types.ModuleType("tensorflow")
    monkeypatch.setitem(sys.modules, "tensorflow", loaded)
    embedding.import_umap()
    assert sys.modules["umap"].SAW_TENSORFLOW is loaded and sys.modules["tensorflow"] is loaded


def test_umap_separates_separated_clusters(blobs, umap_blobs):
    """Each blob is a tight, distinct cluster in the embedding: every point's 10 nearest neighbours share its label,
    and the blobs' centres are further apart than their spread."""
    labels = blobs[1]
    indices, _ = embedding.exact_knn(umap_blobs, 11)
    assert (labels[indices[:, 1:]] == labels[:, None]).all()
    centres = np.stack([umap_blobs[labels == k].mean(axis=0) for k in range(4)])
    spread = max(np.linalg.norm(umap_blobs[labels == k] - centres[k], axis=1).max() for k in range(4))
    gaps = np.linalg.norm(centres[:, None] - centres[None, :], axis=2)[np.triu_indices(4, 1)]
    assert gaps.min() > 2 * spread


def test_scatter_figures(blobs, umap_blobs):
    from matplotlib.figure import Figure

    from spoken100.embeddings import plots as plots_embedding

    labels = blobs[1]
    speakers = np.array([f"speaker {i % 32:02d}" for i in range(len(labels))])
    for values in (labels, speakers, np.arange(len(labels)) % 100):
        fig = plots_embedding.scatter(umap_blobs, values, label="label")
        assert isinstance(fig, Figure)
        matplotlib.pyplot.close(fig)
    fig = plots_embedding.scatter(umap_blobs, speakers)
    assert len(fig.axes[0].get_legend().get_texts()) == 32
    matplotlib.pyplot.close(fig)
