"""Statistics for the baselines' results: fold summaries, paired model comparisons and error analysis.

With 8 cross-validation folds, every summary is small-sample statistics. The paper printed
``np.mean`` and ``np.std`` over folds (paper-facts §4.4); ``np.std`` is the *population* SD
(``ddof=0``), which is smaller than the sample SD by a factor ``sqrt(7/8)`` for 8 folds.
:func:`mean_sd_ci` reports both, with a t-based confidence interval of the mean.

Folds are shared between models (the same test speakers), so two models are compared fold by fold
(:func:`paired_comparison`): the paired t-test on the per-fold differences, and the Wilcoxon
signed-rank test, which does not assume normal differences. With 8 folds the smallest two-sided exact
Wilcoxon p-value is 2/2^8 = 0.0078. Folds share training speakers, so the differences are not
independent and both tests are somewhat optimistic (Nadeau and Bengio, 2003); they are descriptive here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from spoken100.data.inputs import targets

#: The confidence level of every interval chapter 4 prints (t intervals over folds, Wilson and
#: normal intervals over clips), unless a caller asks for another.
CONFIDENCE = 0.95


def mean_sd_ci(values: Iterable[float], confidence: float = CONFIDENCE) -> pd.Series:
    """Mean, SDs and a t-based confidence interval of the mean of ``values`` (e.g. fold accuracies).

    Returns a Series with ``n``, ``mean``, ``sd_population`` (``ddof=0``, what the paper printed),
    ``sd_sample`` (``ddof=1``), ``sem`` (sample SD / sqrt(n)), ``ci_low`` and ``ci_high`` (mean
    -/+ t quantile x sem, ``n - 1`` degrees of freedom) and ``confidence``. NaN values are dropped;
    with fewer than two values the sample SD and the interval are NaN.
    """
    x = np.asarray(list(values), dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    mean = float(np.mean(x)) if n else float("nan")
    sd_pop = float(np.std(x, ddof=0)) if n else float("nan")
    sd_sample = float(np.std(x, ddof=1)) if n > 1 else float("nan")
    sem = sd_sample / np.sqrt(n) if n > 1 else float("nan")
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * sem) if n > 1 else float("nan")
    return pd.Series({"n": n, "mean": mean, "sd_population": sd_pop, "sd_sample": sd_sample, "sem": sem,
                      "ci_low": mean - half, "ci_high": mean + half, "confidence": confidence})  # fmt: skip


def _paired(table: pd.DataFrame, a: str, b: str, by: str, value: str, pair_on: str) -> pd.DataFrame:
    for column in (by, value, pair_on):
        if column not in table.columns:
            raise KeyError(f"the table has no column {column!r}")
    rows = table[table[by].isin([a, b])]
    duplicated = rows.duplicated([by, pair_on])
    if duplicated.any():
        raise ValueError(
            f"several rows per ({by}, {pair_on}); filter the table to one task, protocol and setting first"
        )
    wide = rows.pivot(index=pair_on, columns=by, values=value)
    for name in (a, b):
        if name not in wide.columns:
            raise KeyError(f"no rows with {by} == {name!r}")
    return wide[[a, b]].dropna()


def paired_comparison(
    table: pd.DataFrame,
    a: str,
    b: str,
    *,
    by: str = "model",
    value: str = "accuracy",
    pair_on: str = "fold",
    confidence: float = CONFIDENCE,
) -> pd.Series:
    """Compare ``a`` and ``b`` (values of ``table[by]``) fold by fold on ``table[value]``.

    table: one row per (``by``, ``pair_on``), e.g. :func:`~spoken100.baselines.experiment.results_table`
        filtered to one task and protocol. Folds missing for either side are left out.

    Returns a Series: ``a``, ``b``, ``n`` (paired folds), ``mean_a``, ``mean_b``, ``mean_difference``
    (a - b), ``sd_difference`` (sample SD), ``ci_low``/``ci_high`` (t interval of the mean difference),
    ``t_statistic`` and ``t_pvalue`` (paired t-test, two-sided), ``wilcoxon_statistic`` and
    ``wilcoxon_pvalue`` (signed-rank test, two-sided; NaN when every difference is zero), and
    ``a_wins`` (folds where a > b).
    """
    wide = _paired(table, a, b, by, value, pair_on)
    diff = (wide[a] - wide[b]).to_numpy(dtype=float)
    summary = mean_sd_ci(diff, confidence)
    n = len(diff)
    t_stat = t_p = w_stat = w_p = float("nan")
    if n > 1 and np.any(diff != diff[0]):
        result = sps.ttest_rel(wide[a], wide[b])
        t_stat, t_p = float(result.statistic), float(result.pvalue)
    if n > 0 and np.any(diff != 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = sps.wilcoxon(diff)
                w_stat, w_p = float(result.statistic), float(result.pvalue)
            except ValueError:
                pass
    return pd.Series({
        "a": a, "b": b, "n": n, "mean_a": float(wide[a].mean()), "mean_b": float(wide[b].mean()),
        "mean_difference": summary["mean"], "sd_difference": summary["sd_sample"],
        "ci_low": summary["ci_low"], "ci_high": summary["ci_high"], "confidence": confidence,
        "t_statistic": t_stat, "t_pvalue": t_p, "wilcoxon_statistic": w_stat, "wilcoxon_pvalue": w_p,
        "a_wins": int(np.sum(diff > 0)),
    })  # fmt: skip


def confusion(y_true: Iterable, y_pred: Iterable, labels: Iterable) -> pd.DataFrame:
    """Confusion counts: rows the true label, columns the predicted one, both in ``labels`` order.

    Pairs whose true or predicted label is not in ``labels`` are not counted (as in scikit-learn), so
    the row sums are the clips predicted as one of ``labels``.
    """
    labels = list(labels)
    position = {label: i for i, label in enumerate(labels)}
    t = pd.Series(list(y_true)).map(position)
    p = pd.Series(list(y_pred)).map(position)
    if len(t) != len(p):
        raise ValueError(f"{len(t)} true labels but {len(p)} predictions")
    keep = t.notna() & p.notna()
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(counts, (t[keep].astype(int).to_numpy(), p[keep].astype(int).to_numpy()), 1)
    return pd.DataFrame(counts, index=pd.Index(labels, name="true"), columns=pd.Index(labels, name="predicted"))


def most_confused_pairs(
    cm: pd.DataFrame | np.ndarray, labels: Sequence | None = None, k: int = 10, *, symmetric: bool = False
) -> pd.DataFrame:
    """The ``k`` largest off-diagonal cells of a confusion matrix.

    cm: counts, rows true and columns predicted (:func:`confusion`); labels: its labels (default: the
        DataFrame's index, or 0..n-1).
    symmetric: count a pair {x, y} in both directions (x heard as y, and y as x).

    Returns columns ``true``, ``predicted``, ``count`` and ``rate`` (count / clips of the true label)
    or, when ``symmetric``, ``a``, ``b``, ``count``, ``a_as_b`` and ``b_as_a``; largest counts first,
    zero counts left out.
    """
    if isinstance(cm, pd.DataFrame):
        labels = list(cm.index) if labels is None else list(labels)
        counts = cm.to_numpy()
    else:
        counts = np.asarray(cm)
        labels = list(range(len(counts))) if labels is None else list(labels)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] != len(labels):
        raise ValueError(f"cm must be square with one row per label, not {counts.shape} for {len(labels)} labels")
    rows = []
    n = len(labels)
    totals = counts.sum(axis=1)
    for i in range(n):
        for j in range(i + 1 if symmetric else 0, n):
            if i == j:
                continue
            if symmetric:
                rows.append({"a": labels[i], "b": labels[j], "count": int(counts[i, j] + counts[j, i]),
                             "a_as_b": int(counts[i, j]), "b_as_a": int(counts[j, i])})  # fmt: skip
            else:
                rate = counts[i, j] / totals[i] if totals[i] else float("nan")
                rows.append({"true": labels[i], "predicted": labels[j], "count": int(counts[i, j]), "rate": rate})
    columns = ["a", "b", "count", "a_as_b", "b_as_a"] if symmetric else ["true", "predicted", "count", "rate"]
    table = pd.DataFrame(rows, columns=columns)
    table = table[table["count"] > 0].sort_values("count", ascending=False, kind="stable")
    return table.head(k).reset_index(drop=True)


def decade_label(number: int) -> str:
    """The decade of a number 0-99 as a label: ``"0-9"``, ``"10-19"``, ..., ``"90-99"``."""
    start = (int(number) // 10) * 10
    return f"{start}-{start + 9}"


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion (sensible near 0 and 1, unlike the normal interval)."""
    if n == 0:
        return float("nan"), float("nan")
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def seed_spread(results: Sequence, replicates: Sequence, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per model and task: how far the test accuracy moves between seeds, beside the clip interval's width.

    results: the build's runs; replicates: the same runs retrained with other seeds
    (:func:`spoken100.baselines.experiment.seed_replicates`). Each replicated run is matched with the
    build's run of the same model, task, fold and protocol, and every seed's test accuracy at its
    validation-chosen epoch is listed (``accuracies``, in the order of ``seeds``). ``spread_points``
    is max - min in percentage points; ``clip_interval_points`` the width of the build's run's Wilson
    interval over its test clips; ``mean``, ``ci_low``, ``ci_high`` a t interval over the seeds
    (:func:`mean_sd_ci`). A spread wider than the clip interval means a single run's interval
    understates how far a rerun with another seed could land.
    """
    built = {(r.spec.model, r.spec.task, r.spec.fold.fold, r.spec.protocol): r for r in results}
    groups: dict[tuple, list] = {}
    for replicate in replicates:
        key = (replicate.spec.model, replicate.spec.task, replicate.spec.fold.fold, replicate.spec.protocol)
        if key not in built:
            raise ValueError(f"replicate {key} has no run of the build to compare with")
        groups.setdefault(key, [built[key]]).append(replicate)
    rows = []
    for (model, task, fold, protocol), runs in groups.items():
        accuracies = [float(r.reported_accuracy) for r in runs]
        n = len(runs[0].test_index)
        low, high = wilson_interval(int(round(accuracies[0] * n)), n, confidence)
        summary = mean_sd_ci(accuracies, confidence)
        rows.append({"model": model, "task": task, "fold": fold, "protocol": protocol,
                     "seeds": [int(r.spec.seed) for r in runs], "accuracies": accuracies,
                     "min": min(accuracies), "max": max(accuracies),
                     "spread_points": 100 * (max(accuracies) - min(accuracies)),
                     "clip_interval_points": 100 * (high - low), "mean": summary["mean"],
                     "ci_low": summary["ci_low"], "ci_high": summary["ci_high"]})  # fmt: skip
    return pd.DataFrame(rows, columns=["model", "task", "fold", "protocol", "seeds", "accuracies", "min", "max",
                                       "spread_points", "clip_interval_points", "mean", "ci_low", "ci_high"])  # fmt: skip


def accuracy_by(table: pd.DataFrame, column: str | Sequence[str], confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Accuracy per group of a prediction table (per language, per decade of the number, per gender, ...).

    table: one row per prediction with either a boolean ``correct`` column or ``y_true`` and ``y_pred``,
        plus the grouping column(s); e.g. :func:`prediction_table`. ``"decade"`` is derived from
        ``number`` (see :func:`decade_label`) when the table has no such column.
    column: one column name or several.

    Returns one row per group with ``n``, ``correct``, ``accuracy`` and a Wilson interval
    (``ci_low``, ``ci_high``). Clips from several folds are pooled; a per-fold view is
    ``accuracy_by(table, ["fold", column])``.
    """
    columns = [column] if isinstance(column, str) else list(column)
    data = table.copy()
    if "correct" not in data.columns:
        if not {"y_true", "y_pred"} <= set(data.columns):
            raise KeyError("the table needs a 'correct' column, or 'y_true' and 'y_pred'")
        data["correct"] = data["y_true"].to_numpy() == data["y_pred"].to_numpy()
    if "decade" in columns and "decade" not in data.columns:
        if "number" not in data.columns:
            raise KeyError("'decade' is derived from a 'number' column, which the table lacks")
        data["decade"] = pd.Categorical(
            data["number"].map(decade_label), categories=[decade_label(d * 10) for d in range(10)], ordered=True
        )
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise KeyError(f"the table has no column(s) {', '.join(missing)}")
    grouped = data.groupby(columns, observed=True, sort=True)["correct"].agg(n="size", correct="sum").reset_index()
    grouped["correct"] = grouped["correct"].astype(int)
    grouped["accuracy"] = grouped["correct"] / grouped["n"]
    intervals = [wilson_interval(c, n, confidence) for c, n in zip(grouped["correct"], grouped["n"], strict=True)]
    grouped["ci_low"] = [lo for lo, _ in intervals]
    grouped["ci_high"] = [hi for _, hi in intervals]
    return grouped


def one_reading(predictions: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`prediction_table` that count each test clip once: for every model, task
    and fold, the honest run's when there is one (epochs chosen on validation speakers), else the
    paper-protocol run's.

    A profile that trains both protocols predicts every test clip twice, once at an epoch the test
    clips chose; pooling both would count clips twice and mix in the optimistic reading.
    """
    if "protocol" not in predictions or predictions.empty:
        return predictions
    keys = [k for k in ("model", "task", "fold") if k in predictions]
    honest = predictions.protocol == "honest"
    has_honest = honest.groupby([predictions[k] for k in keys]).transform("any") if keys else honest.any()
    return predictions[honest | ~has_honest]


def prediction_table(results: Sequence, index: pd.DataFrame, criterion: str | None = None) -> pd.DataFrame:
    """One row per test clip and run: the clip's index row, ``y_true``, ``y_pred`` and ``correct``.

    results: :class:`~spoken100.baselines.train.RunResult` objects of runs trained on ``index`` (in the
        row order the training arrays had).
    criterion: ``"best_test"`` or ``"best_val"``; default each run's own protocol's (paper: best test
        epoch; honest: best validation epoch).

    Adds ``model``, ``task``, ``protocol`` and ``fold`` columns, so the table feeds :func:`accuracy_by`.
    """

    frames = []
    labels_by_task: dict[str, np.ndarray] = {}
    for result in results:
        spec = result.spec
        chosen = criterion or ("best_test" if spec.protocol == "paper" else "best_val")
        if spec.task not in labels_by_task:
            labels_by_task[spec.task] = targets(index, spec.task)
        rows = np.asarray(result.test_index)
        frame = index.iloc[rows].reset_index(drop=True)
        frame.insert(0, "fold", spec.fold.fold)
        frame.insert(0, "protocol", spec.protocol)
        frame.insert(0, "task", spec.task)
        frame.insert(0, "model", spec.model)
        frame["y_true"] = labels_by_task[spec.task][rows]
        frame["y_pred"] = np.asarray(result.test_predictions[chosen])
        frame["correct"] = frame["y_true"] == frame["y_pred"]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
