"""Retrain searched and published architectures over the speaker folds, as the paper's EvoNAS table did.

The paper reports its three EvoNAS models (most accurate, fastest, fittest) as mean ± SD over the
8 speaker folds, each retrained from scratch with the lab's retraining schedule (Adam at 5e-4
until epoch 25, 1e-5 until 50, then 1e-6; paper-facts §4.3) and scored on that fold's test
speakers. :func:`retrain_over_folds` does the same for any architectures (this book's picks and the
paper's three), for chosen folds and seeds: every (architecture, fold, seed) trains on the fold's
24 fit speakers (the paper's runs trained on all 28 and kept the best epoch on the test fold),
selects nothing, and is scored once on the fold's test speakers. Only the search's own fold's test
speakers are wholly unseen by the search: the test speakers of the other folds were fit or
validation speakers of the search that chose the architectures. Each training is a cached
artefact of :func:`~spoken100.nas.train.train_genome`, so an interrupted retraining resumes and a
rerun costs seconds. The trainings run on this machine, ``n_jobs`` at a time (not yet on a Dask cluster).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from tqdm.auto import tqdm

from spoken100.data import atomic
from spoken100.data.audio import peak_normalize
from spoken100.data.codehash import code_fingerprint, package_versions
from spoken100.data.tasks import TASK_CLASSES
from spoken100.nas import tflite
from spoken100.nas.compute_cost import PAPER_PROFILE_SEARCH
from spoken100.nas.genome import Genome
from spoken100.nas.roles import ROLES
from spoken100.nas.search_config import PUBLISHED_VARIANTS, SearchConfig, published_candidates
from spoken100.nas.task_data import task_data
from spoken100.nas.train import RECALIBRATE_CLIPS, TRAINING_LIBRARIES, balanced_subset, rows_of, train_genome

#: The lab's retraining schedule of its EvoNAS models: ``(until_epoch, rate)`` (paper-facts §4.3).
RETRAIN_SCHEDULE: tuple[tuple[int, float], ...] = ((25, 5e-4), (50, 1e-5), (51, 1e-6))
#: The columns of :func:`retrain_over_folds`' table: one row per (model, fold, seed).
RUN_COLUMNS = ("model", "task", "fold", "seed", "test_accuracy", "test_accuracy_int8", "val_accuracy", "n_fit", "n_test",
               "seconds", "cached")  # fmt: skip
#: Coverage of the interval :func:`retrain_summary` gives.
INTERVAL_LEVEL = 0.95


@dataclass(frozen=True)
class RetrainSettings:
    """Which folds and seeds to retrain on, for how many epochs (every fit clip, batch 32).

    folds: 1-based fold numbers; empty means no retraining. seeds: one training per seed and fold.
    schedule: ``(until_epoch, rate)`` pairs of Adam's learning rate; default the lab's retraining schedule.
    n_calibration, calibration_seed: also score each trained model's full-integer int8 conversion on
    the test speakers (:func:`int8_test_accuracy`), calibrated on that many fit clips; 0: float only.
    """

    folds: tuple[int, ...] = ()
    seeds: tuple[int, ...] = (0,)
    epochs: int = 75
    batch_size: int = 32
    schedule: tuple[tuple[int, float], ...] = RETRAIN_SCHEDULE
    n_calibration: int = 0
    calibration_seed: int = 1

    def validate(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.seeds:
            raise ValueError(f"retraining needs epochs >= 1, batch_size >= 1 and a seed; got {self}")


def retrain_over_folds(
    corpus,
    config: SearchConfig,
    genomes: Mapping[str, Genome],
    settings: RetrainSettings,
    progress: bool = True,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Train every genome on every fold's fit speakers for every seed; score it on the fold's test speakers.

    config: the search's settings for one task (its fold and split rules; the fold is replaced by
        each of ``settings.folds``). genomes: label -> genome, e.g. ``{"search fittest": g, ...}``.
    Returns one row per (model, fold, seed): ``model``, ``task``, ``fold``, ``seed``,
    ``test_accuracy``, ``val_accuracy``, ``n_fit``, ``n_test``, ``seconds``, ``cached``.
    """
    settings.validate()
    jobs = [(fold, seed, label) for fold in settings.folds for seed in settings.seeds for label in genomes]
    data_by_fold = {fold: task_data(corpus, replace(config, fold=fold), progress=False) for fold in settings.folds}
    calls = [(genomes[label], data_by_fold[fold], settings, seed, config.threads, config.recalibrate_clips)
             for fold, seed, label in jobs]  # fmt: skip
    bar = tqdm(total=len(jobs), desc=f"retraining ({config.task})", unit="run", disable=not progress)
    if n_jobs > 1 and len(calls) > 1:  # one process per training (TensorFlow keeps one thread each)
        # finished runs are read here (milliseconds each); worker processes, which take seconds to
        # start, are only started for the runs still to train
        trained = [_train_one(*call, cached_only=True) for call in calls]
        bar.update(sum(row is not None for row in trained))
        todo = [i for i, row in enumerate(trained) if row is None]
        if todo:
            runner = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")
            for i, row in zip(todo, runner(delayed(_train_one)(*calls[i]) for i in todo), strict=True):
                trained[i] = row
                bar.update(1)
    else:
        trained = []
        for call in calls:
            trained.append(_train_one(*call))
            bar.update(1)
    bar.close()
    rows = [{"model": label, "task": config.task, "fold": fold, "seed": seed, **row}
            for (fold, seed, label), row in zip(jobs, trained, strict=True)]  # fmt: skip
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def retrained_model(genome: Genome, data, settings: RetrainSettings, seed: int, threads: int | None = None,
                    recalibrate_clips: int = RECALIBRATE_CLIPS, keep_model: bool = True, cached_only: bool = False):  # fmt: skip
    """One retraining of ``genome`` on every fit clip of ``data``'s fold (nothing selected), scored on its test speakers.

    The :class:`~spoken100.nas.train.TrainedCandidate` of :func:`~spoken100.nas.train.train_genome`:
    the artefact :func:`retrain_over_folds` wrote for this (genome, fold, seed) is loaded, so a
    later chapter (deployment) gets exactly the weights the retraining scored. recalibrate_clips:
    the search's batch-norm recalibration (``SearchConfig.recalibrate_clips``), as its candidates had.
    """
    return train_genome(
        genome, data.X, data.y, data.speakers, data.fit_speakers, data.val_speakers, data.test_speakers,
        epochs=settings.epochs, batch_size=settings.batch_size, max_train_clips=None, max_val_clips=None,
        seed=seed, schedule=settings.schedule, recalibrate_clips=recalibrate_clips, data_key=data.data_key,
        threads=threads, keep_model=keep_model, cached_only=cached_only,
    )  # fmt: skip


