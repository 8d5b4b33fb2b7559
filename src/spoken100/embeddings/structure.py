"""Numbers for the structure that a UMAP picture shows: how well a space separates each label.

The paper argues from pictures (UMAP coloured by language, speaker and number; paper-facts §3).
This module puts numbers next to them, for an embedding and for the original feature space alike:

* :func:`knn_accuracy` — cross-validated accuracy of a k-nearest-neighbour vote. With ``groups``
  (the speakers) the folds are speaker-independent: without them, a clip's nearest neighbours are
  mostly other clips *of the same voice*, so the score mixes "this space separates languages" with
  "this space recognises the speaker, who says every number in every language". Grouping asks
  whether the label is recognisable in voices never seen.
* :func:`silhouette` — how compact and separated the label's clusters are (-1 to 1; 0: overlapping).
* :func:`trustworthiness` — whether the embedding's neighbours were neighbours in the original space
  (0 to 1; 1: no false neighbours), i.e. whether the clusters in the picture are real.
* :func:`structure_table` — all of these for several spaces and labels, one row per (space, label).
* :func:`sweep` — the same scores over a grid of UMAP's ``n_neighbors`` x ``min_dist``, with the
  embeddings, for a small-multiples figure (:mod:`spoken100.embeddings.plots`).

Subsampling, and why: silhouette and trustworthiness need all pairwise distances, O(n^2) in time and
memory (and trustworthiness sorts them: 12,800^2 entries). The table computes both on one random
subsample (``sample_size``, default 4000 points, the same points in every space), and
trustworthiness' neighbourhoods are then those *within the subsample*: 15 neighbours among 4000
points reach about as far as 48 among 12,800, so the score describes slightly larger
neighbourhoods than UMAP's own 15. kNN accuracy always uses every point.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from tqdm import tqdm

from spoken100.data.memo import memoize
from spoken100.embeddings.embed import embed_cached

TRUST_NEIGHBORS = 15  # UMAP's default neighbourhood size


def _encode(labels: Any) -> tuple[np.ndarray, int]:
    """Labels as integer codes 0..C-1 (any hashable values), and C."""
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    return codes.ravel(), int(codes.max()) + 1 if len(codes) else 0


def chance_level(labels: Any) -> float:
    """Accuracy of always answering the most frequent label: the floor for :func:`knn_accuracy`.

    For the balanced labels of SpokeN-100 this is 1/C (0.25 for language, 0.01 for number).
    """
    codes, n_classes = _encode(labels)
    return float(np.bincount(codes, minlength=n_classes).max() / len(codes))


def _splits(n: int, groups: Any | None, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds: shuffled ``GroupKFold`` when ``groups`` are given, else shuffled ``KFold``.

    The folds do not depend on the label, so one neighbour search per fold serves every label.
    Plain (not stratified) ``KFold``: the labels here are balanced, so stratification changes little,
    and label-independent folds make the scores of different labels comparable.
    """
    from sklearn.model_selection import (  # deferred: scikit-learn is slow to import; only the embedding scores need it
        GroupKFold,
        KFold,
    )

    placeholder = np.zeros((n, 1))
    if groups is None:
        return list(KFold(n_splits, shuffle=True, random_state=seed).split(placeholder))
    groups = np.asarray(groups)
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise ValueError("groups must contain at least two distinct groups")
    folds = GroupKFold(min(n_splits, n_groups), shuffle=True, random_state=seed)
    return list(folds.split(placeholder, groups=groups))


