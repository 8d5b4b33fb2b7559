"""The latency budget of a search: a genome's estimated latency from its MACs alone, and whether it fits.

A budgeted search (``SearchConfig.max_latency_ms``) draws generation 1 and every child within the
budget, so it needs each genome's central latency estimate before anything is trained; the MACs
per operation class come from the genome itself (:func:`spoken100.nas.macs.genome_macs`) and the
calibrated cost model of :mod:`spoken100.nas.costs` turns them into milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from spoken100.nas.costs import (
    estimate_latency,
)
from spoken100.nas.genome import DEFAULT_SPACE, Genome, random_genome, validate
from spoken100.nas.macs import genome_macs

if TYPE_CHECKING:  # pragma: no cover
    from spoken100.nas.search_config import SearchConfig

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


def random_within_budget(rng: np.random.Generator, config: SearchConfig, taken: set[str],
                          tries: int = 2000) -> Genome:  # fmt: skip
    """A random genome not in ``taken`` that fits the latency budget (the last draw if none does)."""
    genome = random_genome(rng, DEFAULT_SPACE, config.n_classes)
    for _ in range(tries):
        if genome.genome_id() not in taken and within_budget(genome, config):
            return genome
        genome = random_genome(rng, DEFAULT_SPACE, config.n_classes)
    return genome
