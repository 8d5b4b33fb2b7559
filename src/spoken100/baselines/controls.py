"""Shortcut controls: how much of each task a linear classifier learns from one cheap description of a clip.

Beside the five networks, three simple classifiers are trained on the same folds, the same
training speakers and the same test speakers as the honest runs, each on one cheap description of
a clip:

* ``duration`` -- the clip's length in seconds, alone;
* ``voice`` -- the speaker's voice in that clip: Praat F0 (mean, median, SD), voiced fraction and
  formants F1-F3 (:func:`spoken100.acoustics.features.voice_features`, the measurements of chapter 2);
* ``spectrum`` -- the time-averaged log-mel spectrum of the model input (128 values), i.e. the
  network's own input with the order of the frames thrown away.

The classifier is a linear discriminant analysis (shrinkage chosen by Ledoit-Wolf, closed form) on
standardised features (missing values imputed by the training median), with no setting tuned, so
nothing is selected on any speakers.
A control far above chance shows how much of the task such a description already carries. Not all
of it is a shortcut: a clip's formants and average spectrum depend on the vowels spoken, and its
duration on the number of syllables, so those controls partly hear the word, just not the order of
its sounds. F0 and the voiced fraction describe the speaker; for the language task, a synthetic
voice that changes with the language is a true shortcut. The paper resamples every clip to 8,000 samples whatever its length, which turns a
clip's duration into a scaling of its spectrum (a long clip is squeezed, so its energy moves to
higher mel bands), so the ``spectrum`` control sees the duration too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spoken100.acoustics.features import voice_features
from spoken100.baselines.stats import wilson_interval
from spoken100.baselines.train import RunResult
from spoken100.data.corpus import Corpus
from spoken100.data.inputs import corpus_inputs, targets
from spoken100.data.tasks import chance

#: The controls, each with the features it sees (the order of the chapter's table).
CONTROLS: dict[str, str] = {
    "duration": "clip duration (1 value)",
    "voice": "Praat F0 mean/median/SD, voiced fraction, F1-F3 (7 values)",
    "spectrum": "time-averaged log-mel of the model input (128 values)",
}
VOICE_FEATURES = ("f0_mean_hz", "f0_median_hz", "f0_sd_hz", "voiced_fraction", "f1_hz", "f2_hz", "f3_hz")


def control_features(corpus: Corpus, control: str, *, n_jobs: int = -1, progress: bool = True) -> np.ndarray:
    """The ``(clips, features)`` matrix of ``control`` for every row of ``corpus.index`` (cached inputs)."""
    if control == "duration":
        return corpus.index[["duration_s"]].to_numpy(dtype=np.float64)
    if control == "voice":
        table = voice_features(corpus, n_jobs=n_jobs, progress=progress)
        return table[list(VOICE_FEATURES)].to_numpy(dtype=np.float64)
    if control == "spectrum":
        logmel = corpus_inputs(corpus.root, corpus.index, "logmel", n_jobs=n_jobs, progress=progress, mmap=True)
        return np.asarray(logmel, dtype=np.float64).mean(axis=2)
    raise ValueError(f"control must be one of {', '.join(CONTROLS)}, not {control!r}")


def fit_and_score(
    features: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, seed: int = 0
) -> np.ndarray:
    """Fit the control classifier on the ``train`` rows and return its predictions for the ``test`` rows."""
    classifier = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    )
    classifier.fit(features[train], y[train])
    return classifier.predict(features[test])


def controls_table(
    corpus: Corpus,
    results: Sequence[RunResult],
    tasks: Sequence[str],
    controls: Sequence[str] = tuple(CONTROLS),
    *,
    seed: int = 0,
    n_jobs: int = -1,
    progress: bool = True,
) -> pd.DataFrame:
    """Every control's test accuracy on every fold of the honest runs, with a Wilson 95 % interval.

    The training and test speakers of each (task, fold) are those of the honest runs in ``results``
    (the networks' own split, validation speakers left out of training). Returns one row per
    (task, control, fold): ``task, control, features, fold, accuracy, low, high, n, chance``.
    """
    speakers = corpus.index.speaker.to_numpy()
    splits = {}
    for run in results:
        if run.spec.protocol == "honest" and run.spec.task in tasks:
            splits.setdefault((run.spec.task, run.spec.fold.fold), (run.spec.train_speakers, run.spec.fold.test))
    rows = []
    for control in controls:
        features = control_features(corpus, control, n_jobs=n_jobs, progress=progress)
        for (task, fold), (train_speakers, test_speakers) in sorted(splits.items()):
            y = targets(corpus.index, task)
            train = np.flatnonzero(np.isin(speakers, train_speakers))
            test = np.flatnonzero(np.isin(speakers, test_speakers))
            correct = int(np.sum(fit_and_score(features, y, train, test, seed) == y[test]))
            low, high = wilson_interval(correct, len(test))
            rows.append({"task": task, "control": control, "features": CONTROLS[control], "fold": fold,
                         "accuracy": correct / len(test), "low": low, "high": high, "n": len(test),
                         "correct": correct, "chance": chance(task)})  # fmt: skip
    columns = ["task", "control", "features", "fold", "accuracy", "low", "high", "n", "correct", "chance"]
    return pd.DataFrame(rows, columns=columns)


def controls_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy per (task, control) over the folds, in per cent, beside chance and its multiple.

    The interval is a Wilson interval over all test clips of the folds pooled; it is conditional on
    these test speakers (clips of one speaker are not independent, and the variation between speaker
    folds needs more folds to show).
    """
    if table.empty:
        return pd.DataFrame(columns=["task", "control", "features", "accuracy (%)", "95 % interval (%)", "chance (%)",
                                     "x chance"])  # fmt: skip
    out = table.groupby(["task", "control", "features"], sort=False).agg(
        accuracy=("accuracy", "mean"), correct=("correct", "sum"), n=("n", "sum"), chance=("chance", "first")
    )
    out = out.reset_index()
    bounds = [wilson_interval(int(c), int(n)) for c, n in zip(out.correct, out.n, strict=True)]
    out["low"], out["high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    return pd.DataFrame({
        "task": out.task, "control": out.control, "features": out.features,
        "accuracy (%)": (100 * out.accuracy).round(1),
        "95 % interval (%)": [f"{100 * lo:.1f}-{100 * hi:.1f}" for lo, hi in zip(out.low, out.high, strict=True)],
        "chance (%)": (100 * out.chance).round(1), "x chance": (out.accuracy / out.chance).round(1),
    })  # fmt: skip