def _fold_neighbours(Z: np.ndarray, splits, k: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each fold: (train indices, test indices, indices into train of each test point's k neighbours)."""
    from sklearn.neighbors import (
        NearestNeighbors,  # deferred: scikit-learn is slow to import; only the embedding scores need it
    )

    for train, test in splits:
        search = NearestNeighbors(n_neighbors=min(k, len(train))).fit(Z[train])
        yield train, test, search.kneighbors(Z[test], return_distance=False)


def _vote(neighbour_codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Majority vote per row; ties go to the smallest code, as in scikit-learn's KNeighborsClassifier."""
    counts = np.zeros((len(neighbour_codes), n_classes), dtype=np.int32)
    np.add.at(counts, (np.arange(len(neighbour_codes))[:, None], neighbour_codes), 1)
    return counts.argmax(axis=1)


def _accuracy(folds: list, codes: np.ndarray, n_classes: int) -> float:
    correct = seen = 0
    for train, test, neighbours in folds:
        predicted = _vote(codes[train][neighbours], n_classes)
        correct += int((predicted == codes[test]).sum())
        seen += int(np.isin(codes[test], codes[train]).sum())
    if seen == 0:
        warnings.warn(
            "no test label occurs in its training fold (the label is a function of the groups, e.g. "
            "speaker with speaker groups): group-aware kNN accuracy is undefined; returning NaN",
            stacklevel=3,
        )
        return float("nan")
    return correct / len(codes)


def knn_accuracy(
    Z: np.ndarray, labels: Any, k: int = 5, groups: Any | None = None, n_splits: int = 5, seed: int = 0
) -> float:
    """Cross-validated accuracy of a ``k``-nearest-neighbour majority vote (Euclidean) in ``Z``.

    Parameters
    ----------
    Z : array of shape (n_samples, n_dims)
        An embedding or the original features.
    labels : array-like of shape (n_samples,)
        Any hashable values (language names, speakers, numbers).
    k : int
        Number of neighbours that vote.
    groups : array-like of shape (n_samples,), optional
        E.g. the speaker of every clip. When given, the folds are ``GroupKFold``: no group is in a
        test fold and its training fold at once, so the score measures whether the label is
        recognisable in *unseen* voices. Without it, a clip's neighbours are mostly clips of the
        same voice and the score rewards recognising the speaker. When the label is a function of
        the groups (speaker labels with speaker groups), no test label was ever seen in training:
        the result is NaN, with a warning.
    n_splits : int
        Number of folds (at most the number of groups).
    seed : int
        Shuffles the fold assignment.

    Returns
    -------
    float
        Fraction of clips whose label the vote predicts; compare with :func:`chance_level`.
    """
    Z = np.asarray(Z)
    codes, n_classes = _encode(labels)
    if len(codes) != len(Z):
        raise ValueError(f"labels has {len(codes)} entries, Z has {len(Z)} rows")
    folds = list(_fold_neighbours(Z, _splits(len(Z), groups, n_splits, seed), k))
    return _accuracy(folds, codes, n_classes)


def silhouette(Z: np.ndarray, labels: Any, sample_size: int | None = None, seed: int = 0) -> float:
    """Mean silhouette coefficient of the label's clusters in ``Z`` (Euclidean), from -1 to 1.

    Near 1: every point is much closer to its own label's points than to the nearest other label's;
    near 0: the labels overlap. ``sample_size`` computes it on that many random points (the full
    computation needs all n^2 distances). Uses :func:`sklearn.metrics.silhouette_score`.
    """
    from sklearn.metrics import (
        silhouette_score,  # deferred: scikit-learn is slow to import; only the embedding scores need it
    )

    codes, n_classes = _encode(labels)
    if not 2 <= n_classes < len(codes):
        return float("nan")
    return float(silhouette_score(np.asarray(Z), codes, sample_size=sample_size, random_state=seed))


def _subsample(n: int, sample_size: int | None, seed: int) -> np.ndarray:
    if sample_size is None or sample_size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=sample_size, replace=False))


def trustworthiness(
    X: np.ndarray, Z: np.ndarray, n_neighbors: int = TRUST_NEIGHBORS, sample_size: int | None = 4000, seed: int = 0
) -> float:
    """Trustworthiness of the embedding ``Z`` of ``X`` (:func:`sklearn.manifold.trustworthiness`), 0 to 1.

    It penalises points that are among a point's ``n_neighbors`` nearest in ``Z`` but far down the
    ranking in ``X``: 1 means that the embedding invents no neighbours. The exact score needs and
    sorts the full n x n distance matrix (12,800^2 entries for the corpus), so it is computed on
    ``sample_size`` random points (``None``: all); neighbourhoods are then those within the
    subsample, i.e. somewhat larger than ``n_neighbors`` among all points.
    """
    from sklearn.manifold import (
        trustworthiness as sk_trustworthiness,  # deferred: scikit-learn is slow to import; only the embedding scores need it
    )

    X, Z = np.asarray(X), np.asarray(Z)
    if len(X) != len(Z):
        raise ValueError(f"X has {len(X)} rows, Z has {len(Z)}")
    rows = _subsample(len(X), sample_size, seed)
    n_neighbors = min(n_neighbors, (len(rows) - 1) // 2)
    return float(sk_trustworthiness(X[rows], Z[rows], n_neighbors=n_neighbors))


@memoize
def structure_table(
    spaces: Mapping[str, np.ndarray],
    X_original: np.ndarray,
    labels: Mapping[str, Any],
    groups: Any | None = None,
    k: int = 5,
    n_splits: int = 5,
    sample_size: int | None = 4000,
    seed: int = 0,
) -> pd.DataFrame:
    """Scores of every space for every label: one row per (space, label).

    Parameters
    ----------
    spaces : mapping of name to array (n_samples, n_dims)
        E.g. ``{"features": X, "UMAP": Z_umap, "t-SNE": Z_tsne, "PCA": Z_pca}``.
    X_original : array (n_samples, n_features)
        The space the embeddings were computed from (for trustworthiness).
    labels : mapping of name to array-like (n_samples,)
        E.g. ``{"language": ..., "speaker": ..., "gender": ..., "number": ...}``.
    groups : array-like, optional
        The speaker of every clip; makes ``knn_accuracy`` speaker-independent (see :func:`knn_accuracy`).
    k, n_splits, seed
        As in :func:`knn_accuracy`; the same folds serve every space and label.
    sample_size : int or None
        Points (the same ones in every space) for silhouette and trustworthiness.

    Returns
    -------
    DataFrame with columns ``space``, ``label``, ``n_classes``, ``knn_accuracy`` (speaker-independent
    when ``groups`` is given), ``knn_accuracy_same_groups`` (plain folds, only when ``groups`` is
    given), ``chance``, ``silhouette``, ``trustworthiness`` (NaN for ``X_original`` itself, which is
    trivially 1).
    """
    X_original = np.asarray(X_original)
    n = len(X_original)
    encoded = {name: _encode(values) for name, values in labels.items()}
    for name, (codes, _) in encoded.items():
        if len(codes) != n:
            raise ValueError(f"label {name!r} has {len(codes)} entries, X_original has {n} rows")
    schemes = {"knn_accuracy": _splits(n, groups, n_splits, seed)}
    if groups is not None:
        schemes["knn_accuracy_same_groups"] = _splits(n, None, n_splits, seed)
    rows = _subsample(n, sample_size, seed)

    from sklearn.metrics import (  # deferred: scikit-learn is slow to import; only the embedding scores need it
        pairwise_distances,
        silhouette_score,
    )

    original_distances = None
    records = []
    for space_name, Z in spaces.items():
        Z = np.asarray(Z)
        if len(Z) != n:
            raise ValueError(f"space {space_name!r} has {len(Z)} rows, X_original has {n}")
        is_original = Z is X_original or (Z.shape == X_original.shape and np.array_equal(Z, X_original))
        accuracies = {column: list(_fold_neighbours(Z, splits, k)) for column, splits in schemes.items()}
        distances = pairwise_distances(Z[rows])
        trust = float("nan")
        if not is_original:
            from sklearn.manifold import (
                trustworthiness as sk_trustworthiness,  # deferred: scikit-learn is slow to import; only the embedding scores need it
            )

            if original_distances is None:
                original_distances = pairwise_distances(X_original[rows])
            n_neighbors = min(TRUST_NEIGHBORS, (len(rows) - 1) // 2)
            trust = float(
                sk_trustworthiness(original_distances, Z[rows], n_neighbors=n_neighbors, metric="precomputed")
            )
        for label_name, (codes, n_classes) in encoded.items():
            record = {"space": space_name, "label": label_name, "n_classes": n_classes}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # NaN for speaker-by-speaker folds is expected
                for column, folds in accuracies.items():
                    record[column] = _accuracy(folds, codes, n_classes)
            record["chance"] = chance_level(codes)
            sub = codes[rows]
            n_sub = len(np.unique(sub))
            record["silhouette"] = (
                float(silhouette_score(distances, sub, metric="precomputed")) if 2 <= n_sub < len(sub) else float("nan")
            )
            record["trustworthiness"] = trust
            records.append(record)
    return pd.DataFrame.from_records(records)


class SweepResult(NamedTuple):
    """What :func:`sweep` returns: unpack as ``scores, embeddings, grid = sweep(...)``.

    scores: one row per (grid point, label); the grid's parameters, then the columns of :func:`structure_table`.
    embeddings: grid point (a tuple of values in the order of ``grid``) -> embedding (n, 2).
    grid: the grid that was swept, in the order given.
    """

    scores: pd.DataFrame
    embeddings: dict[tuple, np.ndarray]
    grid: dict[str, list]


def sweep(
    X: np.ndarray,
    grid: Mapping[str, Sequence],
    labels: Mapping[str, Any],
    groups: Any | None = None,
    seed: int = 0,
    progress: bool = True,
    k: int = 5,
    sample_size: int | None = 4000,
    **params: Any,
) -> SweepResult:
    """UMAP over every combination of ``grid`` (e.g. ``{"n_neighbors": [5, 15, 50], "min_dist": [0.0, 0.1, 0.5]}``).

    Every embedding goes through :func:`~spoken100.embeddings.embed.embed_cached`, so a repeated sweep
    loads them; ``params`` are further UMAP parameters shared by all points (e.g. ``knn``). Each
    embedding is scored against ``X`` with :func:`structure_table` (same folds and subsample at every
    point, so the scores are comparable along the grid).
    """
    names = list(grid)
    values = [list(grid[name]) for name in names]
    points = list(itertools.product(*values))
    embeddings: dict[tuple, np.ndarray] = {}
    tables = []
    for point in tqdm(points, desc="UMAP sweep", unit="embedding", disable=not progress):
        setting = dict(zip(names, point, strict=True))
        Z = embed_cached(X, "umap", seed, **params, **setting)
        embeddings[point] = Z
        table = structure_table({"umap": Z}, X, labels, groups, k=k, sample_size=sample_size, seed=seed)
        tables.append(table.drop(columns="space").assign(**setting))
    scores = pd.concat(tables, ignore_index=True)
    scores = scores[names + [c for c in scores.columns if c not in names]]
    return SweepResult(scores, embeddings, {name: list(v) for name, v in zip(names, values, strict=True)})
