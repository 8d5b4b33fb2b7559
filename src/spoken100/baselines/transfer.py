"""Chapter 4's two retraining studies, each returned as a table: synthetic-to-real transfer and pad/crop.

The notebook used to do these in its own cells. The logic lives here so that it can be tested
and the notebook cell is reduced to a call, a display and a glue. Nothing new is computed: the
functions chain :mod:`spoken100.baselines.studies`, :mod:`spoken100.baselines.fsdd` and
:func:`spoken100.baselines.train.load_model` exactly as the cells did.

* :func:`transfer_study` scores a number-task run, and the same run retrained with augmented English
  clips, on the real recordings of the Free Spoken Digit Dataset (FSDD). When there is no FSDD copy
  or no number-task run, it says why in :attr:`TransferStudy.message` and returns an empty table.
  Beside each FSDD score stands the same model's score on the corpus's own test speakers restricted
  the same way (:func:`synthetic_digit_accuracy`: English clips of 0-9, answers restricted to 0-9),
  so the synthetic-to-real gap is measured like for like, with chance (10 %) beside it.
* :func:`pad_crop_table` retrains a model's runs on clips padded or cropped to one second instead of
  resampled to 8,000 samples, and sets the two accuracies side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from spoken100.baselines import fsdd, studies
from spoken100.baselines.fsdd import DigitEvaluation
from spoken100.baselines.models import BASELINES
from spoken100.baselines.train import RunResult, load_model, predict
from spoken100.data.corpus import Corpus
from spoken100.data.inputs import corpus_inputs
from spoken100.data.tasks import chance

#: Column of the like-for-like synthetic score (see :func:`synthetic_digit_accuracy`).
SYNTHETIC_DIGITS = "corpus test speakers, English 0-9 (restricted like FSDD)"
#: Clips behind :data:`SYNTHETIC_DIGITS` (one per test speaker and digit: an interval of about ±15 points).
SYNTHETIC_CLIPS = "synthetic clips scored"
#: Chance of a 0-9 answer restricted to the ten digits.
DIGIT_CHANCE = chance("digit")

#: Column headings of :func:`pad_crop_table` (the accuracies of the run and of its pad/crop retraining).
RESAMPLED = "resampled to 8,000 samples (paper)"
PADDED = "padded/cropped to 1 s at 8 kHz"


@dataclass
class TransferStudy:
    """What :func:`transfer_study` found.

    table: one row per training (``training``, ``corpus test fold (honest)`` and the ``FSDD ...``
        columns of :meth:`~spoken100.baselines.fsdd.DigitEvaluation.summary`); empty when skipped.
    message: Markdown to show above the table: the FSDD copy used, or why the study was skipped.
    skipped: ``True`` when there was no FSDD copy or no number-task run to test.
    evaluations: the :class:`~spoken100.baselines.fsdd.DigitEvaluation` of each training, keyed (and
        ordered) as the table's ``training`` column.
    folder: the FSDD copy used (``None`` when none was found).
    """

    table: pd.DataFrame
    message: str
    skipped: bool
    evaluations: dict[str, DigitEvaluation] = field(default_factory=dict)
    folder: Path | None = None


def transfer_study(
    corpus: Corpus,
    results: Sequence[RunResult],
    model: str,
    tasks: Sequence[str],
    copies: int = 1,
    seed: int = 0,
    n_jobs: int = -1,
) -> TransferStudy:
    """Test ``model``'s number-task run, and its retraining with augmented English clips, on FSDD.

    corpus: the corpus the runs were trained on. results: the cross-validation runs
        (:func:`~spoken100.baselines.experiment.cross_validate`). model: the baseline to test
        (e.g. ``"cnn_2d"``). tasks: the tasks of this build; the study needs ``"number"``.
    copies, seed: augmented copies of each English training clip, and their seed
        (:func:`~spoken100.baselines.studies.train_augmented`).
    n_jobs: workers that compute the FSDD inputs (:func:`~spoken100.baselines.fsdd.fsdd_inputs`).

    Without an FSDD copy (:func:`~spoken100.baselines.fsdd.fsdd_dir`) or a number-task run of
    ``model`` under the honest protocol, nothing is trained: ``skipped`` is ``True`` and ``message``
    says why.
    """
    folder = fsdd.fsdd_dir()
    base = studies.find_run(results, model, "number") if "number" in tasks else None
    if folder is None:
        message = f"**Skipped:** no copy of the Free Spoken Digit Dataset was found. {fsdd.fsdd_status()}"
        return TransferStudy(pd.DataFrame([]), message, skipped=True)
    if base is None:
        message = f"**Skipped:** no number-task run of `{model}` in this build."
        return TransferStudy(pd.DataFrame([]), message, skipped=True, folder=folder)
    fs_index = fsdd.fsdd_index(folder)
    X_fs = fsdd.fsdd_inputs(folder, fs_index, BASELINES[model].input_kind, n_jobs=n_jobs)
    message = (
        f"FSDD copy: `{folder}`, {len(fs_index):,} clips, speakers {', '.join(sorted(fs_index.speaker.unique()))}."
    )
    augmented = studies.train_augmented(corpus, base, copies=copies, seed=seed)
    rows, evaluations = [], {}
    for name, run in (("trained on the corpus", base), (f"+ {copies} augmented cop(ies) of English", augmented)):
        network = load_model(run)
        evaluation = fsdd.evaluate_digits(network, X_fs, fs_index.digit, speakers=fs_index.speaker)
        evaluations[name] = evaluation
        rows.append({"training": name, "corpus test fold (honest)": run.reported_accuracy,
                     SYNTHETIC_DIGITS: synthetic_digit_accuracy(corpus, run, network),
                     SYNTHETIC_CLIPS: synthetic_digit_clips(corpus, run),
                     **{f"FSDD {k}": v for k, v in evaluation.summary().items()},
                     "chance (restricted)": DIGIT_CHANCE,
                     "chance (unrestricted)": chance("number")})  # fmt: skip
    return TransferStudy(pd.DataFrame(rows), message, skipped=False, evaluations=evaluations, folder=folder)


def synthetic_digit_accuracy(corpus: Corpus, run: RunResult, model=None) -> float:
    """``run``'s accuracy on its own test speakers' English clips of 0-9, answers restricted to 0-9.

    The same restriction as the FSDD score (:func:`spoken100.baselines.fsdd.digit_scores`), on the
    synthetic voices the model was tested on, so the two numbers differ in the voices and the
    recording conditions (FSDD: real microphones at 8 kHz, other speaking styles), not in the task.
    These are few clips (one per test speaker and digit): see :func:`synthetic_digit_clips`.
    model: the trained network (default: :func:`~spoken100.baselines.train.load_model` of ``run``).
    """
    index = corpus.index
    test = np.asarray(run.test_index)
    rows = test[(index.language.to_numpy()[test] == "english") & (index.number.to_numpy()[test] <= 9)]
    if len(rows) == 0:
        return float("nan")
    X = corpus_inputs(corpus.root, index.iloc[rows], BASELINES[run.spec.model].input_kind, progress=False)
    logits = predict(load_model(run) if model is None else model, X)
    return fsdd.digit_scores(logits, index.number.to_numpy()[rows]).accuracy


def synthetic_digit_clips(corpus: Corpus, run: RunResult) -> int:
    """How many clips :func:`synthetic_digit_accuracy` scores (English 0-9 of the run's test speakers)."""
    index, test = corpus.index, np.asarray(run.test_index)
    return int(np.sum((index.language.to_numpy()[test] == "english") & (index.number.to_numpy()[test] <= 9)))


def pad_crop_table(corpus: Corpus, results: Sequence[RunResult], model: str, tasks: Sequence[str]) -> pd.DataFrame:
    """Accuracy of ``model``'s run on each task beside its retraining on clips padded/cropped to 1 s.

    For every task in ``tasks`` with an honest run of ``model`` in ``results``, the run is retrained
    by :func:`~spoken100.baselines.studies.train_pad_crop` (same fold and settings) and one row
    gives ``task``, ``model`` (the baseline's title), the task's ``chance`` and both accuracies
    (columns :data:`RESAMPLED` and :data:`PADDED`). Tasks without such a run get no row; with none at all the table is empty.
    """
    rows = []
    for task in tasks:
        base = studies.find_run(results, model, task)
        if base is not None:
            padded = studies.train_pad_crop(corpus, base)
            rows.append({"task": task, "model": BASELINES[model].title, "chance": chance(task),
                         RESAMPLED: base.reported_accuracy, PADDED: padded.reported_accuracy})  # fmt: skip
    return pd.DataFrame(rows)
