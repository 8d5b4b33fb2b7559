"""EvoNAS on SpokeN-100: a multi-objective evolutionary search with NSGA-II, checkpointed and resumable.

**What is searched.** Genomes of :mod:`spoken100.nas.genome` (STFT/mel front end, feature blocks,
head) for one task (``"language"``, 4 classes, or ``"number"``, 100 classes).

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
unfinished candidates of that generation are retried one by one in a fresh worker, and the one
that kills it again is recorded as crashed.

**Selection.** NSGA-II (:func:`deap.tools.selNSGA2`, :func:`deap.tools.sortNondominated`) over
three objectives: validation accuracy (maximised), estimated latency (central value, minimised)
and flash (minimised). RAM is a hard constraint only. Infeasible candidates get objective values
that every feasible candidate dominates (constraint domination), ordered by how far they are over
the limits. Parents are chosen by binary tournaments on (front rank, crowding distance); a child is
a one-point crossover of two parents (probability ``crossover_rate``) or a copy of one, then always
mutated (:func:`~spoken100.nas.genome.mutate`, per-gene rate ``mutation_rate``), and is redrawn if
its genome was evaluated before. Survivors are the best ``population`` of parents plus children
(``mu + lambda``, elitist). Generation 1 is random, as in EvoNAS; ``warm_start`` adds the paper's
three architectures to it (then the search is no longer independent of theirs, and a child that
only changes, say, a dropout rate can "dominate" its parent by training noise alone).

**Picks** (from the Pareto front of every feasible candidate evaluated):

* *most accurate*: highest validation accuracy;
* *fastest*: lowest estimated latency among the front's candidates that beat chance (1/classes)
  -- a network that answers one class is fast and useless (the paper's "fastest" number model
  scored 2.18 %, paper-facts §4.4); if none beats chance, the fastest of the front;
* *fittest*: highest lab fitness ``0.6 acc + 0.2 min(1, 100 kB / ROM) + 0.2 min(1, 1 mJ / E)``
  (:func:`spoken100.nas.costs.candidate_fitness`, central energy estimate), so "fittest" means what
  it meant in the lab. The fitness grows with accuracy and falls with flash and energy (which is
  proportional to latency), so its maximum always lies on the front.

**Reproducibility.** All randomness of the search comes from one ``numpy.random.Generator`` seeded
by ``seed``, and training is deterministic (:mod:`spoken100.nas.train`): the same seed and settings
give the same search, whatever ``n_jobs``. After every generation a snapshot (the generation's new
records, the survivors, the generator's state) is written atomically to
``cache_dir("nas", "search", <task>-<key>)/generation-<g>.json``; an interrupted search resumes
after the last complete generation, and a longer search (more ``generations``, same settings)
continues a shorter one. Every candidate's record is also cached on its own under
``cache_dir("nas", "candidates", <protocol key>)``, shared with :func:`evaluate_published`, so a
cached rerun reads JSON only and does not even import TensorFlow.

**Speakers.** Fold ``fold`` of :func:`spoken100.data.splits.corpus_folds`; its training
speakers are split by :func:`spoken100.data.splits.honest_split` into fit and validation
speakers (the same split as chapter 4's honest protocol at ``split_seed=0``). The fold's test
speakers are held out for the deployment chapter (:func:`trained_candidate`).
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from deap import base, tools
from joblib import Parallel, delayed
from joblib.externals.loky.process_executor import BrokenProcessPool, TerminatedWorkerError
from tqdm.auto import tqdm

from spoken100.data import atomic
from spoken100.data.audio import peak_normalize
from spoken100.data.codehash import code_fingerprint
from spoken100.data.inputs import clip_input, corpus_inputs, targets
from spoken100.data.paths import cache_dir
from spoken100.data.splits import corpus_folds, honest_split
from spoken100.data.tasks import PUBLISHED_TASK, TASK_CLASSES
from spoken100.nas import genome as genome_module
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
from spoken100.nas.genome import DEFAULT_SPACE, Genome, crossover, mutate, random_genome, validate
from spoken100.nas.macs import genome_macs
from spoken100.nas.published import published_architecture
from spoken100.nas.train import (
    LAB_SCHEDULE,
    RECALIBRATE_CLIPS,
    balanced_subset,
    configure_tensorflow,
    fresh_model,
    rows_of,
    train_genome,
)

#: NSGA-II objectives: (record column, DEAP weight): accuracy up, latency and flash down.
OBJECTIVES: tuple[tuple[str, float], ...] = (("val_accuracy", 1.0), ("latency_ms", -1.0), ("flash_bytes", -1.0))
ROLES = ("most accurate", "fastest", "fittest")
#: Published variant behind each role, and the published model name prefix per task.
ROLE_VARIANTS = {"most accurate": "accurate", "fastest": "fastest", "fittest": "fittest"}
#: Columns of every candidate record (one row of :attr:`SearchResult.candidates`).
RECORD_COLUMNS = (
    "genome_id", "generation", "description", "genome", "val_accuracy", "val_accuracy_int8", "train_accuracy",
    "n_params", "model_bytes", "flash_bytes", "arena_bytes", "ram_bytes", "macs", "macs_frontend", "macs_depthwise",
    "latency_ms", "latency_ms_low", "latency_ms_high", "latency_ms_frontend", "energy_mj", "energy_mj_low", "energy_mj_high", "fitness", "feasible", "stage", "reason",
    "train_seconds", "eval_seconds",
)  # fmt: skip

#: Columns of :attr:`SearchResult.history` (one row per generation; statistics of the survivors).
HISTORY_COLUMNS = (
    "generation", "evaluated", "feasible_new", "best_val_accuracy", "median_val_accuracy", "best_fitness",
    "median_fitness", "front_size", "seconds",
)  # fmt: skip


class SearchError(ValueError):
    """The search cannot start: unknown task, impossible sizes, too few speakers."""


# ---- configuration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchConfig:
    """Every setting of one search and of the evaluation protocol it shares with the published models.

    task: ``"language"`` or ``"number"``.
    population: survivors per generation (``mu``). initial_population: size of the random
        generation 1 (default ``population``; the lab started with 300 and kept 100).
    offspring: children per generation (``lambda``; default ``population``).
    generations: generations including the random first one (the lab ran 25).
    epochs, batch_size, max_train_clips, max_val_clips, recalibrate_clips: the training proxy
        (:func:`spoken100.nas.train.train_genome`); the lab's learning-rate schedule is used.
    n_calibration: real clips of the int8 conversion's representative set.
    int8_val_clips: validation clips scored with the trained int8 model (0: skip).
    crossover_rate, mutation_rate: probability of crossover per child; per-gene mutation rate.
    fold, n_folds, n_val_speakers, split_seed: the speaker split (see the module docstring).
    seed: seeds the search and every candidate's training.
    warm_start: put the paper's three architectures into generation 1 (with
        ``initial_population - 3`` random genomes); off by default, so the search is independent.
    max_latency_ms: a latency budget (the central estimate of :mod:`spoken100.nas.costs`): a
        candidate above it is infeasible, found from its MAC count before any training, so it costs
        a fraction of a second. ``None``: no budget. Chapter 5 can set it to the paper's fittest
        model's latency (``latency_budget="paper-fittest"``, :func:`search_configs`), which turns
        the search into a search for a model that dominates that one.
    n_jobs: parallel evaluations (joblib processes when > 1); it does not change the result.
    threads: TensorFlow intra-op threads of every training (1: the weights do not depend on the
        machine's core count, see :func:`spoken100.nas.train.configure_tensorflow`).
    """

    # The defaults are the default profile's (profiles/default.yml, checked by tests/test_defaults.py).
    task: str = "language"
    population: int = 10
    initial_population: int | None = None
    offspring: int | None = 10
    generations: int = 8
    epochs: int = 1
    batch_size: int = 32
    max_train_clips: int | None = 2000
    max_val_clips: int | None = 800
    recalibrate_clips: int = RECALIBRATE_CLIPS
    n_calibration: int = 32
    int8_val_clips: int = 100
    crossover_rate: float = 0.5
    mutation_rate: float = 0.2
    fold: int = 1
    n_folds: int = 8
    n_val_speakers: int = 4
    split_seed: int = 0
    seed: int = 0
    warm_start: bool = False
    max_latency_ms: float | None = None
    n_jobs: int = 2
    threads: int | None = 1

    @property
    def n_classes(self) -> int:
        return TASK_CLASSES[self.task]

    @property
    def mu(self) -> int:
        return int(self.population)

    @property
    def lam(self) -> int:
        return int(self.offspring if self.offspring is not None else self.population)

    @property
    def n_initial(self) -> int:
        return int(self.initial_population if self.initial_population is not None else self.population)

    def validate(self) -> None:
        """Refuse impossible settings before anything runs."""
        if self.task not in TASK_CLASSES:
            raise SearchError(f"unknown task {self.task!r}; choose from {', '.join(TASK_CLASSES)}")
        for name in ("population", "generations", "epochs", "batch_size", "n_jobs", "fold", "n_folds"):
            if int(getattr(self, name)) < 1:
                raise SearchError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.n_initial < self.mu or self.lam < 1:
            raise SearchError("initial_population must be >= population, and offspring >= 1")
        if self.n_calibration < 1 or self.int8_val_clips < 0 or self.recalibrate_clips < 0:
            raise SearchError("n_calibration must be >= 1; int8_val_clips and recalibrate_clips >= 0")
        if not 0 <= self.crossover_rate <= 1 or not 0 < self.mutation_rate <= 1:
            raise SearchError("crossover_rate must be in [0, 1] and mutation_rate in (0, 1]")

    def protocol(self) -> dict[str, Any]:
        """The settings that determine one candidate's evaluation (shared with the published models)."""
        return {"task": self.task, "epochs": self.epochs, "batch_size": self.batch_size,
                "max_train_clips": self.max_train_clips, "max_val_clips": self.max_val_clips,
                "recalibrate_clips": self.recalibrate_clips,
                "n_calibration": self.n_calibration, "int8_val_clips": self.int8_val_clips, "seed": self.seed,
                "schedule": [list(s) for s in LAB_SCHEDULE], "normalize": True,
                "threads": self.threads,
                # only when set, so that unbudgeted searches keep their cached evaluations
                **({"max_latency_ms": self.max_latency_ms} if self.max_latency_ms is not None else {})}  # fmt: skip

    def search_settings(self) -> dict[str, Any]:
        """The settings that determine the search (everything but generations and n_jobs)."""
        skip = {"generations", "n_jobs"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}


#: Chapter 5's parameters that are not search settings: which tasks to search, which published models
#: to train, and the latency budget in words (resolved into ``max_latency_ms``).
CHAPTER_ONLY_PARAMETERS = ("tasks", "published_variants", "latency_budget")


def published_latency_ms(task: str, variant: str = "fittest", threads: int | None = 1) -> float:
    """The estimated latency (central, ms) of a published architecture for ``task``: MACs only, no training.

    threads: TensorFlow's intra-op threads, fixed before this first build in the process (see
    :func:`spoken100.nas.train.configure_tensorflow`), so that a later training here is unaffected.
    """

    return estimated_latency_ms(published_architecture(variant, TASK_CLASSES[task]), threads)


def latency_budget_ms(budget: Any, task: str, threads: int | None = 1) -> float | None:
    """``max_latency_ms`` from chapter 5's ``latency_budget``: ``None``, a number of ms, or ``"paper-<variant>"``."""
    if budget is None:
        return None
    if isinstance(budget, str):
        variant = budget.removeprefix("paper-")
        if not budget.startswith("paper-") or variant not in PUBLISHED_VARIANTS:
            raise SearchError(f"latency_budget must be a number of ms, None or 'paper-fittest' (or -accurate, "
                              f"-fastest), not {budget!r}")  # fmt: skip
        return round(published_latency_ms(task, variant, threads), 3)
    if float(budget) <= 0:
        raise SearchError(f"latency_budget must be positive, got {budget}")
    return float(budget)


def search_configs(parameters: dict[str, Any]) -> dict[str, SearchConfig]:
    """One :class:`SearchConfig` per task from chapter 5's papermill parameters.

    parameters: chapter 5's parameter names and values (``tasks``, ``latency_budget`` --
        :func:`latency_budget_ms` -- and any :class:`SearchConfig` field; ``published_variants``
        and the corpus parameters ``data``, ``profile`` and ``n_speakers`` are ignored). Chapter 6 receives the same mapping from the profile, so it
        deploys the picks of exactly chapter 5's searches; an unknown name is refused.
    """
    known = {f.name for f in fields(SearchConfig)} - {"task"}
    settings = {k: v for k, v in parameters.items()
                if k not in (*CHAPTER_ONLY_PARAMETERS, "data", "profile", "n_speakers")}  # fmt: skip
    unknown = sorted(set(settings) - known)
    if unknown:
        raise SearchError(f"unknown search setting(s) {unknown}; known: {sorted(known)}")
    tasks = parameters.get("tasks", list(TASK_CLASSES))
    budget = parameters.get("latency_budget")
    configs = {task: SearchConfig(task=task, **settings) for task in tasks}
    if budget is not None:
        configs = {task: replace(c, max_latency_ms=latency_budget_ms(budget, task, c.threads))
                   for task, c in configs.items()}  # fmt: skip
    for config in configs.values():
        config.validate()
    return configs


def _hash(obj: Any, n: int = 16) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]


