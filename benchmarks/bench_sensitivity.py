"""How far one default run moves under what its interval does not cover: seed, peak rate, float kernels.

Chapter 4's intervals cover the test clips (and the folds, where several are run). A single run
also depends on things no interval there sees: the seed of its initial weights and batch order,
the peak learning rate its range test chose, and the processor's float kernels, which decide the
last bits of every sum (and so, after a few hundred steps, the range test's curve and its choice).
This benchmark retrains one baseline's default runs (the ``default`` profile's chapter-4 recipe,
fold 1, the same validation speakers, both tasks) in *arms* that each change one of them:

* ``as built``: this machine's kernels, seed 0, the range test's rate (what ``make book`` trains);
* ``seed N``: another seed for the weights and batch order, the same rate;
* ``AVX2 kernels``: range test and runs with PyTorch's and oneDNN's kernels capped at AVX2
  (``ATEN_CPU_CAPABILITY=avx2``, ``ONEDNN_MAX_CPU_ISA=AVX2``), as on a processor without AVX-512;
* ``AVX2's rate``: this machine's kernels at the rate the AVX2 range test chose, which separates
  the rate's share of the difference from the kernels' own;
* ``paper's rate``: this machine's kernels at the paper's initial learning rate for the model (its
  Keras recipe's first rate, used as the one-cycle peak), a fixed rate that no range test chose.

Each arm runs in a fresh process with its own data home (the corpus and model inputs linked from
``SPOKEN100_HOME``, runs and range tests new), since the kernel setting is per process and run
artefacts are not keyed by it. Reported per arm and task: the test accuracy at the
validation-chosen epoch with its Wilson 95 % interval over the test clips, and then the spread
over the arms that change seed, kernels or the range test's rate (not the paper's rate, a choice
rather than noise) beside the width of the as-built run's interval. On a processor without
AVX-512 the two AVX2 arms repeat 'as built', and the record says so.

    .venv/bin/python benchmarks/bench_sensitivity.py [--model cnn_2d] [--seeds 1 2]
        [--out _build/bench/sensitivity.json]

Needs the corpus and its model inputs in the data home (``make data``; the inputs are computed
here if missing). About 5 minutes for the CNN-2D on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _record import machine_facts, write_record

ROOT = Path(__file__).resolve().parents[1]
#: The environment that caps PyTorch's and oneDNN's kernels at AVX2 (read once, at torch's import).
AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
#: What a child's data home shares with the parent's: the stand-in's clips and the cached corpus
#: index, per-clip inputs and model inputs (read-only inputs, not results).
SHARED = ("standin", "cache/index", "cache/clips", "cache/baselines")


def _settings() -> dict:
    from spoken100.book.profiles import load_profile

    return load_profile(ROOT / "profiles" / "default.yml")["notebooks"]["04_baselines"]


def run_arm(model: str, seed: int, learning_rate: float | str, data: str) -> dict:
    """One arm, in this process: the default recipe's runs of ``model`` (fold 1, both tasks) at ``seed``.

    The validation speakers are those of seed 0 (the build's), whatever ``seed``: only the training's
    own randomness changes. ``learning_rate``: ``"range-test"`` or a peak rate.
    """
    import torch

    from spoken100 import open_corpus
    from spoken100.baselines.experiment import cross_validate
    from spoken100.baselines.stats import wilson_interval

    s = _settings()
    corpus = open_corpus(data, None, progress=False)
    common = dict(models=[model], tasks=s["tasks"], protocols=["honest"], folds=[1], n_folds=s["n_folds"],
                  epochs=s["epochs"], n_val_speakers=s["n_val_speakers"], max_batches=s["max_batches"],
                  model_options=s["model_options"], n_jobs=s["n_jobs"], schedule=s["schedule"],
                  range_test_task=s["range_test_task"], range_test_steps=s["range_test_steps"], progress=False)  # fmt: skip
    _, results, _ = cross_validate(corpus, seed=0, train_seed=seed, learning_rate=learning_rate, **common)
    rows = []
    for r in results:
        n = len(r.test_index)
        accuracy = r.test_accuracy["best_val"]
        low, high = wilson_interval(int(round(accuracy * n)), n)
        rows.append({"task": r.spec.task, "seed": r.spec.seed, "learning_rate": r.spec.learning_rate,
                     "test_accuracy": accuracy, "ci_low": low, "ci_high": high, "n_test": n,
                     "val_accuracy": float(r.history.val_accuracy.max()), "seconds": r.seconds})  # fmt: skip
    return {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "runs": rows}


def _child_home(parent: Path, into: Path) -> Path:
    """A fresh data home whose corpus and inputs are links to ``parent``'s."""
    for part in SHARED:
        if (parent / part).exists():
            (into / part).parent.mkdir(parents=True, exist_ok=True)
            (into / part).symlink_to(parent / part)
    return into


def _arm_in_child(model: str, seed: int, learning_rate: float | str, data: str, parent_home: Path,
                  env: dict[str, str] | None = None) -> dict:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="spoken100-sensitivity-") as home:
        child_env = {**os.environ, "SPOKEN100_HOME": str(_child_home(parent_home, Path(home))),
                     "PYTHONHASHSEED": "0", **(env or {})}  # fmt: skip
        command = [sys.executable, __file__, "--arm", json.dumps([model, seed, learning_rate, data])]
        done = subprocess.run(command, env=child_env, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise SystemExit(f"Error: the arm (seed {seed}, rate {learning_rate}) failed: {tail}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn_2d", help="the baseline to retrain (default: the cheapest, cnn_2d)")
    parser.add_argument("--seeds", nargs="*", type=int, default=[1, 2], help="other training seeds (default 1 2)")
    parser.add_argument("--data", default="standin")
    parser.add_argument("--out", type=Path, default=Path("_build/bench/sensitivity.json"))
    parser.add_argument("--arm", help=argparse.SUPPRESS)  # internal: run one arm here, print its JSON
    args = parser.parse_args(argv)
    if args.arm:
        model, seed, rate, data = json.loads(args.arm)
        print(json.dumps(run_arm(model, seed, rate, data)))
        return 0
    if any(seed == 0 for seed in args.seeds):
        parser.error("--seeds are the other seeds; seed 0 is the 'as built' arm")

    from spoken100 import open_corpus
    from spoken100.baselines.models import BASELINES
    from spoken100.data.inputs import corpus_inputs
    from spoken100.data.paths import data_home

    if args.model not in BASELINES:
        parser.error(f"unknown model {args.model!r}; choose from {', '.join(BASELINES)}")
    if not _settings().get("range_test_task"):  # the arms pass one rate on to every task
        parser.error("the default profile must choose one rate per model (range_test_task) for this benchmark")
    facts = machine_facts()
    corpus = open_corpus(args.data, None)  # generated (or checked) here, once, before the arms link to it
    corpus_inputs(corpus.root, corpus.index, BASELINES[args.model].input_kind)
    home = data_home()

    title = BASELINES[args.model].title
    arms: list[dict] = []

    def arm(name: str, seed: int, rate: float | str, env: dict[str, str] | None = None, nuisance: bool = True) -> dict:
        """Run one arm; ``nuisance``: it changes only what a rebuild elsewhere could change (counted in the spread)."""
        print(f"{title}: {name} ...", flush=True)
        result = {"arm": name, "nuisance": nuisance, **_arm_in_child(args.model, seed, rate, args.data, home, env)}
        arms.append(result)
        for run in result["runs"]:
            print(f"  {run['task']:9s} rate {run['learning_rate']:.3g}: test {100 * run['test_accuracy']:.1f} % "
                  f"({100 * run['ci_low']:.1f}-{100 * run['ci_high']:.1f}), val {100 * run['val_accuracy']:.1f} %",
                  flush=True)  # fmt: skip
        return result

    built = arm("as built", 0, "range-test")
    rate = built["runs"][0]["learning_rate"]
    for seed in args.seeds:
        arm(f"seed {seed}", seed, rate)
    avx2 = arm("AVX2 kernels", 0, "range-test", AVX2)
    avx2_rate = avx2["runs"][0]["learning_rate"]
    arm("AVX2's rate, this machine's kernels", 0, avx2_rate)
    arm("paper's rate", 0, BASELINES[args.model].learning_rate(0), nuisance=False)
    same_kernels = avx2["cpu_capability"] == built["cpu_capability"]

    results, spread = [], {}
    for arm_result in arms:
        for run in arm_result["runs"]:
            results.append({"stage": f"{title} {run['task']}: {arm_result['arm']} (seed {run['seed']}, peak rate "
                                     f"{run['learning_rate']:.2g}, {arm_result['cpu_capability']} kernels)",
                            "seconds": round(run["seconds"], 2),
                            "verdict": f"test {100 * run['test_accuracy']:.1f} % (95 % interval "
                                       f"{100 * run['ci_low']:.1f}-{100 * run['ci_high']:.1f}), validation "
                                       f"{100 * run['val_accuracy']:.1f} %"})  # fmt: skip
            if arm_result["nuisance"]:
                spread.setdefault(run["task"], []).append(run)
    names = ", ".join(a["arm"] for a in arms if a["nuisance"])
    for task, runs in spread.items():
        accuracies = [100 * r["test_accuracy"] for r in runs]
        width = 100 * (runs[0]["ci_high"] - runs[0]["ci_low"])  # the 'as built' run's, as chapter 4 prints it
        results.append({"stage": f"{title} {task}: spread over the arms {names}", "seconds": 0.0,
                        "verdict": f"{min(accuracies):.1f}-{max(accuracies):.1f} % ({max(accuracies) - min(accuracies):.1f} "
                                   f"points) against the as-built run's clip interval, {width:.1f} points wide"})  # fmt: skip
    note = ("the AVX2 arm ran the same kernels as 'as built' on this processor" if same_kernels else
            f"kernels: {built['cpu_capability']} here, AVX2 in the capped arm")  # fmt: skip
    write_record(args.out, "sensitivity", results, facts, note=note, model=args.model, arms=arms,
                 same_kernels=same_kernels)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