def int8_score_file(folder: Path, data, n_calibration: int, calibration_seed: int) -> Path:
    """Where :func:`int8_test_accuracy` caches its score, beside the training's weights in ``folder``."""
    key = hashlib.sha256(json.dumps([sorted(data.test_speakers), int(n_calibration), int(calibration_seed),
                                     code_fingerprint(int8_test_accuracy), package_versions(TRAINING_LIBRARIES)],
                                    sort_keys=True).encode()).hexdigest()[:12]  # fmt: skip
    return Path(folder) / f"int8-test-{key}.json"


def int8_test_accuracy(trained, data, n_calibration: int, calibration_seed: int) -> float:
    """Test-speaker accuracy of ``trained``'s full-integer int8 model, the model a board would run.

    Converted as the search converts its candidates (:func:`~spoken100.nas.tflite.to_int8`,
    calibrated on ``n_calibration`` class-balanced, peak-normalised fit clips drawn with
    ``calibration_seed``) and run in TensorFlow's TFLite interpreter with its reference kernels
    (chapter 6 checks TFLite Micro against it). Cached as a small JSON file beside the training's
    weights, keyed by the test speakers, the calibration, this code and the TensorFlow release (its
    converter decides the int8 model).
    """
    path = int8_score_file(trained.folder, data, n_calibration, calibration_seed)
    if path.is_file():
        return float(json.loads(path.read_text())["test_accuracy_int8"])
    calibration = balanced_subset(rows_of(data.speakers, data.fit_speakers), data.y, n_calibration, calibration_seed)
    model_bytes = tflite.to_int8(trained.model, tflite.clips_dataset(peak_normalize(np.asarray(data.X[calibration])),
                                                                     n=None))  # fmt: skip
    test = rows_of(data.speakers, data.test_speakers)
    outputs = tflite.run_tflite(model_bytes, peak_normalize(np.asarray(data.X[test])))
    accuracy = float(np.mean(np.asarray(outputs).argmax(axis=1) == np.asarray(data.y)[test]))
    atomic.write_json(path, {"test_speakers": sorted(data.test_speakers), "n_calibration": int(n_calibration),
                             "calibration_seed": int(calibration_seed), "test_accuracy_int8": accuracy,
                             "n_test": int(len(test))})  # fmt: skip
    return accuracy


