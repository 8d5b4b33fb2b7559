"""NSGA-II for EvoNAS: objectives with constraint domination, selection, fronts, and the next generation.

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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from deap import base, tools

from spoken100.nas.budget import random_within_budget, within_budget
from spoken100.nas.costs import (
    FLASH_LIMIT_BYTES,
    RAM_LIMIT_BYTES,
)
from spoken100.nas.genome import DEFAULT_SPACE, Genome, crossover, mutate, random_genome
from spoken100.nas.search_config import SearchConfig, published_candidates

#: NSGA-II objectives: (record column, DEAP weight): accuracy up, latency and flash down.
OBJECTIVES: tuple[tuple[str, float], ...] = (("val_accuracy", 1.0), ("latency_ms", -1.0), ("flash_bytes", -1.0))


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
            child = random_within_budget(rng, config, taken)
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
            genome = random_within_budget(rng, config, taken)
            taken.add(genome.genome_id())
            randoms.append(genome)
        return (seeded + randoms)[: config.n_initial]
    randoms = initial_genomes(max(0, config.n_initial - len(seeded)) + len(seeded), rng, config.n_classes)
    return (seeded + [g for g in randoms if g.genome_id() not in taken])[: config.n_initial]


def initial_genomes(n: int, rng: np.random.Generator, n_classes: int) -> list[Genome]:
    """``n`` distinct random genomes (EvoNAS's random generation 1)."""
    out: dict[str, Genome] = {}
    for _ in range(100 * n):
        g = random_genome(rng, DEFAULT_SPACE, n_classes)
        out.setdefault(g.genome_id(), g)
        if len(out) == n:
            break
    return list(out.values())
