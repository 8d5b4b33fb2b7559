"""Plan and run the baselines' cross-validation: many :func:`~spoken100.baselines.train.train_run` calls.

:func:`plan_runs` turns a profile's settings into run specifications (validated before anything
trains); :func:`run_all` executes them, one process at a time by default, spread over local
processes with joblib (``n_jobs``), or over a Dask cluster when a scheduler address is given (the
``scheduler`` argument or ``$SPOKEN100_DASK_SCHEDULER``; :mod:`spoken100.data.cluster`): there each
run trains on a worker and its artefacts come back to this machine, so no shared filesystem is
needed. Finished runs are loaded from their artefacts, so a rerun costs seconds and an
interrupted one trains only what is missing.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from spoken100.baselines.lrfinder import RangeTestSettings, lr_range_test
from spoken100.baselines.models import BASELINES
from spoken100.baselines.train import RunResult, RunSpec, TrainingError, data_key, load_result, train_run
from spoken100.data import cluster
from spoken100.data.inputs import corpus_inputs, targets
from spoken100.data.splits import Fold, corpus_folds, honest_split
from spoken100.data.tasks import TASK_CLASSES


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
    schedule: str = "paper",
    learning_rates: dict[tuple[str, str, int], float] | None = None,
    train_seed: int | None = None,
) -> list[RunSpec]:
    """All (model, task, fold, protocol) runs, checked before any training starts.

    genders: speaker → gender, for gender-balanced validation speakers in the honest protocol.
    corpus_digest: the corpus checksum; with the model's input kind and the task it keys the data.
    model_options: per model, options of its class (e.g. ``{"rnn": {"hidden": 64}}``).
    speakers_present: the corpus's speakers; a fold naming anyone else is refused here.
    schedule, learning_rates: :attr:`RunSpec.schedule` and the one-cycle peak per ``(model, task, fold)``.
    seed: chooses the validation speakers and, unless ``train_seed`` is given, seeds the training.
    train_seed: the training's own seed (initial weights, batch order, dropout), for replicates of
        the same runs on the same speakers (``None``: ``seed``).
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
                        val_speakers=val, batch_size=batch_size, max_batches=max_batches,
                        seed=seed if train_seed is None else train_seed,
                        model_options=options, schedule=schedule,
                        learning_rate=(learning_rates or {}).get((model, task, fold.fold)),
                    )  # fmt: skip
                    if speakers_present is not None:
                        spec.validate(speakers_present)
                    specs.append(spec)
    return specs


def _finished(spec: RunSpec) -> bool:
    return (spec.folder() / "result.json").is_file()


def _run_on_cluster(
    address: str,
    specs: Sequence[RunSpec],
    inputs: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    speakers: np.ndarray,
    *,
    device: str | None,
    threads: int,
    progress: bool,
) -> list[RunResult]:
    """Train the unfinished ``specs`` on the Dask cluster at ``address``; load every result from here."""
    todo = [spec for spec in specs if not _finished(spec)]
    if todo:
        client = cluster.connect(address)
        try:
            kinds = sorted({BASELINES[s.model].input_kind for s in todo})
            shared_inputs = {kind: cluster.share(client, inputs[kind]) for kind in kinds}
            shared_labels = {task: cluster.share(client, labels[task]) for task in {s.task for s in todo}}
            shared_speakers = cluster.share(client, speakers)
            tasks = [
                cluster.Task(
                    key=f"train_run-{spec.folder().name}",
                    args=(spec, shared_inputs[BASELINES[spec.model].input_kind], shared_labels[spec.task],
                          shared_speakers),
                    kwargs={"device": device, "progress": False, "threads": threads},
                    label=spec.folder().name,
                )
                for spec in todo
            ]  # fmt: skip
            cluster.run_tasks(client, train_run, tasks, on_result=lambda task, value: None, progress=progress,
                              desc="training runs (cluster)")  # fmt: skip
        finally:
            client.close()
    return [load_result(spec.folder()) for spec in specs]