# ---- data ---------------------------------------------------------------------------------------
@dataclass
class TaskData:
    """Inputs, labels and the speaker split of one task, as every candidate evaluation needs them.

    X: waveforms ``(n, 8000)``, preferably the read-only memory map of the cached inputs (worker
        processes then open the file instead of receiving a copy). data_key: fingerprint of X and y.
    """

    task: str
    X: np.ndarray
    y: np.ndarray
    speakers: np.ndarray
    fit_speakers: tuple[str, ...]
    val_speakers: tuple[str, ...]
    test_speakers: tuple[str, ...]
    data_key: str
    split_source: str = ""
    corpus_label: str = ""

    def split(self) -> dict[str, Any]:
        """Speakers and clip counts of the split (JSON-ready)."""
        counts = {k: int(np.isin(self.speakers, list(v)).sum()) for k, v in
                  (("fit", self.fit_speakers), ("val", self.val_speakers), ("test", self.test_speakers))}  # fmt: skip
        return {"fit_speakers": list(self.fit_speakers), "val_speakers": list(self.val_speakers),
                "test_speakers": list(self.test_speakers), "clips": counts, "source": self.split_source}  # fmt: skip

    def payload(self) -> dict[str, Any]:
        """What a worker process needs: the memory-mapped file's path instead of the array when possible."""
        path = getattr(self.X, "filename", None)
        x: Any = ("path", str(path)) if isinstance(self.X, np.memmap) and path else ("array", self.X)
        return {"task": self.task, "x": x, "y": self.y, "speakers": self.speakers,
                "fit": self.fit_speakers, "val": self.val_speakers, "data_key": self.data_key}  # fmt: skip


