"""Training throughput of the five baselines: this companion's PyTorch path against the paper's Keras.

For every baseline at full size (100 classes, batch 32, the paper's optimiser Adam), clips per second
of one training epoch through :func:`spoken100.baselines.train.train_epoch` (the function the book
trains with, with the book's fused optimiser and channels-last layout, under the paper's Adam as the
twin trains and under the default profile's AdamW one-cycle; the path before them is timed too, for
the speed-up) and through the paper's own framework, Keras, on a twin built from the published
layer list (``_keras_twins.py``, checked against the published parameter counts), on the same machine
in the same run, with the same number of CPU threads. Inputs are random arrays at the scale of the
real ones (log-mel in dB, uniform in [-80, 0]; waveforms of amplitude about 0.1), because the values
decide how often the arithmetic meets denormal floats. Both sides train one batch per call in a
Python loop (PyTorch: :func:`~spoken100.baselines.train.train_epoch`; Keras: ``train_on_batch``
with Keras' default compilation), first ``--warmup`` batches untimed (graph tracing, allocator
warm-up), then ``--batches`` timed. Every measurement runs in its own fresh process.

    .venv/bin/python benchmarks/bench_training.py [--batches 40] [--out _build/bench/training.json]

Target (issue 11): at least 2x the Keras twin for every model. The ratio is reported whatever it is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _record import machine_facts, write_record

BATCH = 32


def inputs(shape: tuple[int, ...], n: int, seed: int = 0) -> np.ndarray:
    """Random model inputs at the real ones' scale: log-mel in dB or a waveform."""
    rng = np.random.default_rng(seed)
    if len(shape) == 1 or shape[-1] == 1 and shape[0] == 8000:  # waveform
        return (0.1 * rng.standard_normal((n, *shape))).astype(np.float32)
    return rng.uniform(-80.0, 0.0, (n, *shape)).astype(np.float32)


N_CLASSES = 100
TARGET_RATIO = 2.0
#: The paths one measurement can time (see :func:`torch_clips_per_s` and :func:`keras_clips_per_s`).
PATHS = ("book", "onecycle", "unfused", "keras")
#: Marks the one stdout line of a ``--one`` measurement (libraries may print lines of their own).
RESULT_PREFIX = "bench_training result: "
#: Longest a single measurement may take before the benchmark gives up on it.
MEASURE_TIMEOUT_S = 1800


def torch_clips_per_s(name: str, shape: tuple[int, ...], batches: int, warmup: int, threads: int,
                      path: str = "book") -> float:  # fmt: skip
    """Clips per second of :func:`~spoken100.baselines.train.train_epoch` on ``name`` (full size, 100 classes).

    ``path="book"``: the optimiser and layout the book trains with (``train.make_optimiser`` under the
    paper's schedule, Adam, as the Keras twin; ``train.fast_layout``). ``path="onecycle"``: the same
    under the default profile's schedule (fused AdamW, stepped by a one-cycle scheduler every batch). ``path="unfused"``: the path before them (PyTorch's default
    Adam, which on the CPU steps each parameter tensor in a Python loop, and contiguous weights), timed in the same run so the speed-up is a like-for-like ratio.
    """
    import torch

    from spoken100.baselines.models import BASELINES, build_model
    from spoken100.baselines.train import RunSpec, fast_layout, make_optimiser, train_epoch
    from spoken100.data.splits import Fold

    torch.set_num_threads(threads)
    model = build_model(name, N_CLASSES, seed=0)
    scheduler = None
    if path in ("book", "onecycle"):
        model = fast_layout(model)
        schedule = {"schedule": "onecycle", "learning_rate": 1e-3} if path == "onecycle" else {}  # rate: any
        spec = RunSpec(model=name, task="number", protocol="paper", fold=Fold(1, (), ()), epochs=1, data_key="bench",
                       **schedule)  # fmt: skip
        optimiser, scheduler = make_optimiser(model, spec, batches + warmup)
    else:
        optimiser = torch.optim.Adam(model.parameters(), lr=BASELINES[name].learning_rate(0), eps=1e-7)
    X = inputs(shape, BATCH * (batches + warmup))
    y = np.random.default_rng(1).integers(0, N_CLASSES, len(X))
    rows = np.arange(len(X)).reshape(-1, BATCH)
    train_epoch(model, optimiser, scheduler, X, y, rows[:warmup])
    start = time.perf_counter()
    train_epoch(model, optimiser, scheduler, X, y, rows[warmup:])
    return BATCH * batches / (time.perf_counter() - start)


def keras_clips_per_s(name: str, batches: int, warmup: int, threads: int) -> tuple[float, int]:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    from _keras_twins import TWINS

    build, shape = TWINS[name]
    model = build(N_CLASSES)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    X = inputs(shape, BATCH * (batches + warmup))
    y = np.random.default_rng(1).integers(0, N_CLASSES, len(X))
    for b in range(warmup):
        model.train_on_batch(X[b * BATCH : (b + 1) * BATCH], y[b * BATCH : (b + 1) * BATCH])
    start = time.perf_counter()
    for b in range(warmup, warmup + batches):
        model.train_on_batch(X[b * BATCH : (b + 1) * BATCH], y[b * BATCH : (b + 1) * BATCH])
    return BATCH * batches / (time.perf_counter() - start), model.count_params()


