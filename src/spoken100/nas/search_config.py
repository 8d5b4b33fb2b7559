"""The settings of one EvoNAS search (:class:`SearchConfig`) and chapter 5's parameters turned into them.

:func:`search_configs` builds one config per task from the chapter's papermill parameters; chapter 6
receives the same mapping from the profile, so both chapters mean the same searches. A
``latency_budget`` of ``"paper-<variant>"`` becomes the calibrated estimate of that published
architecture (:func:`published_latency_ms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from spoken100.data.tasks import PUBLISHED_TASK, TASK_CLASSES
from spoken100.nas import budget
from spoken100.nas.genome import Genome
from spoken100.nas.published import published_architecture
from spoken100.nas.train import (
    LAB_SCHEDULE,
    RECALIBRATE_CLIPS,
)


class SearchError(ValueError):
    """The search cannot start: unknown task, impossible sizes, too few speakers."""


# ---- configuration ---------------------------------------------------------------------------
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
    scheduler: a Dask scheduler address (else ``$SPOKEN100_DASK_SCHEDULER``): candidates are then
        evaluated on its workers and their artefacts come back here (:mod:`spoken100.data.cluster`);
        ``n_jobs`` is then ignored. It does not change the result either.
    threads: TensorFlow intra-op threads of every training (1: the weights do not depend on the
        machine's core count, see :func:`spoken100.nas.train.configure_tensorflow`).
    """

    # The defaults are the default profile's (profiles/default.yml, checked by tests/test_defaults.py).
    task: str = "language"
    population: int = 10
    initial_population: int | None = None
    offspring: int | None = 10
    generations: int = 4
    epochs: int = 3
    batch_size: int = 32
    max_train_clips: int | None = None
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
    scheduler: str | None = None
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
        """The settings that determine the search (everything but generations and where it runs)."""
        skip = {"generations", "n_jobs", "scheduler"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}


#: Chapter 5's parameters that are not search settings: which tasks to search, which published models
#: to train, the latency budget in words (resolved into ``max_latency_ms``), the confirmatory retraining
#: (:mod:`spoken100.nas.confirm`) and the retraining over folds.
CHAPTER_ONLY_PARAMETERS = (
    "tasks",
    "published_variants",
    "latency_budget",
    "confirm_seeds",
    "confirm_epochs",
    "retrain_folds",
    "retrain_seeds",
    "retrain_epochs",
)


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


def published_latency_ms(task: str, variant: str = "fittest", threads: int | None = 1) -> float:
    """The estimated latency (central, ms) of a published architecture for ``task``: MACs only, no training.

    The calibrated cost model of :mod:`spoken100.nas.costs` on the genome's MACs per class
    (:func:`spoken100.nas.budget.estimated_latency_ms`); no model is built, so TensorFlow is not
    imported. threads: passed on, unused (kept for callers).
    """

    return budget.estimated_latency_ms(published_architecture(variant, TASK_CLASSES[task]), threads)


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