def _payload_x(payload: dict[str, Any]) -> np.ndarray:
    kind, value = payload["x"]
    return np.load(value, mmap_mode="r") if kind == "path" else value


def task_data(corpus, config: SearchConfig, progress: bool = True) -> TaskData:
    """The waveforms, labels and speaker split of ``config.task`` on ``corpus`` (inputs cached)."""

    config.validate()
    folds, source = corpus_folds(corpus, config.n_folds)
    chosen = [f for f in folds if f.fold == config.fold]
    if not chosen:
        raise SearchError(f"fold {config.fold} does not exist (1-{len(folds)})")
    fold = chosen[0]
    fit, val = honest_split(fold.train, config.n_val_speakers, seed=config.split_seed + fold.fold,
                            genders=corpus.speakers)  # fmt: skip
    index = corpus.index
    X = corpus_inputs(corpus.root, index, "waveform", progress=progress, mmap=True)
    return TaskData(
        task=config.task,
        X=X,
        y=targets(index, config.task),
        speakers=index["speaker"].to_numpy(dtype=str),
        fit_speakers=tuple(fit),
        val_speakers=tuple(val),
        test_speakers=tuple(fold.test),
        data_key=_hash([corpus.digest, "waveform", code_fingerprint(clip_input), config.task]),
        split_source=f"fold {fold.fold} of {source}",
        corpus_label=corpus.label,
    )


