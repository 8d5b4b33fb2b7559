"""Benchmark one EvoNAS candidate's hardware evaluation (build, int8 conversion, arena, costs) and its training.

The candidate is a typical genome (the published "fittest" architecture, paper-facts §5.2). Each
stage is timed separately; TensorFlow's import is timed on its own so that it does not inflate the
first build. Results go to a JSON file for the book's reproducibility page.

**Training: three paths, timed in the same run.** For the paper's three architectures (number
task) one epoch of batch-32 training on ``--clips`` clips is timed on

* ``old``: the whole model on waveforms, one optimiser step per graph call (the search's path
  until caaa891: the fixed DFT/mel front end is recomputed every epoch);
* ``waveforms``: the same, with :data:`~spoken100.nas.train.STEPS_PER_EXECUTION` steps per graph
  call (bit-identical weights, ``tests/test_nas_train.py``);
* ``cached features``: the search's path now (``train_genome(cached_features=True)``): the same
  model's body (:func:`spoken100.nas.features.split_frontend`, sharing the weights, so all three
  train the same network) on front-end features computed once, with the same steps per call. Its
  candidate-epochs per hour count the features' one-off computation spread over ``--proxy-epochs``
  epochs (a search worker that meets the same front end again reuses them: not counted here).

Each path's candidate-epochs per hour is reported with its ratio to ``old`` (issue 12's target:
5x). Tracing (the first ``fit``) is timed apart, since it is paid once per candidate, not per epoch.

    .venv/bin/python benchmarks/bench_nas.py [--repeats 2] [--calibration 20] [--clips 3200]
        [--proxy-epochs 3] [--out _build/bench/nas.json]
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
    parser.add_argument("--clips", type=int, default=3200, help="clips per training epoch (default 3200)")
    parser.add_argument("--proxy-epochs", type=int, default=3, help="epochs that share one feature computation")
    parser.add_argument("--out", type=Path, default=Path("_build/bench/nas.json"))
    args = parser.parse_args()
    if args.clips < 1:
        parser.error("--clips must be at least 1")
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

        speed = _training_speed(results, args.clips, args.proxy_epochs)

    write_record(out, "nas", results, facts, training_speed=speed, candidate=genome.describe(), calibration_inputs=args.calibration,
                 model_bytes=report.costs.model_bytes, arena_bytes=report.costs.arena_bytes,
                 macs=report.macs["total"])  # fmt: skip


def _training_speed(results: list, n_clips: int, proxy_epochs: int) -> list[dict]:
    """Candidate-epochs per hour of the three training paths, per published architecture (see the docstring)."""
    import numpy as np
    import tensorflow as tf

    from spoken100.data.tasks import N_SAMPLES, TASK_CLASSES
    from spoken100.nas import train
    from spoken100.nas.features import frontend_features, split_frontend
    from spoken100.nas.search_config import published_candidates

    train.configure_tensorflow(1)  # one thread, as every candidate trains
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (n_clips, N_SAMPLES)).astype(np.float32)
    y = rng.integers(0, TASK_CLASSES["number"], n_clips)
    paths = (("old", False, 1), ("waveforms", False, train.STEPS_PER_EXECUTION),
             ("cached features", True, train.STEPS_PER_EXECUTION))  # fmt: skip
    speed = []
    for name, genome in published_candidates("number").items():
        row: dict = {"model": name, "clips": n_clips, "proxy_epochs": proxy_epochs}
        per_hour = {}
        for path, cached, steps in paths:
            model = train.fresh_model(genome, 0)  # every path starts from the same weights
            net, inputs, feature_seconds = model, x, 0.0
            if cached:
                frontend, net = split_frontend(model)
                inputs = _timed(f"{name}: front-end features of {n_clips} clips", results,
                                lambda fe=frontend: frontend_features(fe, x))  # fmt: skip
                feature_seconds = results[-1]["seconds"]
            train._compile(net, steps)  # the search's optimiser, loss and accuracy metric
            data = tf.data.Dataset.from_tensor_slices((inputs, y)).batch(32)
            _timed(
                f"{name}: tracing + first epoch on {path}", results, lambda net=net, data=data: net.fit(data, verbose=0)
            )
            first = results[-1]["seconds"]
            _timed(f"{name}: one epoch on {path} ({steps} steps per call)", results,
                   lambda net=net, data=data: net.fit(data, epochs=1, verbose=0), clips=n_clips)  # fmt: skip
            epoch = results[-1]["seconds"]
            results[-1]["clips_per_s"] = round(n_clips / epoch)
            per_hour[path] = 3600 / (epoch + feature_seconds / proxy_epochs)
            if path != "old":
                ratio = per_hour[path] / per_hour["old"]
                results[-1]["verdict"] = (f"{ratio:.2f}x the old path's candidate-epochs per hour "
                                          f"(target 5x: {'met' if ratio >= 5 else 'missed'})")  # fmt: skip
            key = path.replace(" ", "_")
            row[f"epoch_seconds_{key}"] = round(epoch, 3)
            row[f"candidate_seconds_{key}"] = round(feature_seconds + first + (proxy_epochs - 1) * epoch, 2)
        for path, value in per_hour.items():
            key = path.replace(" ", "_")
            row[f"candidate_epochs_per_hour_{key}"] = round(value, 1)
            row[f"ratio_{key}"] = round(value / per_hour["old"], 2)
        speed.append(row)
        print(name, {k: round(v) for k, v in per_hour.items()}, flush=True)
    return speed


if __name__ == "__main__":
    main()