def _train_one(genome: Genome, data, settings: RetrainSettings, seed: int, threads: int | None,
               recalibrate_clips: int = RECALIBRATE_CLIPS, cached_only: bool = False) -> dict | None:  # fmt: skip
    """One retraining (every fit clip, nothing selected), scored on the fold's test speakers; a table row.

    cached_only: ``None`` unless every score of the row (float, and int8 when asked for) is cached.
    """
    int8 = settings.n_calibration > 0
    trained = retrained_model(genome, data, settings, seed, threads, recalibrate_clips, keep_model=False,
                              cached_only=cached_only)  # fmt: skip
    if trained is None:
        return None
    if int8 and not int8_score_file(trained.folder, data, settings.n_calibration, settings.calibration_seed).is_file():
        if cached_only:
            return None
        trained = retrained_model(genome, data, settings, seed, threads, recalibrate_clips, keep_model=True)
    int8_accuracy = float("nan")
    if int8:
        try:  # an add-on score: a failed conversion leaves it unscored (NaN, "not run"), the float result stands
            int8_accuracy = int8_test_accuracy(trained, data, settings.n_calibration, settings.calibration_seed)
        except Exception as err:  # noqa: BLE001
            warnings.warn(f"{genome.genome_id()} seed {seed}: no int8 score ({type(err).__name__}: {err})",
                          stacklevel=1)  # fmt: skip
    return {"test_accuracy": trained.test_accuracy, "test_accuracy_int8": int8_accuracy,
            "val_accuracy": trained.val_accuracy, "n_fit": trained.n_fit, "n_test": trained.n_test,
            "seconds": trained.seconds, "cached": trained.cached}  # fmt: skip


def retrain_summary(runs: pd.DataFrame, level: float = INTERVAL_LEVEL, column: str = "test_accuracy") -> pd.DataFrame:
    """Per model and task: mean test accuracy, population SD (as the paper printed it), a t interval, chance.

    The interval is over the model's runs (folds x seeds), ``mean ± t * sd / sqrt(n)``; with one
    run it is undefined (NaN) and says so rather than showing ± 0. column: which accuracy
    (``"test_accuracy_int8"``: the int8 models').
    """
    out = []
    for (model, task), group in runs.groupby(["model", "task"], sort=False):
        acc = group[column].to_numpy(dtype=float)
        acc = acc[~np.isnan(acc)]  # a run that could not be scored (e.g. its int8 conversion failed)
        n = len(acc)
        if not n:
            out.append({"model": model, "task": task, "runs": 0, "folds": group["fold"].nunique(),
                        "seeds": group["seed"].nunique(), "mean": np.nan, "sd": np.nan, "ci_low": np.nan,
                        "ci_high": np.nan, "chance": 1 / TASK_CLASSES[task]})  # fmt: skip
            continue
        half = float(stats.t.ppf(0.5 + level / 2, n - 1) * acc.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        out.append({"model": model, "task": task, "runs": n, "folds": group["fold"].nunique(),
                    "seeds": group["seed"].nunique(), "mean": float(acc.mean()), "sd": float(acc.std(ddof=0)),
                    "ci_low": float(acc.mean() - half), "ci_high": float(acc.mean() + half),
                    "chance": 1 / TASK_CLASSES[task]})  # fmt: skip
    return pd.DataFrame(out, columns=["model", "task", "runs", "folds", "seeds", "mean", "sd", "ci_low", "ci_high",
                                      "chance"])  # fmt: skip


def architectures(result, variants: Sequence[str] = PUBLISHED_VARIANTS) -> dict[str, Genome]:
    """The search's three picks and the paper's architectures for its task, labelled for the tables."""
    picks = {f"search {role}": result.pick(role) for role in ROLES}
    paper = {f"paper {name.split('_', 1)[1]}": genome
             for name, genome in published_candidates(result.config.task, variants).items()}  # fmt: skip
    return {**picks, **paper}


def not_run_text(variants: Sequence[str] = PUBLISHED_VARIANTS) -> str:
    """What chapter 5 says when its profile skips the retraining: how many architectures per task the
    paper profile trains (the search's picks and the paper's ``variants``, all three there) on how many folds."""
    n_architectures = len(ROLES) + len(variants)
    folds = PAPER_PROFILE_SEARCH["retrain_folds"]
    return (f"**Not run in this profile** (`retrain_folds` is empty): retraining {n_architectures} architectures "
            f"per task on every fit clip is the `paper` profile's work (all {folds} folds).")  # fmt: skip


def settings_from(folds: Sequence[int] | None, seeds: Sequence[int], epochs: int) -> RetrainSettings:
    """:class:`RetrainSettings` from chapter 5's parameters (``folds`` ``None`` or empty: no retraining)."""
    return RetrainSettings(folds=tuple(int(f) for f in folds or ()), seeds=tuple(int(s) for s in seeds),
                           epochs=int(epochs))  # fmt: skip