# ---- one candidate ------------------------------------------------------------------------------
def protocol_key(data: TaskData | dict[str, Any], config: SearchConfig) -> str:
    """Cache key of a candidate evaluation: data, split and protocol (not the search's own settings)."""
    d = data.payload() if isinstance(data, TaskData) else data
    return _hash(
        [code_fingerprint(evaluate_genome), d["data_key"], sorted(d["fit"]), sorted(d["val"]), config.protocol()]
    )


def _empty_record(genome: Genome) -> dict[str, Any]:
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
    record = _empty_record(genome)
    X, y, speakers = _payload_x(payload), np.asarray(payload["y"]), np.asarray(payload["speakers"])
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
    atomic.write_json(target, _jsonable(record))
    return record


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in record.items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        out[k] = v
    return out


def _crash_record(genome: Genome, err: BaseException) -> dict[str, Any]:

    record = _empty_record(genome)
    codes = re.search(r"exit codes of the workers are (\{[^}]*\})", str(err))
    how = f"exit codes {codes.group(1)}" if codes else _short(err)
    record.update(stage="process", reason=f"the evaluation process died ({how})")
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
    if config.n_jobs == 1:
        for i in todo:
            results[i] = _evaluate_cached(genomes[i].to_json(), payload, config, str(folder))
            bar.update(1)
    elif todo:
        _evaluate_parallel(genomes, todo, payload, config, folder, results, bar)
    bar.close()
    return [_from_json(results[i]) for i in range(len(genomes))]


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
            try:
                results[i] = Parallel(n_jobs=config.n_jobs, backend="loky")(jobs([i]))[0]
            except (TerminatedWorkerError, BrokenProcessPool) as err:
                results[i] = _crash_record(genomes[i], err)
                atomic.write_json(_candidate_file(folder, genomes[i].genome_id()), _jsonable(results[i]))
            bar.update(1)


