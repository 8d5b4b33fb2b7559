"""Evaluate one EvoNAS candidate under the search's protocol, cached per genome; many in parallel.

**How one candidate is evaluated** (:func:`evaluate_genome`; the same function scores the paper's
published architectures in :func:`evaluate_published`, so both sit on the same axes):

1. the genome is checked and built (:func:`spoken100.nas.build.build_model`); if the activations
   of one layer alone would overflow the RAM, it is infeasible at once (EvoNAS likewise discarded
   models over its memory limit before training, paper-facts §5.1);
2. it is trained with a short proxy of the lab's training on the fit speakers and scored on the
   validation speakers (:func:`spoken100.nas.train.train_genome`);
3. the trained model is converted to a full-integer int8 ``.tflite`` calibrated on
   ``n_calibration`` real, peak-normalised clips of the fit speakers
   (:func:`spoken100.nas.tflite.to_int8`) and run in TFLite Micro in a child process: the arena is
   measured there and, with ``int8_val_clips``, the int8 accuracy on that many validation clips;
4. MACs are counted and flash, RAM, latency and energy estimated for the nRF52840
   (:mod:`spoken100.nas.costs`); over 1 MiB flash or 256 KiB RAM the candidate is **infeasible**.
   EvoNAS measured these on the untrained model (paper-facts §6); none of them depends on the
   weights, so measuring the trained model changes nothing and gives the int8 accuracy for free.

Any exception along the way (a genome that does not build, a converter error, a TFLite Micro
crash, a failed training) is caught and recorded with its stage and message; the candidate is
infeasible and the search goes on. With ``n_jobs > 1`` candidates are evaluated in joblib
(loky) worker processes; if a worker dies (TensorFlow or TFLite Micro can kill a process), the
unfinished candidates of that generation are retried one at a time (after a death always in
newly started workers), and only one that kills its worker :data:`CRASH_ATTEMPTS` times in a row
is recorded as crashed. With a Dask scheduler (``config.scheduler`` or
``$SPOKEN100_DASK_SCHEDULER``) they are evaluated on the cluster's workers instead
(:mod:`spoken100.data.cluster`): the inputs travel with the tasks, each record and trained
weights come back and are written here, and a worker that dies is replaced by the scheduler.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from joblib.externals.loky.process_executor import BrokenProcessPool, TerminatedWorkerError
from tqdm.auto import tqdm

from spoken100.data import atomic, cluster
from spoken100.data.audio import peak_normalize
from spoken100.data.codehash import code_fingerprint, package_versions
from spoken100.data.paths import cache_dir
from spoken100.nas import tflite
from spoken100.nas.costs import (
    AUDIO_BYTES_PER_SAMPLE,
    FLASH_LIMIT_BYTES,
    RAM_LIMIT_BYTES,
    RAM_OVERHEAD_BYTES,
    candidate_fitness,
    estimate_costs,
    estimate_latency,
    fits,
    layer_macs,
    mac_classes,
)
from spoken100.nas.genome import Genome, validate
from spoken100.nas.search_config import PUBLISHED_VARIANTS, SearchConfig, published_candidates
from spoken100.nas.task_data import TaskData, payload_x, short_hash, task_data
from spoken100.nas.train import (
    TRAINING_LIBRARIES,
    balanced_subset,
    configure_tensorflow,
    fresh_model,
    rows_of,
    train_genome,
)

#: Columns of every candidate record (one row of :attr:`SearchResult.candidates`).
RECORD_COLUMNS = (
    "genome_id", "generation", "description", "genome", "val_accuracy", "val_accuracy_int8", "train_accuracy",
    "n_params", "model_bytes", "flash_bytes", "arena_bytes", "ram_bytes", "macs", "macs_frontend", "macs_depthwise",
    "latency_ms", "latency_ms_low", "latency_ms_high", "latency_ms_frontend", "energy_mj", "energy_mj_low", "energy_mj_high", "fitness", "feasible", "stage", "reason",
    "train_seconds", "eval_seconds",
)  # fmt: skip


# ---- one candidate ---------------------------------------------------------------------------
#: Libraries whose release decides a candidate's record: training (TensorFlow, Keras), the int8
#: conversion (TensorFlow) and the arena (TFLite Micro).
EVALUATION_LIBRARIES = (*TRAINING_LIBRARIES, "tflite-micro")


def protocol_key(data: TaskData | dict[str, Any], config: SearchConfig) -> str:
    """Cache key of a candidate evaluation: data, split, protocol and library releases (not the search's own settings).

    The releases count as in :func:`~spoken100.nas.train.train_key`: the records a search chose its
    picks by must come from the same weights that the picks are later retrained to.
    """
    d = data.payload() if isinstance(data, TaskData) else data
    return short_hash([code_fingerprint(evaluate_genome), d["data_key"], sorted(d["fit"]), sorted(d["val"]),
                       config.protocol(), package_versions(EVALUATION_LIBRARIES)])  # fmt: skip


def empty_record(genome: Genome) -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(RECORD_COLUMNS)
    record.update(genome_id=genome.genome_id(), description=genome.describe(), genome=genome.to_json(),
                  feasible=False, stage="", reason="", val_accuracy=float("nan"))  # fmt: skip
    return record


def _short(err: BaseException, limit: int = 400) -> str:
    text = " ".join(f"{type(err).__name__}: {err}".split())  # one line: multi-line messages joined
    return text if len(text) <= limit else text[: limit - 3] + "..."


def activation_floor_bytes(model) -> int:
    """A lower bound of the TFLite Micro arena: the largest int8 inputs + output of any one layer.

    Every operator needs its inputs and its output in the arena at the same time, whatever the
    memory planner does; reshapes (which may alias) are left out. Used to reject a candidate that
    cannot fit the RAM before it is trained.
    """
    worst = 0
    for layer in model.layers:
        if type(layer).__name__ in ("InputLayer", "Reshape"):
            continue
        inputs = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
        size = sum(int(np.prod([d or 1 for d in t.shape[1:]])) for t in inputs)
        worst = max(worst, size + int(np.prod([d or 1 for d in layer.output.shape[1:]])))
    return worst


def _memory_reason(flash: int | None, ram: int | None, bound: bool = False) -> str | None:

    over = []
    if flash is not None and flash > FLASH_LIMIT_BYTES:
        over.append(f"flash {flash:,} B > {FLASH_LIMIT_BYTES:,} B")
    if ram is not None and ram > RAM_LIMIT_BYTES:
        over.append(f"RAM {'at least ' if bound else ''}{ram:,} B > {RAM_LIMIT_BYTES:,} B")
    return "over the nRF52840's memory: " + "; ".join(over) if over else None


def evaluate_genome(genome: Genome, payload: dict[str, Any], config: SearchConfig) -> dict[str, Any]:
    """Evaluate one genome under the protocol of ``config``; never raises for a bad genome.

    Stages: check the genome; build it and reject it early if one layer's activations alone
    exceed the RAM (:func:`activation_floor_bytes`); train it (:func:`~spoken100.nas.train.train_genome`);
    convert the trained model to int8 with ``n_calibration`` real clips of the fit speakers; run it
    in TFLite Micro (in a child process) for the measured arena and, with ``int8_val_clips``, the
    int8 accuracy on that many validation clips; count MACs and estimate the costs; check flash and
    RAM. Sizes, arena and MACs do not depend on the weights (EvoNAS measured untrained models),
    so converting the trained model costs nothing extra and gives the int8 accuracy.

    payload: :meth:`TaskData.payload`. Returns a record with the columns :data:`RECORD_COLUMNS`
    (without ``generation``); ``feasible`` is ``False`` and ``stage``/``reason`` say why when the
    genome is invalid, does not build or convert, breaks a memory limit, or fails to train.
    """

    start = time.perf_counter()
    record = empty_record(genome)
    X, y, speakers = payload_x(payload), np.asarray(payload["y"]), np.asarray(payload["speakers"])
    stage = "genome"
    try:
        validate(genome, space=None)
        if genome.n_classes != config.n_classes:
            raise ValueError(f"the genome has {genome.n_classes} classes, the {config.task} task {config.n_classes}")
        stage = "build"

        configure_tensorflow(config.threads)
        model = fresh_model(genome, config.seed)
        record["n_params"] = int(sum(r.params for r in layer_macs(model) if r.stage != "frontend"))
        classes = mac_classes(model)
        macs = classes.total
        record.update(macs_frontend=classes.frontend, macs_depthwise=classes.depthwise)
        floor = activation_floor_bytes(model)
        floor += AUDIO_BYTES_PER_SAMPLE * genome.preprocessing.n_samples + RAM_OVERHEAD_BYTES
        del model
        if config.max_latency_ms is not None:
            latency_ms = 1e3 * estimate_latency(classes).central
            if latency_ms > config.max_latency_ms:
                record.update(stage="latency", macs=macs, latency_ms=latency_ms,
                              reason=f"over the latency budget: {latency_ms:.1f} ms > {config.max_latency_ms:.1f} ms "
                                     "(estimated from MACs, before training)")  # fmt: skip
                record["eval_seconds"] = round(time.perf_counter() - start, 3)
                return record
        reason = _memory_reason(None, floor, bound=True)
        if reason:
            record.update(stage="memory", reason=reason + " (activations of one layer, before conversion)",
                          ram_bytes=floor, macs=macs)  # fmt: skip
            record["eval_seconds"] = round(time.perf_counter() - start, 3)
            return record
        stage = "training"
        trained = train_genome(
            genome, X, y, speakers, payload["fit"], payload["val"], epochs=config.epochs,
            batch_size=config.batch_size, max_train_clips=config.max_train_clips, max_val_clips=config.max_val_clips,
            seed=config.seed, recalibrate_clips=config.recalibrate_clips, data_key=payload["data_key"],
            threads=config.threads,
        )  # fmt: skip
        if not math.isfinite(trained.val_accuracy):
            raise ValueError("the validation accuracy is not finite")
        record.update(val_accuracy=trained.val_accuracy, train_accuracy=trained.train_accuracy,
                      train_seconds=trained.seconds)  # fmt: skip
        stage = "int8 conversion"
        fit_rows = rows_of(speakers, payload["fit"])
        calib_rows = balanced_subset(fit_rows, y, config.n_calibration, config.seed + 1)
        calibration = peak_normalize(np.asarray(X[calib_rows]))
        model_bytes = tflite.to_int8(trained.model, tflite.clips_dataset(calibration, n=None))
        stage = "TFLite Micro"
        if config.int8_val_clips:
            val_rows = balanced_subset(rows_of(speakers, payload["val"]), y, config.int8_val_clips, config.seed + 2)
            x_val = peak_normalize(np.asarray(X[val_rows]))
        else:
            val_rows, x_val = None, None
        outputs, text, _ = tflite._tflm(model_bytes, x_val, None, True, 600.0)  # one child process: arena + outputs
        arena = tflite.parse_allocations(text)["total"]
        if val_rows is not None:
            record["val_accuracy_int8"] = float(np.mean(np.asarray(outputs).argmax(axis=1) == y[val_rows]))
        stage = "costs"
        costs = estimate_costs(model_bytes, arena, classes, n_samples=genome.preprocessing.n_samples)
        record.update(
            model_bytes=costs.model_bytes, flash_bytes=costs.flash_bytes, arena_bytes=costs.arena_bytes,
            ram_bytes=costs.ram_bytes, macs=costs.macs, latency_ms=1e3 * costs.latency_s.central,
            latency_ms_low=1e3 * costs.latency_s.low, latency_ms_high=1e3 * costs.latency_s.high,
            latency_ms_frontend=1e3 * costs.frontend_latency_s.central,
            energy_mj=costs.energy_mj.central, energy_mj_low=costs.energy_mj.low, energy_mj_high=costs.energy_mj.high,
            fitness=candidate_fitness(trained.val_accuracy, costs),
        )  # fmt: skip
        if not fits(costs):
            record.update(stage="memory", reason=_memory_reason(costs.flash_bytes, costs.ram_bytes))
        else:
            record.update(feasible=True, stage="", reason="")
    except Exception as err:  # noqa: BLE001 -- a bad candidate must never stop the search
        record.update(feasible=False, stage=stage, reason=f"{stage} failed: {_short(err)}")
    record["eval_seconds"] = round(time.perf_counter() - start, 3)
    return record


def _candidate_file(folder: Path, genome_id: str) -> Path:
    return folder / f"{genome_id}.json"


#: Memory a loky worker may gain after its first task before loky replaces it (loky's default: 300 MB).
WORKER_MEMORY_GROWTH_BYTES = 2_000_000_000


def _relax_loky_memory_check() -> None:
    """Let this loky worker grow by :data:`WORKER_MEMORY_GROWTH_BYTES` before it is replaced.

    loky restarts a worker whose memory grew by 300 MB since its first task, which a TensorFlow
    worker does every few candidates (converter and graph caches); every restart costs a new
    TensorFlow import. The limit is a module global that loky's worker loop reads after each
    task, so it can only be raised from inside the worker. Does nothing outside loky workers.
    """

    module = sys.modules.get("joblib.externals.loky.process_executor")
    if not multiprocessing.current_process().name.startswith("LokyProcess"):
        return
    if module is not None and getattr(module, "_MAX_MEMORY_LEAK_SIZE", 0) < WORKER_MEMORY_GROWTH_BYTES:
        module._MAX_MEMORY_LEAK_SIZE = WORKER_MEMORY_GROWTH_BYTES


def _evaluate_cached(genome_json: str, payload: dict[str, Any], config: SearchConfig, folder: str) -> dict[str, Any]:
    """Worker entry point: evaluate (through :func:`evaluate_genome`, looked up at call time) and cache."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _relax_loky_memory_check()
    genome = Genome.from_json(genome_json)
    target = _candidate_file(Path(folder), genome.genome_id())
    if target.is_file():
        return json.loads(target.read_text())
    record = evaluate_genome(genome, payload, config)
    atomic.write_json(target, jsonable(record))
    return record


def jsonable(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in record.items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        out[k] = v
    return out


def _crash_record(genome: Genome, err: BaseException, attempts: int = 1) -> dict[str, Any]:

    record = empty_record(genome)
    codes = re.search(r"exit codes of the workers are (\{[^}]*\})", str(err))
    how = f"exit codes {codes.group(1)}" if codes else _short(err)
    times = f", {attempts} times in a row" if attempts > 1 else ""
    record.update(stage="process", reason=f"the evaluation process died ({how}{times})")
    return record


def evaluate_many(
    genomes: Sequence[Genome],
    data: TaskData,
    config: SearchConfig,
    progress: bool = True,
    desc: str = "candidates",
) -> list[dict[str, Any]]:
    """Evaluate ``genomes`` (cached per genome and protocol), in order; in parallel when ``n_jobs > 1``."""
    folder = cache_dir("nas", "candidates", protocol_key(data, config))
    payload = data.payload()
    results: dict[int, dict[str, Any]] = {}
    todo = []
    for i, genome in enumerate(genomes):
        target = _candidate_file(folder, genome.genome_id())
        if target.is_file():
            results[i] = json.loads(target.read_text())
        else:
            todo.append(i)
    bar = tqdm(total=len(genomes), initial=len(results), desc=desc, unit="cand", disable=not progress, leave=False)
    address = cluster.scheduler_address(config.scheduler)
    if address and todo:
        _evaluate_on_cluster(address, genomes, todo, data, config, folder, results, bar)
    elif config.n_jobs == 1:
        for i in todo:
            results[i] = _evaluate_cached(genomes[i].to_json(), payload, config, str(folder))
            bar.update(1)
    elif todo:
        _evaluate_parallel(genomes, todo, payload, config, folder, results, bar)
    bar.close()
    return [from_json(results[i]) for i in range(len(genomes))]


def _evaluate_remote(genome_json: str, payload: dict[str, Any], config: SearchConfig) -> dict[str, Any]:
    """Cluster worker entry point: one candidate's record (the client writes it, see :func:`_evaluate_on_cluster`)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return jsonable(evaluate_genome(Genome.from_json(genome_json), payload, config))


def _evaluate_on_cluster(address, genomes, todo, data: TaskData, config, folder: Path, results, bar) -> None:
    """Evaluate ``genomes[todo]`` on the Dask cluster at ``address``; write each record as it arrives."""
    client = cluster.connect(address)
    try:
        payload = cluster.share(client, data.payload(inline=True))

        def keep(task: cluster.Task, record: dict[str, Any]) -> None:
            i = int(task.label)
            atomic.write_json(_candidate_file(folder, genomes[i].genome_id()), record)
            results[i] = record
            bar.update(1)

        def crashed(task: cluster.Task, error: BaseException) -> bool:
            """A candidate that killed every worker it ran on is recorded as crashed, as locally."""
            from distributed import KilledWorker  # deferred: see cluster.connect

            if not isinstance(error, KilledWorker):
                return False
            i = int(task.label)
            record = jsonable(_crash_record(genomes[i], error))
            keep(task, record)
            return True

        tasks = [cluster.Task(key=f"candidate-{folder.name}-{genomes[i].genome_id()}",
                              args=(genomes[i].to_json(), payload, config), label=str(i)) for i in todo]  # fmt: skip
        unique = {t.key: t for t in tasks}  # the same genome twice in a generation is evaluated once
        cluster.run_tasks(client, _evaluate_remote, list(unique.values()), keep, on_error=crashed, progress=False)
        for t in tasks:
            if int(t.label) not in results:
                twin = unique[t.key]
                results[int(t.label)] = results[int(twin.label)]
                bar.update(1)
    finally:
        client.close()


def _evaluate_parallel(genomes, todo, payload, config, folder, results, bar) -> None:

    def jobs(indices):
        return (delayed(_evaluate_cached)(genomes[i].to_json(), payload, config, str(folder)) for i in indices)

    # n_jobs, not fewer for a short list: with one job joblib would run it here, unprotected
    try:
        runner = Parallel(n_jobs=config.n_jobs, backend="loky", return_as="generator")
        for i, record in zip(todo, runner(jobs(todo)), strict=False):
            results[i] = record
            bar.update(1)
    except (TerminatedWorkerError, BrokenProcessPool):
        for i in todo:  # retry the unfinished ones alone (joblib starts fresh workers), to find the culprit
            if i in results:
                continue
            results[i] = _evaluate_alone(lambda i=i: Parallel(n_jobs=config.n_jobs, backend="loky")(jobs([i]))[0],
                                         genomes[i], folder)  # fmt: skip
            bar.update(1)


#: Times a candidate, retried alone, may kill its worker (each death starts new workers) before it is recorded as crashed.
#: More than one, because a worker can also die of damage done by the candidates before it (the
#: default search saw segfaults and heap aborts in long-lived workers whose candidates then trained
#: fine alone): a crash record must mean the candidate itself, or the search would differ by machine.
CRASH_ATTEMPTS = 3


def _evaluate_alone(attempt, genome: Genome, folder: Path) -> dict[str, Any]:
    """Run ``attempt()`` (one candidate in fresh workers) up to :data:`CRASH_ATTEMPTS` times; record a crash."""
    for tries in range(1, CRASH_ATTEMPTS + 1):
        try:
            return attempt()
        except (TerminatedWorkerError, BrokenProcessPool) as err:
            if tries == CRASH_ATTEMPTS:
                record = jsonable(_crash_record(genome, err, tries))
                atomic.write_json(_candidate_file(folder, genome.genome_id()), record)
                return record
    raise AssertionError("unreachable")


def from_json(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: record.get(k) for k in RECORD_COLUMNS}
    for k in ("val_accuracy", "val_accuracy_int8", "fitness", "train_accuracy"):
        out[k] = float("nan") if out[k] is None else float(out[k])
    return out


# ---- the published architectures under the same protocol -------------------------------------
def evaluate_published_data(
    data: TaskData, config: SearchConfig, progress: bool = True, variants: Sequence[str] = PUBLISHED_VARIANTS
) -> pd.DataFrame:
    """:func:`evaluate_published` on prepared :class:`TaskData` (under the protocol, without a latency budget)."""
    config = replace(config, max_latency_ms=None)  # the paper's models are measured, never budgeted
    published = published_candidates(config.task, variants)
    records = evaluate_many(list(published.values()), data, config, progress=progress, desc="published models")
    table = pd.DataFrame(records, columns=list(RECORD_COLUMNS))
    table.insert(0, "model", list(published))
    table.insert(1, "variant", [name.split("_", 1)[1] for name in published])
    table.insert(2, "task", config.task)
    table["generation"] = 0
    return table


def evaluate_published(
    corpus, config: SearchConfig, progress: bool = True, variants: Sequence[str] = PUBLISHED_VARIANTS
) -> pd.DataFrame:
    """The paper's three EvoNAS architectures for ``config.task``, evaluated like every candidate.

    Same corpus, speakers, training proxy, int8 conversion and cost model as :func:`run_search`
    (they share :func:`evaluate_genome` and its cache), trained from scratch: the published trained
    weights belong to another corpus and protocol. Call once per task for all six published models.
    variants: a subset of ``("accurate", "fastest", "fittest")`` (a quick build may skip some).
    Returns one row per model (``model``, ``variant``, ``task`` and the record columns).
    """
    data = task_data(corpus, config, progress=progress)
    return evaluate_published_data(data, config, progress=progress, variants=variants)


def trained_candidate(corpus_or_data, config: SearchConfig, genome: Genome, test: bool = True):
    """The trained float model of ``genome`` under ``config``'s protocol, scored on the test speakers.

    Loads the weights cached by the search (or trains them), for the deployment chapter; returns a
    :class:`~spoken100.nas.train.TrainedCandidate` whose ``test_accuracy`` is set when ``test``.
    """
    data = corpus_or_data if isinstance(corpus_or_data, TaskData) else task_data(corpus_or_data, config)
    return train_genome(
        genome, data.X, data.y, data.speakers, data.fit_speakers, data.val_speakers,
        data.test_speakers if test else None, epochs=config.epochs, batch_size=config.batch_size,
        max_train_clips=config.max_train_clips, max_val_clips=config.max_val_clips, seed=config.seed,
        recalibrate_clips=config.recalibrate_clips, data_key=data.data_key, threads=config.threads,
    )  # fmt: skip
