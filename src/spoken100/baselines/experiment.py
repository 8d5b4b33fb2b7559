"""Plan and run the baselines' cross-validation: many :func:`~spoken100.baselines.train.train_run` calls.

:func:`plan_runs` turns a profile's settings into run specifications (validated before anything
trains); :func:`run_all` executes them, one process at a time by default, spread over local
processes with joblib (``n_jobs``), or over a cluster through joblib's Ray or Dask backends
(``backend="ray"`` / ``"dask"``, configuration only, nothing else changes). Finished runs are
loaded from their artefacts, so a rerun costs seconds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, parallel_config
from tqdm.auto import tqdm

from spoken100.baselines.models import BASELINES
from spoken100.baselines.splits import Fold, honest_split
from spoken100.baselines.train import TASK_CLASSES, RunResult, RunSpec, TrainingError, data_key, train_run


def plan_runs(
    models: Sequence[str],
    tasks: Sequence[str],
    folds: Sequence[Fold],
    protocols: Sequence[str],
    *,
    epochs: int,
    genders: dict[str, str],
    corpus_digest: str,
    n_val_speakers: int = 4,
    batch_size: int = 32,
    max_batches: int | None = None,
    seed: int = 0,
    model_options: dict[str, dict] | None = None,
    speakers_present: Sequence[str] | None = None,
) -> list[RunSpec]:
    """All (model, task, fold, protocol) runs, checked before any training starts.

    genders: speaker → gender, for gender-balanced validation speakers in the honest protocol.
    corpus_digest: the corpus checksum; with the model's input kind and the task it keys the data.
    model_options: per model, options of its class (e.g. ``{"rnn": {"hidden": 64}}``).
    speakers_present: the corpus's speakers; a fold naming anyone else is refused here.
    """
    unknown = sorted(set(models) - set(BASELINES))
    if unknown:
        raise TrainingError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(BASELINES)}")
    specs = []
    for model in models:
        options = tuple(sorted((model_options or {}).get(model, {}).items()))
        for task in tasks:
            for fold in folds:
                for protocol in protocols:
                    val = ()
                    if protocol == "honest":
                        _, val = honest_split(fold.train, n_val_speakers, seed=seed + fold.fold, genders=genders)
                    spec = RunSpec(
                        model=model, task=task, protocol=protocol, fold=fold, epochs=epochs,
                        data_key=data_key(corpus_digest, BASELINES[model].input_kind, task),
                        val_speakers=val, batch_size=batch_size, max_batches=max_batches, seed=seed,
                        model_options=options,
                    )  # fmt: skip
                    if speakers_present is not None:
                        spec.validate(speakers_present)
                    specs.append(spec)
    return specs


def _configure_backend(backend: str) -> None:
    if backend == "ray":
        try:
            from ray.util.joblib import register_ray
        except ImportError as err:
            raise TrainingError("backend 'ray' needs Ray: pip install 'ray[default]'") from err
        register_ray()
    elif backend == "dask":
        try:
            import distributed  # noqa: F401  (registers joblib's "dask" backend)
        except ImportError as err:
            raise TrainingError("backend 'dask' needs Dask: pip install 'dask[distributed]'") from err


def run_all(
    specs: Sequence[RunSpec],
    inputs: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    speakers: np.ndarray,
    *,
    n_jobs: int = 1,
    backend: str = "loky",
    device: str | None = None,
    progress: bool = True,
) -> list[RunResult]:
    """Execute ``specs`` (finished runs are loaded, interrupted ones resume).

    inputs: model input arrays by input kind (``"logmel"``, ``"waveform"``), rows aligned with
        ``labels[task]`` and ``speakers``.
    n_jobs: runs at once; each gets ``cores // n_jobs`` torch threads.
    backend: joblib backend: ``"loky"`` (local processes), ``"ray"`` or ``"dask"`` (a cluster, set
        up by the user as those libraries describe).
    """
    for spec in specs:
        spec.validate(np.unique(speakers))
    if n_jobs == 1:
        results = []
        for spec in tqdm(specs, desc="training runs", unit="run", disable=not progress):
            X = inputs[BASELINES[spec.model].input_kind]
            results.append(train_run(spec, X, labels[spec.task], speakers, device=device, progress=progress))
        return results
    _configure_backend(backend)
    threads = max(1, (os.cpu_count() or 1) // n_jobs)
    with parallel_config(backend=backend, n_jobs=n_jobs):
        jobs = Parallel(return_as="generator")(
            delayed(train_run)(spec, inputs[BASELINES[spec.model].input_kind], labels[spec.task], speakers,
                               device=device, progress=False, threads=threads)
            for spec in specs
        )  # fmt: skip
        return list(tqdm(jobs, total=len(specs), desc="training runs", unit="run", disable=not progress))


def results_table(results: Sequence[RunResult]) -> pd.DataFrame:
    """One row per run: the accuracy each selection rule gives, the chosen epochs and the time."""
    rows = []
    for r in results:
        rows.append(
            {
                "model": r.spec.model,
                "title": BASELINES[r.spec.model].title,
                "task": r.spec.task,
                "fold": r.spec.fold.fold,
                "protocol": r.spec.protocol,
                "accuracy": r.reported_accuracy,
                "test_selected_accuracy": r.test_accuracy.get("best_test"),
                "val_selected_accuracy": r.test_accuracy.get("best_val"),
                "epoch_best_test": r.selected_epoch.get("best_test"),
                "epoch_best_val": r.selected_epoch.get("best_val"),
                "chance": 1 / TASK_CLASSES[r.spec.task],
                "seconds": r.seconds,
                "device": r.device,
                "folder": r.folder.name,
            }
        )
    return pd.DataFrame(rows)