def _from_json(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: record.get(k) for k in RECORD_COLUMNS}
    for k in ("val_accuracy", "val_accuracy_int8", "fitness", "train_accuracy"):
        out[k] = float("nan") if out[k] is None else float(out[k])
    return out


# ---- NSGA-II ------------------------------------------------------------------------------------
def _deap():

    class Fitness(base.Fitness):
        weights = tuple(w for _, w in OBJECTIVES)

    return Fitness, tools


class _Individual:
    """What DEAP's selection needs: an object with a ``fitness`` (and our genome id)."""

    def __init__(self, key: str, values: tuple[float, ...], fitness_class) -> None:
        self.key = key
        self.fitness = fitness_class(values)


def objective_values(record: dict[str, Any]) -> tuple[float, float, float]:
    """NSGA-II objective values: feasible ``(accuracy, latency_ms, flash_bytes)``; infeasible: dominated ones.

    An infeasible candidate gets accuracy -1 and latency/flash far beyond any feasible value,
    scaled by how far over the memory limits it is (unknown costs count as 1000 x over), so that
    NSGA-II prefers feasible candidates, then the least infeasible (constraint domination).
    """

    acc = record.get("val_accuracy")
    if record.get("feasible") and acc is not None and math.isfinite(acc):
        return float(acc), float(record["latency_ms"]), float(record["flash_bytes"])
    flash, ram = record.get("flash_bytes"), record.get("ram_bytes")
    over = 1e3 if flash is None or ram is None else max(flash / FLASH_LIMIT_BYTES, ram / RAM_LIMIT_BYTES)
    return -1.0, 1e9 * (1 + over), 1e12 * (1 + over)


def _individuals(records: Sequence[dict[str, Any]]) -> list[_Individual]:
    fitness_class, _ = _deap()
    return [_Individual(r["genome_id"], objective_values(r), fitness_class) for r in records]


def nsga2_select(records: Sequence[dict[str, Any]], k: int) -> list[str]:
    """Genome ids of the ``k`` survivors of NSGA-II selection (:func:`deap.tools.selNSGA2`), in its order."""
    _, tools = _deap()
    return [ind.key for ind in tools.selNSGA2(_individuals(records), k)]


def ranks_and_crowding(records: Sequence[dict[str, Any]]) -> dict[str, tuple[int, float]]:
    """Front rank (0 = non-dominated) and crowding distance of every record (for tournaments)."""
    _, tools = _deap()
    individuals = _individuals(records)
    out = {}
    for rank, front in enumerate(tools.sortNondominated(individuals, len(individuals))):
        tools.emo.assignCrowdingDist(front)
        for ind in front:
            out[ind.key] = (rank, float(ind.fitness.crowding_dist))
    return out


def pareto_front(records: Sequence[dict[str, Any]]) -> list[str]:
    """Genome ids of the non-dominated feasible records (:func:`deap.tools.sortNondominated`)."""
    _, tools = _deap()
    feasible = [r for r in records if r.get("feasible") and math.isfinite(r.get("val_accuracy", float("nan")))]
    if not feasible:
        return []
    return [ind.key for ind in tools.sortNondominated(_individuals(feasible), len(feasible), first_front_only=True)[0]]


def _tournament(pool: list[str], info: dict[str, tuple[int, float]], rng: np.random.Generator) -> str:
    a, b = (pool[int(i)] for i in rng.integers(len(pool), size=2))
    (ra, ca), (rb, cb) = info[a], info[b]
    if ra != rb:
        return a if ra < rb else b
    if ca != cb:
        return a if ca > cb else b
    return a if rng.random() < 0.5 else b


