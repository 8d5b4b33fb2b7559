"""Evaluate one candidate's hardware side in one call: build, int8-convert, measure, estimate.

EvoNAS measures ROM, RAM, latency and energy on the *untrained* model (paper-facts §6): they do not
depend on the weights. :func:`evaluate_candidate` does the same without the board: it builds the
genome's Keras model, converts it to int8, measures the TFLite Micro arena on the host, counts MACs
and turns them into :class:`~spoken100.nas.costs.Costs`. Accuracy needs training and is the search
loop's business; combine it with :func:`spoken100.nas.costs.candidate_fitness`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spoken100.nas import (
    build,  # module attribute: tests replace build_model
    tflite,
)
from spoken100.nas.costs import Costs, LayerMACs, count_macs, estimate_costs, fits, layer_macs, mac_classes
from spoken100.nas.genome import Genome, validate


@dataclass
class CandidateReport:
    """What :func:`evaluate_candidate` found for one genome (``tflite`` holds the int8 model bytes).

    n_params counts the network's weights (trainable ones and batch-norm statistics), as Keras'
    summary of the published models does; n_frontend_constants the fixed DFT/mel/log weights.
    """

    genome: Genome
    n_params: int
    n_frontend_constants: int
    macs: dict[str, int]
    layers: list[LayerMACs]
    ops: list[str]
    arena: dict[str, int]
    costs: Costs
    fits: bool
    seconds: dict[str, float]
    tflite: bytes = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the model bytes and the per-layer table)."""
        return {
            "genome_id": self.genome.genome_id(),
            "genome": self.genome.to_dict(),
            "description": self.genome.describe(),
            "n_params": self.n_params,
            "n_frontend_constants": self.n_frontend_constants,
            "macs": self.macs,
            "ops": self.ops,
            "arena": self.arena,
            "costs": self.costs.to_dict(),
            "fits": self.fits,
            "seconds": self.seconds,
        }


def evaluate_candidate(
    genome: Genome,
    representative: Any = None,
    n_calibration: int = 20,
    seed: int = 0,
) -> CandidateReport:
    """Build, convert to int8, measure the arena and estimate the costs of ``genome``.

    representative: calibration data for :func:`spoken100.nas.tflite.to_int8` (a callable or an array
        of clips); default ``n_calibration`` uniform-noise clips. Sizes and arena do not depend on it.
    seed: weight initialisation seed of the (untrained) model.
    """

    validate(genome, space=None)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    model = build.build_model(genome, seed=seed)
    seconds["build"] = time.perf_counter() - start

    start = time.perf_counter()
    if representative is None:
        representative = tflite.noise_dataset(n=n_calibration, n_samples=genome.preprocessing.n_samples, seed=seed)
    elif isinstance(representative, np.ndarray):
        representative = tflite.clips_dataset(representative, n=n_calibration)
    model_bytes = tflite.to_int8(model, representative)
    seconds["convert"] = time.perf_counter() - start

    start = time.perf_counter()
    arena = tflite.arena_report(model_bytes)
    seconds["arena"] = time.perf_counter() - start

    start = time.perf_counter()
    layers = layer_macs(model)
    macs = count_macs(model)
    costs = estimate_costs(model_bytes, arena["total"], mac_classes(model), n_samples=genome.preprocessing.n_samples)
    ops = tflite.model_ops(model_bytes)
    seconds["costs"] = time.perf_counter() - start
    return CandidateReport(
        genome=genome,
        n_params=sum(r.params for r in layers if r.stage != "frontend"),
        n_frontend_constants=sum(r.params for r in layers if r.stage == "frontend"),
        macs=macs,
        layers=layers,
        ops=ops,
        arena={k: v for k, v in arena.items() if k != "text"},
        costs=costs,
        fits=fits(costs),
        seconds={k: round(v, 3) for k, v in seconds.items()},
        tflite=model_bytes,
    )
