"""Benchmark one EvoNAS candidate's hardware evaluation: build, int8 conversion, arena, costs.

The candidate is a typical genome (the published "fittest" architecture, paper-facts §5.2). Each
stage is timed separately; TensorFlow's import is timed on its own so that it does not inflate the
first build. Results go to a JSON file for the book's reproducibility page.

    .venv/bin/python benchmarks/bench_nas.py [--repeats 2] [--calibration 20] [--out _build/bench/nas.json]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _record import machine_facts, write_record


def _timed(label: str, results: list, func, **extra):
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    results.append({"stage": label, "seconds": round(seconds, 3), **extra})
    print(f"{label:40s} {seconds:8.3f} s")
    return value


def _candidate_stages(genome, seed, n_calibration, build_model, tflite, count_macs, estimate_costs):
    """The four stages of one evaluation as (label, thunk) pairs sharing their results."""
    state: dict = {}

    def build():
        state["model"] = build_model(genome, seed=seed)

    def convert():
        state["bytes"] = tflite.to_int8(state["model"], tflite.noise_dataset(n=n_calibration, seed=seed))

    def arena():
        state["arena"] = tflite.arena_bytes(state["bytes"])

    def costs():
        return estimate_costs(state["bytes"], state["arena"], count_macs(state["model"])["total"])

    return [("build", build), ("int8 conversion", convert), ("arena, TFLM worker", arena), ("costs", costs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="candidates evaluated after the warm-up (default 2)")
    parser.add_argument("--calibration", type=int, default=20, help="representative inputs (the paper used 200)")
    parser.add_argument("--out", type=Path, default=Path("_build/bench/nas.json"))
    args = parser.parse_args()
    out = args.out.resolve()
    facts = machine_facts()  # before the work: the load average says whether the machine was idle

    with tempfile.TemporaryDirectory(prefix="spoken100-bench-") as home:
        os.environ["SPOKEN100_HOME"] = home
        from spoken100.nas.published import published_architecture

        results: list[dict] = []
        _timed("import tensorflow", results, lambda: __import__("tensorflow"))
        from spoken100.nas import tflite
        from spoken100.nas.build import build_model
        from spoken100.nas.candidate import evaluate_candidate
        from spoken100.nas.costs import count_macs, estimate_costs

        genome = published_architecture("fittest")  # 4 classes, no model file needed
        for run in range(1 + args.repeats):
            tag = "warm-up" if run == 0 else f"run {run}"
            stages = _candidate_stages(genome, run, args.calibration, build_model, tflite, count_macs, estimate_costs)
            for label, func in stages:
                _timed(f"{label} ({tag})", results, func, run=run)
        report = _timed(
            "evaluate_candidate (all stages)",
            results,
            lambda: evaluate_candidate(genome, n_calibration=args.calibration),
        )

    write_record(out, "nas", results, facts, candidate=genome.describe(), calibration_inputs=args.calibration,
                 model_bytes=report.costs.model_bytes, arena_bytes=report.costs.arena_bytes,
                 macs=report.macs["total"])  # fmt: skip


if __name__ == "__main__":
    main()