def make_offspring(
    parents: Sequence[dict[str, Any]], n: int, rng: np.random.Generator, config: SearchConfig, seen: set[str]
) -> list[Genome]:
    """``n`` new children of ``parents`` (tournament, crossover, mutation), none with an id in ``seen``."""
    info = ranks_and_crowding(parents)
    genomes = {r["genome_id"]: Genome.from_json(r["genome"]) for r in parents}
    pool = [r["genome_id"] for r in parents]
    children: list[Genome] = []
    taken = set(seen)
    for _ in range(n):
        child = None
        for _attempt in range(50):
            a = genomes[_tournament(pool, info, rng)]
            if len(pool) > 1 and rng.random() < config.crossover_rate:
                b = genomes[_tournament(pool, info, rng)]
                candidate = crossover(a, b, rng)
            else:
                candidate = a
            candidate = mutate(candidate, rng, rate=config.mutation_rate)
            if candidate.genome_id() not in taken and within_budget(candidate, config):
                child = candidate
                break
        if child is None:  # the neighbourhood is exhausted: a random newcomer
            child = _random_within_budget(rng, config, taken)
        taken.add(child.genome_id())
        children.append(child)
    return children


def initial_population_genomes(config: SearchConfig, rng: np.random.Generator) -> list[Genome]:
    """Generation 1: ``initial_population`` random genomes, or with ``warm_start`` the paper's three
    architectures followed by ``initial_population - 3`` random ones."""
    seeded = list(published_candidates(config.task).values()) if config.warm_start else []
    taken = {g.genome_id() for g in seeded}
    if config.max_latency_ms is not None:  # draw until enough genomes fit the budget
        randoms = []
        for _ in range(max(0, config.n_initial - len(seeded))):
            genome = _random_within_budget(rng, config, taken)
            taken.add(genome.genome_id())
            randoms.append(genome)
        return (seeded + randoms)[: config.n_initial]
    randoms = initial_genomes(max(0, config.n_initial - len(seeded)) + len(seeded), rng, config.n_classes)
    return (seeded + [g for g in randoms if g.genome_id() not in taken])[: config.n_initial]


_LATENCY_CACHE: dict[str, float] = {}


def estimated_latency_ms(genome: Genome, threads: int | None = 1) -> float:
    """The central latency estimate of ``genome`` (ms) from its MACs per class: builds nothing, trains nothing.

    The MACs come from the genome alone (:func:`spoken100.nas.macs.genome_macs`, checked against the
    Keras count by the tests), so no TensorFlow is needed. threads: kept for callers; unused.
    """
    key = genome.genome_id()
    if key not in _LATENCY_CACHE:
        try:
            validate(genome, space=None)
            _LATENCY_CACHE[key] = 1e3 * estimate_latency(genome_macs(genome)).central
        except Exception:  # noqa: BLE001 -- a genome that does not build is judged by evaluate_genome
            _LATENCY_CACHE[key] = 0.0
    return _LATENCY_CACHE[key]


def within_budget(genome: Genome, config: SearchConfig) -> bool:
    """Whether ``genome`` fits ``config.max_latency_ms`` (always, without a budget)."""
    return config.max_latency_ms is None or estimated_latency_ms(genome, config.threads) <= config.max_latency_ms


def _random_within_budget(rng: np.random.Generator, config: SearchConfig, taken: set[str],
                          tries: int = 2000) -> Genome:  # fmt: skip
    """A random genome not in ``taken`` that fits the latency budget (the last draw if none does)."""
    genome = random_genome(rng, DEFAULT_SPACE, config.n_classes)
    for _ in range(tries):
        if genome.genome_id() not in taken and within_budget(genome, config):
            return genome
        genome = random_genome(rng, DEFAULT_SPACE, config.n_classes)
    return genome


def initial_genomes(n: int, rng: np.random.Generator, n_classes: int) -> list[Genome]:
    """``n`` distinct random genomes (EvoNAS's random generation 1)."""
    out: dict[str, Genome] = {}
    for _ in range(100 * n):
        g = random_genome(rng, DEFAULT_SPACE, n_classes)
        out.setdefault(g.genome_id(), g)
        if len(out) == n:
            break
    return list(out.values())


# ---- results ------------------------------------------------------------------------------------
def _median(values: list[float]) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else float("nan")


def _max(values: list[float]) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(max(finite)) if finite else float("nan")


def pick_roles(records: Sequence[dict[str, Any]], n_classes: int) -> dict[str, str]:
    """Genome id of the most accurate, fastest and fittest candidate on the Pareto front (see the module docstring)."""
    front_ids = pareto_front(records)
    if not front_ids:
        return {}
    by_id = {r["genome_id"]: r for r in records}
    front = [by_id[i] for i in front_ids]
    accurate = max(front, key=lambda r: (r["val_accuracy"], -r["latency_ms"], -r["flash_bytes"], r["genome_id"]))
    useful = [r for r in front if r["val_accuracy"] > 1.0 / n_classes] or front
    fastest = min(useful, key=lambda r: (r["latency_ms"], -r["val_accuracy"], r["flash_bytes"], r["genome_id"]))
    fittest = max(front, key=lambda r: (r["fitness"], r["val_accuracy"], -r["latency_ms"], r["genome_id"]))
    return {"most accurate": accurate["genome_id"], "fastest": fastest["genome_id"], "fittest": fittest["genome_id"]}


