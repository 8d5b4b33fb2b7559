"""The chapter's follow-up studies on trained runs: synthetic to real, noise, padding instead of resampling.

Each study reuses a cross-validation run (same fold, same settings) and changes one thing, so the
difference it reports is caused by that thing alone. New training runs are ordinary
:func:`~spoken100.baselines.train.train_run` artefacts whose ``data_key`` names the change, so
they are cached and resumable like every other run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from spoken100.baselines.augment import AugmentParams, augmented_inputs
from spoken100.baselines.models import BASELINES
from spoken100.baselines.robustness import inputs_pad_crop, noisy_inputs
from spoken100.baselines.train import RunResult, data_key, load_model, predict, train_run
from spoken100.data.inputs import corpus_inputs, targets
from spoken100.data.memo import memoize


def find_run(results: Sequence[RunResult], model: str, task: str, protocol: str = "honest") -> RunResult | None:
    """The first run (lowest fold) of ``model`` on ``task`` under ``protocol``, or ``None``."""
    hits = [r for r in results if (r.spec.model, r.spec.task, r.spec.protocol) == (model, task, protocol)]
    return min(hits, key=lambda r: r.spec.fold.fold) if hits else None


def best_model(results_table: pd.DataFrame, task: str) -> str:
    """The model the follow-up studies reuse: highest mean *validation* accuracy of its honest runs.

    results_table: :func:`spoken100.baselines.experiment.results_table` (one row per run). The test
    speakers never take part in the choice, so the studies that then look at this model's test
    accuracy are not biased by it. Without honest runs (a profile that trains only the paper's
    protocol) there are no validation speakers, and the choice falls back to the paper's rule
    (test accuracy), which the chapter then says.
    """
    rows = results_table[results_table.task == task]
    if rows.empty:
        raise ValueError(f"no results for the {task} task")
    honest = rows[(rows.protocol == "honest") & rows.val_accuracy.notna()]
    column, rows = ("val_accuracy", honest) if len(honest) else ("accuracy", rows)
    means = rows.groupby("model", sort=False)[column].mean()
    return str(means.sort_values(ascending=False, kind="stable").index[0])


def selection_rule(results_table: pd.DataFrame, task: str) -> str:
    """How :func:`best_model` chose on ``task``, as the chapter and the comparison page print it."""
    rows = results_table[results_table.task == task]
    if rows.empty:
        raise ValueError(f"no results for the {task} task")
    if ((rows.protocol == "honest") & rows.val_accuracy.notna()).any():
        return "validation accuracy (honest protocol)"
    return "test accuracy (the paper's rule: no honest run recorded a validation accuracy)"


def train_augmented(
    corpus,
    base: RunResult,
    copies: int = 1,
    seed: int = 0,
    languages: Sequence[str] = ("english",),
    params: AugmentParams = AugmentParams(),
    progress: bool = True,
) -> RunResult:
    """Retrain ``base``'s run with ``copies`` augmented copies of its training clips in ``languages`` added.

    Validation and test speakers are untouched (only the run's own training speakers are augmented),
    so the result is comparable with ``base`` on the same test fold.
    """
    spec = base.spec
    kind = BASELINES[spec.model].input_kind
    index = corpus.index
    X = corpus_inputs(corpus.root, index, kind, progress=progress)
    y = targets(index, spec.task)
    speakers = index["speaker"].to_numpy(dtype=str)
    chosen = np.flatnonzero(index["speaker"].isin(spec.train_speakers) & index["language"].isin(languages))
    extra = augmented_inputs(corpus.root, index.iloc[chosen], kind, copies, seed, params=params, progress=progress)
    X_all = np.concatenate([X, extra.reshape(-1, *X.shape[1:])])
    y_all = np.concatenate([y, np.tile(y[chosen], copies)])
    speakers_all = np.concatenate([speakers, np.tile(speakers[chosen], copies)])
    key = data_key(spec.data_key, "augmented", copies, seed, list(languages), asdict(params))
    return train_run(replace(spec, data_key=key), X_all, y_all, speakers_all, progress=progress)


@memoize
def noise_study(
    corpus,
    result: RunResult,
    snrs: Sequence[float] = (20, 10, 0),
    colors: Sequence[str] = ("white", "pink"),
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Accuracy of ``result``'s model on its test fold with white and pink noise added at each SNR."""
    spec = result.spec
    kind = BASELINES[spec.model].input_kind
    rows_index = corpus.index.iloc[result.test_index]
    truth = targets(rows_index, spec.task)
    model = load_model(result)
    rows = [{"noise": "none", "snr_db": np.inf, "accuracy": float(np.mean(result.test_predictions[
        "best_test" if spec.protocol == "paper" else "best_val"] == truth))}]  # fmt: skip
    for color in colors:
        for snr in snrs:
            X = noisy_inputs(corpus.root, rows_index, kind, color, snr, seed, progress=progress)
            accuracy = float(np.mean(predict(model, X).argmax(1) == truth))
            rows.append({"noise": color, "snr_db": float(snr), "accuracy": accuracy})
    return pd.DataFrame(rows).assign(model=BASELINES[spec.model].title, task=spec.task, fold=spec.fold.fold)


def train_pad_crop(corpus, base: RunResult, seconds: float = 1.0, progress: bool = True) -> RunResult:
    """Retrain ``base``'s run on clips padded or cropped to ``seconds`` at a true 8 kHz instead of resampled."""
    spec = base.spec
    kind = BASELINES[spec.model].input_kind
    index = corpus.index
    X = inputs_pad_crop(corpus.root, index, kind, seconds, progress=progress)
    key = data_key(spec.data_key, "pad-crop", seconds)
    return train_run(replace(spec, data_key=key), X, targets(index, spec.task),
                     index["speaker"].to_numpy(dtype=str), progress=progress)  # fmt: skip