def run_all(
    specs: Sequence[RunSpec],
    inputs: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    speakers: np.ndarray,
    *,
    n_jobs: int = 1,
    device: str | None = None,
    threads: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> list[RunResult]:
    """Execute ``specs`` (finished runs are loaded, interrupted ones resume).

    inputs: model input arrays by input kind (``"logmel"``, ``"waveform"``), rows aligned with
        ``labels[task]`` and ``speakers``.
    n_jobs: local runs at once; each gets ``cores // n_jobs`` torch threads unless ``threads`` is set.
    device: ``"cpu"``, ``"cuda"``, ... or ``None`` for CUDA when present.
    scheduler: a Dask scheduler address (else ``$SPOKEN100_DASK_SCHEDULER``); with one, the runs
        train on the cluster's workers (``threads`` torch threads each, 1 by default) and
        ``n_jobs`` is ignored: the cluster's workers decide how many run at once.
    """
    for spec in specs:
        spec.validate(np.unique(speakers))
    address = cluster.scheduler_address(scheduler)
    if address:
        return _run_on_cluster(address, specs, inputs, labels, speakers, device=device, threads=threads or 1,
                               progress=progress)  # fmt: skip
    if n_jobs == 1:
        results = []
        for spec in tqdm(specs, desc="training runs", unit="run", disable=not progress):
            X = inputs[BASELINES[spec.model].input_kind]
            results.append(train_run(spec, X, labels[spec.task], speakers, device=device, progress=progress,
                                     threads=threads))  # fmt: skip
        return results
    threads = threads or max(1, (os.cpu_count() or 1) // n_jobs)
    jobs = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
        delayed(train_run)(spec, inputs[BASELINES[spec.model].input_kind], labels[spec.task], speakers,
                           device=device, progress=False, threads=threads)
        for spec in specs
    )  # fmt: skip
    return list(tqdm(jobs, total=len(specs), desc="training runs", unit="run", disable=not progress))


def seed_replicates(
    results: Sequence[RunResult],
    models: Sequence[str],
    seeds: Sequence[int],
    context: dict,
    *,
    n_jobs: int = 1,
    device: str | None = None,
    threads: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> list[RunResult]:
    """The honest runs of ``models`` on the build's first fold, retrained once per seed in ``seeds``.

    Everything but the training's seed (initial weights, batch order, dropout) stays as built: the
    speakers, the peak rate, the epochs. So the spread of the replicates is the training's own noise,
    which the intervals over test clips and folds do not cover. Returns the new runs only (cached
    and resumable like any run). context: :func:`cross_validate`'s (inputs, labels, speakers, folds).
    Only runs the build has are replicated: a model it did not train, or trained under the paper
    protocol only, is skipped (so one profile setting serves every profile). A seed equal to the
    build's is refused (it would return the build's own run as a replicate), and so is a repeated one.
    """
    if not seeds or not models:
        return []
    first = context["folds"][0].fold
    built = [r.spec for r in results if r.spec.model in set(models) and r.spec.protocol == "honest"
             and r.spec.fold.fold == first]  # fmt: skip
    reused = sorted({spec.seed for spec in built} & set(seeds))
    if reused:
        raise TrainingError(f"replicate seed(s) {reused} equal the build's seed: choose other seeds")
    if len(set(seeds)) != len(seeds):
        raise TrainingError(f"replicate seeds {list(seeds)} repeat a seed: each would train the same run twice")
    specs = [dataclasses.replace(spec, seed=int(seed)) for spec in built for seed in seeds]
    return run_all(specs, context["inputs"], context["labels"], context["speakers"], n_jobs=n_jobs, device=device,
                   threads=threads, scheduler=scheduler, progress=progress)  # fmt: skip


def _best_validation(run: RunResult) -> float:
    """The validation accuracy at the epoch the validation speakers chose (NaN without validation speakers)."""
    history = run.history
    if "val_accuracy" not in history or history["val_accuracy"].isna().all():
        return float("nan")
    return float(history["val_accuracy"].max())


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
                # the validation speakers' accuracy at the epoch they chose (honest runs): what selects models
                "val_accuracy": _best_validation(r),
                "epoch_best_test": r.selected_epoch.get("best_test"),
                "epoch_best_val": r.selected_epoch.get("best_val"),
                "chance": 1 / TASK_CLASSES[r.spec.task],
                "n_test": len(r.test_index),
                "seconds": r.seconds,
                "device": r.device,
                "folder": r.folder.name,
            }
        )
    return pd.DataFrame(rows)


def epochs_for(epochs: int | dict[str, int], model: str) -> int:
    """The number of epochs for ``model``: ``epochs`` itself, or its entry (else ``"default"``) in a dict."""
    if isinstance(epochs, dict):
        if model not in epochs and "default" not in epochs:
            raise TrainingError(f"epochs has no entry for {model!r} and no 'default'")
        return int(epochs.get(model, epochs.get("default")))
    return int(epochs)