def measure_in_fresh_process(name: str, path: str, batches: int, warmup: int, threads: int) -> tuple[float, int]:
    """``(clips per second, parameters)`` of one model on one path, in a new Python process.

    Each measurement gets its own process: TensorFlow and PyTorch each start thread pools and oneDNN
    caches that, loaded together, slow the other framework by amounts that vary from run to run.
    """
    command = [sys.executable, __file__, "--one", name, path, "--batches", str(batches), "--warmup", str(warmup),
               "--threads", str(threads)]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=MEASURE_TIMEOUT_S,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # fmt: skip
    except subprocess.TimeoutExpired:
        raise SystemExit(
            f"bench_training: measuring {name} ({path}) took over {MEASURE_TIMEOUT_S} s; stopped"
        ) from None
    lines = [line[len(RESULT_PREFIX) :] for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        last = " | ".join(done.stderr.strip().splitlines()[-3:]) or "no error output"
        raise SystemExit(f"bench_training: measuring {name} ({path}) failed (exit {done.returncode}): {last}")
    values = json.loads(lines[-1])
    return values["clips_per_s"], values["params"]


def measure_one(name: str, path: str, batches: int, warmup: int, threads: int) -> None:
    """Print one measurement as a JSON line (the ``--one`` mode that :func:`measure_in_fresh_process` runs)."""
    from spoken100.baselines.models import BASELINES
    from spoken100.data.inputs import INPUT_SHAPES

    if path == "keras":
        clips_per_s, params = keras_clips_per_s(name, batches, warmup, threads)
    else:
        clips_per_s = torch_clips_per_s(name, INPUT_SHAPES[BASELINES[name].input_kind], batches, warmup, threads, path)
        params = 0
    print(RESULT_PREFIX + json.dumps({"clips_per_s": clips_per_s, "params": params}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads on both sides")
    parser.add_argument("--batches", type=int, default=40, help="timed batches of 32 per model and framework")
    parser.add_argument("--warmup", type=int, default=5, help="untimed batches first (default 5)")
    parser.add_argument("--models", nargs="*", default=["cnn_1d", "cnn_2d", "rnn", "cnn_effnet", "transformer"])
    parser.add_argument("--out", type=Path, default=Path("_build/bench/training.json"))
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    threads = args.threads
    if args.one:
        if args.one[1] not in PATHS:
            raise SystemExit(f"bench_training: unknown path {args.one[1]!r}; choose from {', '.join(PATHS)}")
        measure_one(*args.one, args.batches, args.warmup, threads)
        return
    facts = machine_facts()
    from spoken100.baselines.models import BASELINES
    from spoken100.data import paper_facts

    results = []
    for name in args.models:
        spec = BASELINES[name]
        ours, _ = measure_in_fresh_process(name, "book", args.batches, args.warmup, threads)
        onecycle, _ = measure_in_fresh_process(name, "onecycle", args.batches, args.warmup, threads)
        before, _ = measure_in_fresh_process(name, "unfused", args.batches, args.warmup, threads)
        theirs, params = measure_in_fresh_process(name, "keras", args.batches, args.warmup, threads)
        published = int(paper_facts.figure(f"params_{name}_100").value)
        ratio = ours / theirs
        verdict = (
            f"{ratio:.2f}x the Keras twin (target ≥ {TARGET_RATIO:g}x: {'met' if ratio >= TARGET_RATIO else 'missed'})"
        )
        clips = BATCH * args.batches
        results.append({"stage": f"{spec.title}, PyTorch (this book)", "clips": clips,
                        "seconds": round(clips / ours, 2), "clips_per_s": round(ours, 1), "verdict": verdict,
                        "model": name, "framework": "pytorch", "ratio": round(ratio, 3)})  # fmt: skip
        results.append({"stage": f"{spec.title}, PyTorch (this book), default profile's AdamW one-cycle",
                        "clips": clips, "seconds": round(clips / onecycle, 2), "clips_per_s": round(onecycle, 1),
                        "verdict": f"{onecycle / theirs:.2f}x the Keras twin (which trains with Adam)", "model": name,
                        "framework": "pytorch-onecycle", "ratio": round(onecycle / theirs, 3)})  # fmt: skip
        results.append({"stage": f"{spec.title}, PyTorch before the fused optimiser and channels-last layout",
                        "clips": clips, "seconds": round(clips / before, 2), "clips_per_s": round(before, 1),
                        "verdict": f"the book's path is {ours / before:.2f}x this", "model": name,
                        "framework": "pytorch-unfused", "speedup": round(ours / before, 3)})  # fmt: skip
        results.append({"stage": f"{spec.title}, Keras twin ({params:,} parameters; published {published:,})",
                        "clips": clips, "seconds": round(clips / theirs, 2), "clips_per_s": round(theirs, 1),
                        "model": name, "framework": "keras"})  # fmt: skip
        print(f"{spec.title:22s} PyTorch {ours:8.1f} clips/s (one-cycle {onecycle:8.1f}, before {before:8.1f})   Keras {theirs:8.1f} clips/s"
              f"   {verdict}", flush=True)  # fmt: skip
    write_record(args.out.resolve(), "training", results, facts, threads=threads,
                 note=f"training throughput, batch {BATCH}, {N_CLASSES} classes, {threads} threads, the paper's "
                      "optimiser (and the default profile's AdamW one-cycle in its own rows), one batch per call on both "
                      "sides, inputs at the real ones' scale")  # fmt: skip


if __name__ == "__main__":
    main()
