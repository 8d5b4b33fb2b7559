"""EvoNAS on SpokeN-100: the generation loop, its checkpoints, and the finished search.

The search is split by job: :mod:`~spoken100.nas.search_config` (settings),
:mod:`~spoken100.nas.task_data` (data and speakers), :mod:`~spoken100.nas.evaluate` (one candidate,
many in parallel, the published architectures under the same protocol), :mod:`~spoken100.nas.budget`
(the latency budget), :mod:`~spoken100.nas.nsga` (NSGA-II) and :mod:`~spoken100.nas.roles` (the
picks). This module runs the generations and keeps their snapshots; it re-exports the public names
of the others, so ``from spoken100.nas.search import run_search, search_configs`` keeps working.

**What is searched.** Genomes of :mod:`spoken100.nas.genome` (STFT/mel front end, feature blocks,
head) for one task (``"language"``, 4 classes, or ``"number"``, 100 classes). Generation 1 is
random, as in EvoNAS (``warm_start`` adds the paper's three architectures); every later generation
breeds children of the survivors (:func:`~spoken100.nas.nsga.make_offspring`) and keeps the best
``population`` of parents plus children (:func:`~spoken100.nas.nsga.nsga2_select`).

**Reproducibility.** All randomness of the search comes from one ``numpy.random.Generator`` seeded
by ``seed``, and training is deterministic (:mod:`spoken100.nas.train`): the same seed and settings
give the same search, whatever ``n_jobs``. After every generation a snapshot (the generation's new
records, the survivors, the generator's state) is written atomically to
``cache_dir("nas", "search", <task>-<key>)/generation-<g>.json``; an interrupted search resumes
after the last complete generation, and a longer search (more ``generations``, same settings)
continues a shorter one. Every candidate's record is also cached on its own under
``cache_dir("nas", "candidates", <protocol key>)``, shared with :func:`evaluate_published`, so a
cached rerun reads JSON only and does not even import TensorFlow.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from spoken100.data import atomic
from spoken100.data.codehash import code_fingerprint
from spoken100.data.paths import cache_dir
from spoken100.nas import genome as genome_module
from spoken100.nas.budget import estimated_latency_ms, within_budget
from spoken100.nas.evaluate import (
    RECORD_COLUMNS,
    evaluate_genome,
    evaluate_many,
    evaluate_published,
    evaluate_published_data,
    from_json,
    jsonable,
    protocol_key,
    trained_candidate,
)
from spoken100.nas.genome import Genome
from spoken100.nas.nsga import (
    OBJECTIVES,
    initial_genomes,
    initial_population_genomes,
    make_offspring,
    nsga2_select,
    objective_values,
    pareto_front,
    ranks_and_crowding,
)
from spoken100.nas.roles import ROLE_VARIANTS, ROLES, pick_roles
from spoken100.nas.search_config import (
    CHAPTER_ONLY_PARAMETERS,
    PUBLISHED_VARIANTS,
    SearchConfig,
    SearchError,
    latency_budget_ms,
    published_candidates,
    published_latency_ms,
    search_configs,
)
from spoken100.nas.task_data import TaskData, short_hash, task_data

#: Columns of :attr:`SearchResult.history` (one row per generation; statistics of the survivors).
HISTORY_COLUMNS = (
    "generation", "evaluated", "feasible_new", "best_val_accuracy", "median_val_accuracy", "best_fitness",
    "median_fitness", "front_size", "seconds",
)  # fmt: skip


# ---- results ---------------------------------------------------------------------------------
def _median(values: list[float]) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else float("nan")


def _max(values: list[float]) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(max(finite)) if finite else float("nan")


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
            records.append({**from_json(r), "generation": snap["generation"]})
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
    key = short_hash([code_fingerprint(search, genome_module), config.search_settings(), protocol_key(data, config)])
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
                archive[r["genome_id"]] = from_json(r)
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
            snap = {"generation": g, "records": [jsonable(r) for r in new],
                    "population": population, "rng": rng.bit_generator.state, "stats": jsonable(stats)}  # fmt: skip
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


__all__ = [
    "CHAPTER_ONLY_PARAMETERS",
    "ROLE_VARIANTS",
    "estimated_latency_ms",
    "latency_budget_ms",
    "published_latency_ms",
    "within_budget",
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