@dataclass
class SearchResult:
    """A finished (or loaded) search.

    candidates: one row per evaluated genome (columns :data:`RECORD_COLUMNS`; ``generation`` is the
        one that first produced it), in evaluation order. front: the Pareto front of the feasible
        ones (with ``on_front``). picks: one row per role (index ``role``). history: one row per
        generation (the survivors' best and median validation accuracy and fitness, the size of the
        front so far, seconds). population: genome ids of the final survivors.
    seconds: the search's evaluation wall time, summed over its generations (and over resumed runs).
    cached: ``True`` when nothing had to be evaluated in this call.
    """

    config: SearchConfig
    candidates: pd.DataFrame
    history: pd.DataFrame
    population: list[str]
    picks: pd.DataFrame
    split: dict[str, Any]
    folder: Path
    seconds: float
    cached: bool
    corpus_label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def front(self) -> pd.DataFrame:
        return self.candidates[self.candidates.on_front].sort_values("latency_ms")

    def genome(self, genome_id: str) -> Genome:
        """The genome of an evaluated candidate."""
        row = self.candidates[self.candidates.genome_id == genome_id]
        if row.empty:
            raise KeyError(f"genome {genome_id} was not evaluated in this search")
        return Genome.from_json(row.iloc[0].genome)

    def pick(self, role: str) -> Genome:
        """The genome picked for ``role`` (``"most accurate"``, ``"fastest"`` or ``"fittest"``)."""
        return self.genome(self.picks.loc[role, "genome_id"])


def _result(config: SearchConfig, data_split: dict, folder: Path, snapshots: list[dict], cached: bool,
            corpus_label: str) -> SearchResult:  # fmt: skip
    records: list[dict[str, Any]] = []
    for snap in snapshots:
        for r in snap["records"]:
            records.append({**_from_json(r), "generation": snap["generation"]})
    table = pd.DataFrame(records, columns=list(RECORD_COLUMNS))
    front = set(pareto_front(records))
    table["on_front"] = table.genome_id.isin(front)
    roles = pick_roles(records, config.n_classes)
    picks = pd.DataFrame(
        [{"role": role, **table[table.genome_id == gid].iloc[0].to_dict()} for role, gid in roles.items()]
    )
    if not picks.empty:
        picks = picks.set_index("role")
    history = pd.DataFrame([snap["stats"] for snap in snapshots], columns=list(HISTORY_COLUMNS))
    return SearchResult(
        config=config, candidates=table, history=history, population=list(snapshots[-1]["population"]),
        picks=picks, split=data_split, folder=folder, seconds=float(sum(s["stats"]["seconds"] for s in snapshots)),
        cached=cached, corpus_label=corpus_label,
    )  # fmt: skip


def search_folder(data: TaskData, config: SearchConfig) -> Path:
    """Where the generation snapshots of this search live."""
    # the search space (genome module) is part of the key: a changed space never reloads old snapshots
    key = _hash([code_fingerprint(search, genome_module), config.search_settings(), protocol_key(data, config)])
    return cache_dir("nas", "search", f"{config.task}-{key}")


def _snapshot_file(folder: Path, generation: int) -> Path:
    return folder / f"generation-{generation:03d}.json"


