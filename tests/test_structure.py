"""Structure scores on synthetic data whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from spoken100.embeddings import structure


@pytest.fixture(scope="module")
def blobs():
    """Four separated Gaussian blobs (400 points, 10 dims), a blob label and an unrelated random label."""
    rng = np.random.default_rng(1)
    centres = rng.normal(scale=8.0, size=(4, 10))
    blob = np.repeat(np.arange(4), 100)
    X = (centres[blob] + rng.normal(size=(len(blob), 10))).astype(np.float32)
    noise = rng.permutation(np.repeat(np.arange(4), 100))
    return X, blob, noise


def test_knn_accuracy_high_for_blobs_chance_for_noise(blobs):
    X, blob, noise = blobs
    assert structure.knn_accuracy(X, blob) > 0.97
    assert abs(structure.knn_accuracy(X, noise) - 0.25) < 0.08
    assert structure.chance_level(noise) == 0.25
    assert structure.chance_level(["a", "a", "a", "b"]) == 0.75


def test_silhouette_high_for_blobs_near_zero_for_noise(blobs):
    X, blob, noise = blobs
    assert structure.silhouette(X, blob) > 0.5
    assert abs(structure.silhouette(X, noise)) < 0.05
    assert abs(structure.silhouette(X, noise, sample_size=200) - structure.silhouette(X, noise)) < 0.05
    assert np.isnan(structure.silhouette(X, np.zeros(len(X))))


def test_trustworthiness_in_unit_interval(blobs):
    X, _, _ = blobs
    rng = np.random.default_rng(0)
    good = structure.trustworthiness(X, X[:, :2] + 0.0, sample_size=None)
    scrambled = structure.trustworthiness(X, rng.normal(size=(len(X), 2)), sample_size=200)
    assert 0.0 <= scrambled < good <= 1.0
    assert structure.trustworthiness(X, X, sample_size=None) == pytest.approx(1.0)


def test_group_aware_knn_differs_when_labels_follow_groups():
    """Each of 20 'speakers' sits in its own cluster; the label is a property of the speaker (like gender).

    Plain folds find the same speaker's clips as neighbours and score ~1; speaker-independent folds
    must generalise to unseen speakers, whose clusters carry no information about the label: ~chance.
    """
    rng = np.random.default_rng(2)
    speaker = np.repeat(np.arange(20), 20)
    X = rng.normal(scale=10.0, size=(20, 8))[speaker] + rng.normal(size=(len(speaker), 8))
    label = speaker % 2
    plain = structure.knn_accuracy(X, label)
    grouped = structure.knn_accuracy(X, label, groups=speaker)
    assert plain > 0.95
    assert grouped < 0.8
    with pytest.warns(UserWarning, match="undefined"):
        assert np.isnan(structure.knn_accuracy(X, speaker, groups=speaker))


def test_structure_table(blobs):
    X, blob, noise = blobs
    groups = np.arange(len(X)) % 10
    Z = X[:, :2].copy()
    table = structure.structure_table({"features": X, "first two": Z}, X, {"blob": blob, "noise": noise},
                                      groups=groups, sample_size=300)  # fmt: skip
    assert list(table.columns) == ["space", "label", "n_classes", "knn_accuracy", "knn_accuracy_same_groups",
                                   "chance", "silhouette", "trustworthiness"]  # fmt: skip
    assert len(table) == 4
    row = table.set_index(["space", "label"])
    assert row.loc[("features", "blob"), "knn_accuracy"] > 0.97
    assert row.loc[("features", "noise"), "knn_accuracy"] < 0.4
    assert np.isnan(row.loc[("features", "blob"), "trustworthiness"])
    assert 0.0 <= row.loc[("first two", "blob"), "trustworthiness"] <= 1.0
    # The table's scores are those of the single functions (same folds and subsample).
    assert row.loc[("features", "blob"), "knn_accuracy"] == structure.knn_accuracy(X, blob, groups=groups)
    assert row.loc[("features", "noise"), "knn_accuracy_same_groups"] == structure.knn_accuracy(X, noise)


def test_sweep_returns_scores_and_embeddings(blobs):
    X, blob, _ = blobs
    grid = {"n_neighbors": [5, 15], "min_dist": [0.1]}
    result = structure.sweep(X[:200], grid, {"blob": blob[:200]}, seed=0, progress=False, n_epochs=30,
                             sample_size=None)  # fmt: skip
    scores, embeddings, swept = result
    assert swept == grid
    assert set(embeddings) == {(5, 0.1), (15, 0.1)}
    assert all(Z.shape == (200, 2) for Z in embeddings.values())
    assert list(scores.columns[:3]) == ["n_neighbors", "min_dist", "label"]
    assert len(scores) == 2 and (scores.knn_accuracy > 0.9).all()

    import matplotlib

    matplotlib.use("Agg")
    from spoken100.embeddings.plots import sweep_grid

    fig = sweep_grid(result, blob[:200], label="blob")
    assert len(fig.axes) == 2
    assert "knn accuracy" in fig.axes[0].get_title()
