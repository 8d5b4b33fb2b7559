"""Proof of convergence: the ``reference`` profile's long runs, exported as committed records.

Trains the baselines as ``profiles/reference.yml`` says (honest protocol, full-size models, the
short-budget schedule over many epochs), one model at a time (its tasks side by side), on the folds asked for
(fold 1 by default), and after each finished run writes its record (history, plateau inputs,
commit, machine, compute time; no weights) to ``src/spoken100/baselines/reference_runs/``, where
chapter 4 reads it. Runs are :func:`~spoken100.baselines.train.train_run` artefacts under the data
home: an interrupted run resumes at its next epoch, so this can run for hours in the background
and be restarted at will; finished runs are only re-exported.

    .venv/bin/python benchmarks/bench_convergence.py [--models cnn_2d cnn_1d] [--tasks number]
        [--folds 1 2] [--epochs 30] [--profile reference]

Use the default data home (``data/``, or ``SPOKEN100_HOME``) so the corpus and the model inputs
are those the book uses.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ("n_folds", "n_val_speakers", "max_batches", "model_options", "seed", "schedule", "learning_rate",
            "range_test_task", "range_test_steps", "scheduler", "device")  # fmt: skip


def commit() -> str:
    """The checkout's commit, ``+dirty`` when tracked sources (other than the records) have uncommitted changes."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    records = ":(exclude)src/spoken100/baselines/reference_runs"  # the records this script writes do not count
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", records], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return (head or "unknown") + ("+dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="reference")
    parser.add_argument("--models", nargs="+")
    parser.add_argument("--tasks", nargs="+")
    parser.add_argument("--folds", nargs="+", type=int, default=[1])
    parser.add_argument("--epochs", type=int, help="override the profile's epochs (the record says which)")
    parser.add_argument("--data", default="standin")
    args = parser.parse_args(argv)

    from spoken100 import open_corpus
    from spoken100.baselines import reference
    from spoken100.baselines.experiment import cross_validate
    from spoken100.book.profiles import load_profile

    profile = load_profile(ROOT / "profiles" / f"{args.profile}.yml")
    default = load_profile(ROOT / "profiles" / "default.yml")["notebooks"]["04_baselines"]
    settings = {**default, **(profile.get("notebooks", {}).get("04_baselines") or {})}
    models = args.models or settings["models"]
    tasks = args.tasks or settings["tasks"]
    epochs = args.epochs or settings["epochs"]
    corpus = open_corpus(args.data, (profile.get("corpus") or {}).get("n_speakers"))
    machine = reference.machine_description()
    print(f"{args.profile}: {models} x {tasks} x folds {args.folds}, {epochs} epochs, on {machine['cpu']}", flush=True)
    for model in models:  # both tasks of a model at once (the profile's n_jobs processes), then export
        began = time.perf_counter()
        _, results, _ = cross_validate(
            corpus, models=[model], tasks=tasks, protocols=["honest"], folds=args.folds, epochs=epochs,
            n_jobs=settings.get("n_jobs", 1), progress=True, **{k: settings[k] for k in SETTINGS if k in settings},
        )  # fmt: skip
        for result in results:
            record = reference.run_record(result, corpus=corpus, profile=args.profile, commit=commit(), machine=machine)
            path = reference.write_record(record)
            level = reference.plateau(record["history"])
            print(f"{model:12s} {result.spec.task:9s} fold {result.spec.fold.fold}: plateau "
                  f"{100 * level['plateau']:.1f} % (epoch {level['plateau_epoch']}), test "
                  f"{100 * result.test_accuracy['best_val']:.1f} %, {result.seconds:.0f} s training, "
                  f"{time.perf_counter() - began:.0f} s here -> {path.relative_to(ROOT)}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