def cross_validate(
    corpus,
    *,
    models: Sequence[str],
    tasks: Sequence[str],
    protocols: Sequence[str],
    folds: Sequence[int] | None,
    n_folds: int = 8,
    epochs: int | dict[str, int],
    n_val_speakers: int = 4,
    max_batches: dict[str, int | None] | None = None,
    model_options: dict[str, dict] | None = None,
    seed: int = 0,
    n_jobs: int = 1,
    device: str | None = None,
    threads: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    schedule: str = "paper",
    learning_rate: float | dict[str, float] | str | None = None,
    range_test_task: str | None = "language",
    range_test_steps: int = RangeTestSettings.steps,
    train_seed: int | None = None,
) -> tuple[pd.DataFrame, list[RunResult], dict]:
    """Train and evaluate the baselines on ``corpus`` as a profile asks; return the results table.

    folds: which folds to run (1-based), ``None`` for all. epochs: one number for every model, or
    one per model (a ``"default"`` key for the rest). max_batches: per model, a cap on the
    training batches per epoch (``None``: every batch). Returns ``(table, results, context)`` where
    context holds the inputs, labels, speakers, folds and a statement of the split's source, for
    the chapter's later sections.

    schedule: ``"paper"`` or ``"onecycle"`` (:class:`~spoken100.baselines.train.RunSpec`).
    learning_rate: the one-cycle peak: one number, one per model, or ``"range-test"`` to choose it
        per model, task and fold with :func:`~spoken100.baselines.lrfinder.lr_range_test` on that
        fold's fit speakers (never its validation or test speakers); the tests are in
        ``context["range_tests"]``.
    range_test_task: the task whose range test chooses every task's rate for a model (one test per
        model and fold), or ``None`` for one test per model, task and fold. The default is the
        language task: in a range test of a few hundred batches its 4-class loss falls, while the
        100-class number task's loss barely leaves its starting value for most models (measured on
        the stand-in, fold 1), so its curve has no valley to read.
    range_test_steps: batches per range test (:class:`~spoken100.baselines.lrfinder.RangeTestSettings`).
    seed, train_seed: ``seed`` chooses the validation speakers and seeds the range tests; the runs
        are seeded by ``train_seed`` when given (replicates on the same speakers at the same rates),
        else by ``seed`` (:func:`plan_runs`).
    n_jobs, device, threads, scheduler: where the runs train (:func:`run_all`); the range tests
        run here, before any run.
    """

    all_folds, split_source = corpus_folds(corpus, n_folds)
    chosen = [f for f in all_folds if folds is None or f.fold in set(folds)]
    if not chosen:
        raise TrainingError(f"none of the folds {list(folds or [])} exists (1-{len(all_folds)})")
    index = corpus.index
    speakers = index["speaker"].to_numpy(dtype=str)
    genders = dict(zip(corpus.speakers.speaker, corpus.speakers.gender, strict=True))
    kinds = sorted({BASELINES[m].input_kind for m in models})
    inputs = {kind: corpus_inputs(corpus.root, index, kind, progress=progress) for kind in kinds}
    labels = {task: targets(index, task) for task in tasks}
    range_tests = []
    rates: dict[tuple[str, str, int], float] = {}
    if schedule == "onecycle":
        for fold in chosen:
            fit, _ = honest_split(fold.train, n_val_speakers, seed=seed + fold.fold, genders=genders)
            fit_rows = np.flatnonzero(np.isin(speakers, fit))  # this fold's fit speakers only
            for model in models:
                kind = BASELINES[model].input_kind
                tested: dict[str, float] = {}
                for task in tasks:
                    if learning_rate == "range-test":
                        probe = range_test_task or task
                        if probe not in tested:
                            test = lr_range_test(model, probe, inputs[kind], targets(index, probe), fit_rows,
                                                 data_key(corpus.digest, kind, probe),
                                                 RangeTestSettings(steps=range_test_steps), seed=seed,
                                                 model_options=(model_options or {}).get(model), progress=progress)  # fmt: skip
                            range_tests.append(test)
                            tested[probe] = test.suggested_lr
                        rates[(model, task, fold.fold)] = tested[probe]
                    elif isinstance(learning_rate, dict):
                        rates[(model, task, fold.fold)] = float(learning_rate[model])
                    elif learning_rate is not None:
                        rates[(model, task, fold.fold)] = float(learning_rate)
    specs: list[RunSpec] = []
    for model in models:
        specs += plan_runs(
            [model], tasks, chosen, protocols, epochs=epochs_for(epochs, model), genders=genders,
            corpus_digest=corpus.digest,
            n_val_speakers=n_val_speakers, max_batches=(max_batches or {}).get(model), seed=seed,
            model_options=model_options, speakers_present=sorted(set(speakers)), schedule=schedule,
            learning_rates=rates, train_seed=train_seed,
        )  # fmt: skip
    results = run_all(specs, inputs, labels, speakers, n_jobs=n_jobs, device=device, threads=threads,
                      scheduler=scheduler, progress=progress)  # fmt: skip
    context = {"inputs": inputs, "labels": labels, "speakers": speakers, "folds": chosen,
               "split_source": split_source, "n_folds_total": len(all_folds), "range_tests": range_tests,
               "schedule": schedule}  # fmt: skip
    return results_table(results), results, context