def search(
    data: TaskData,
    config: SearchConfig,
    progress: bool = True,
    on_generation: Callable[[int], None] | None = None,
) -> SearchResult:
    """Run (or resume, or load) the search of ``config`` on prepared :class:`TaskData`.

    on_generation: called as ``on_generation(generation)`` after each generation's snapshot is
        written (e.g. to report progress elsewhere, or to interrupt a search in a test).
    """
    config.validate()
    if data.task != config.task:
        raise SearchError(f"the data are for the {data.task} task, the config for {config.task}")
    folder = search_folder(data, config)
    snapshots: list[dict[str, Any]] = []
    for g in range(1, config.generations + 1):
        f = _snapshot_file(folder, g)
        if not f.is_file():
            break
        snapshots.append(json.loads(f.read_text()))
    cached = len(snapshots) == config.generations
    if not cached:
        atomic.write_json(folder / "config.json", {"config": asdict(config), "split": data.split(),
                                                   "protocol_key": protocol_key(data, config)})  # fmt: skip
        rng = np.random.default_rng(config.seed)
        archive: dict[str, dict[str, Any]] = {}
        population: list[str] = []
        for snap in snapshots:
            for r in snap["records"]:
                archive[r["genome_id"]] = _from_json(r)
            population = list(snap["population"])
        if snapshots:
            rng.bit_generator.state = snapshots[-1]["rng"]
        bar = tqdm(total=config.generations, initial=len(snapshots), desc=f"EvoNAS {config.task}", unit="gen",
                   disable=not progress)  # fmt: skip
        for g in range(len(snapshots) + 1, config.generations + 1):
            began = time.perf_counter()
            if g == 1:
                genomes = initial_population_genomes(config, rng)
            else:
                genomes = make_offspring([archive[i] for i in population], config.lam, rng, config, set(archive))
            records = evaluate_many(genomes, data, config, progress=progress, desc=f"generation {g}")
            new = []
            for r in records:
                if r["genome_id"] not in archive:
                    archive[r["genome_id"]] = r
                    new.append(r)
            pool = list(dict.fromkeys(population + [r["genome_id"] for r in records]))
            population = nsga2_select([archive[i] for i in pool], min(config.mu, len(pool)))
            survivors = [archive[i] for i in population]
            feasible = [r for r in survivors if r["feasible"]]
            stats = {
                "generation": g,
                "evaluated": len(new),
                "feasible_new": sum(bool(r["feasible"]) for r in new),
                "best_val_accuracy": _max([r["val_accuracy"] for r in feasible]),
                "median_val_accuracy": _median([r["val_accuracy"] for r in feasible]),
                "best_fitness": _max([r["fitness"] for r in feasible]),
                "median_fitness": _median([r["fitness"] for r in feasible]),
                "front_size": len(pareto_front(list(archive.values()))),
                "seconds": round(time.perf_counter() - began, 3),
            }
            snap = {"generation": g, "records": [_jsonable(r) for r in new],
                    "population": population, "rng": rng.bit_generator.state, "stats": _jsonable(stats)}  # fmt: skip
            atomic.write_json(_snapshot_file(folder, g), snap)
            snapshots.append(json.loads(json.dumps(snap)))
            bar.update(1)
            if on_generation is not None:
                on_generation(g)
        bar.close()
    return _result(config, data.split(), folder, snapshots, cached, data.corpus_label)


def run_search(corpus, config: SearchConfig, progress: bool = True) -> SearchResult:
    """EvoNAS on ``corpus`` for ``config.task``: prepare the data and split, then :func:`search`.

    A finished search with the same corpus and settings is loaded from its snapshots (JSON only).
    """
    return search(task_data(corpus, config, progress=progress), config, progress=progress)


# ---- the published architectures under the same protocol -------------------------------------------
PUBLISHED_VARIANTS = ("accurate", "fastest", "fittest")


def published_candidates(task: str, variants: Sequence[str] = PUBLISHED_VARIANTS) -> dict[str, Genome]:
    """The paper's architectures for ``task`` as genomes, keyed ``"<languages|numbers>_<variant>"``.

    The language and number models share their architectures (paper-facts §5.2), so the genomes
    come from :func:`spoken100.nas.published.published_architecture` and need no ``.h5`` file.
    """

    unknown = sorted(set(variants) - set(PUBLISHED_VARIANTS))
    if unknown:
        raise SearchError(f"unknown published variant(s) {unknown}; choose from {', '.join(PUBLISHED_VARIANTS)}")
    n = TASK_CLASSES[task]
    return {f"{PUBLISHED_TASK[task]}_{v}": published_architecture(v, n) for v in PUBLISHED_VARIANTS if v in variants}


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


__all__ = [
    "HISTORY_COLUMNS",
    "OBJECTIVES",
    "PUBLISHED_VARIANTS",
    "RECORD_COLUMNS",
    "ROLES",
    "SearchConfig",
    "SearchError",
    "SearchResult",
    "TaskData",
    "evaluate_genome",
    "evaluate_many",
    "evaluate_published",
    "evaluate_published_data",
    "initial_genomes",
    "initial_population_genomes",
    "make_offspring",
    "nsga2_select",
    "objective_values",
    "pareto_front",
    "pick_roles",
    "protocol_key",
    "published_candidates",
    "ranks_and_crowding",
    "run_search",
    "search",
    "search_configs",
    "search_folder",
    "task_data",
    "trained_candidate",
]
