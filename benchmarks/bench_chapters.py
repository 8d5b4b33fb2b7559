"""Benchmark every chapter as `make book` runs it: cold (nothing cached), then a warm rerun.

The issues set per-chapter targets on a 2-core CPU with the default profile: chapters 2 and 3
warm reruns ≤ 10 s; chapter 4 cold ≤ 20 min and warm ≤ 30 s; chapters 5 and 6 together (the
search plus both chapters) cold ≤ 20 min (issue 12) and warm ≤ 30 s. The cold runs use a fresh data home,
so every feature, training run and search is computed; only the stand-in's clips are linked from
the current data home when present (generation has its own benchmark, ``bench_corpus.py``).

    .venv/bin/python benchmarks/bench_chapters.py [--profile default] [--notebooks 04_baselines ...]
                                                 [--out _build/bench/chapters.json]

Run it on an otherwise idle machine: the record keeps the load average at the start.

The record also keeps every chapter's results fingerprint (:func:`spoken100.book.buildinfo.results_fingerprints`)
after the cold run and after the warm rerun, with the commit: two benchmark runs are two clean builds
in fresh data homes, so their fingerprints say whether the build is reproducible (issue 12, item 7).
``--keep DIR`` copies the executed notebooks of both runs there, to compare their glued values;
``--home DIR`` runs in that (new or empty) data home and leaves it, to profile the warm rerun.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from _record import machine_facts, timed, write_record

ROOT = Path(__file__).resolve().parents[1]
#: (cold, warm) targets in seconds per notebook, from the chapter issues (None: no target).
TARGETS = {
    "02_voices": (None, 10),
    "03_umap": (None, 10),
    "04_baselines": (20 * 60, 30),
}
#: Notebooks whose times add up to one target (cold, warm): the search plus both TinyML chapters.
GROUPS = {"chapters 5 + 6 (search, EvoNAS, deployment)": (("05_evonas", "06_deployment"), (20 * 60, 30))}


def _run(notebook: Path, out_dir: Path, profile: Path, data: str) -> None:
    from spoken100.book.profiles import load_profile, notebook_parameters
    from spoken100.book.runner import run_notebook

    params = notebook_parameters(load_profile(profile), notebook.stem, profile.stem, data)
    run_notebook(notebook, out_dir / notebook.name, params, failed_dir=out_dir / "failed")


def _link_standin(source_home: Path, home: Path) -> None:
    """Reuse the already generated stand-in clips (read-only) in the fresh data home."""
    standin = source_home / "standin"
    if standin.is_dir():
        (home / "standin").symlink_to(standin.resolve(), target_is_directory=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default", help="profile name in profiles/ (default: default)")
    parser.add_argument("--notebooks", nargs="*", help="notebook stems (default: every notebook)")
    parser.add_argument("--data", default="standin")
    parser.add_argument("--out", type=Path, default=Path("_build/bench/chapters.json"))
    parser.add_argument("--keep", type=Path, help="copy the executed notebooks of both runs here (cold/, warm/)")
    parser.add_argument("--home", type=Path, help="an empty or new folder to use as the fresh data home, kept after "
                        "the run (to profile its warm rerun); default: a temporary folder, removed")  # fmt: skip
    args = parser.parse_args()
    if args.home and args.home.exists() and any(args.home.iterdir()):
        parser.error(f"--home {args.home}: not empty (the cold run needs a fresh data home)")
    out = args.out.resolve()
    profile = ROOT / "profiles" / f"{args.profile}.yml"
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.notebooks:
        notebooks = [nb for nb in notebooks if nb.stem in set(args.notebooks)]
    facts = machine_facts()
    commit = _commit()  # at the start: what the runs execute (papermill starts a kernel per notebook)
    source_home = Path(os.environ.get("SPOKEN100_HOME", ROOT / "data"))

    from spoken100.book.buildinfo import results_fingerprints

    results: list[dict] = []
    seconds: dict[tuple[str, str], float] = {}
    fingerprints: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="spoken100-bench-") as tmp:
        home, out_dir = (args.home.resolve() if args.home else Path(tmp) / "home"), Path(tmp) / "executed"
        home.mkdir(parents=True, exist_ok=True)
        _link_standin(source_home, home)
        os.environ["SPOKEN100_HOME"] = str(home)
        for run in ("cold", "warm rerun"):
            for nb in notebooks:
                target = TARGETS.get(nb.stem, (None, None))[0 if run == "cold" else 1]
                timed(f"{nb.stem} ({run})", results, lambda nb=nb: _run(nb, out_dir, profile, args.data), target)
                seconds[nb.stem, run] = results[-1]["seconds"]
            fingerprints[run] = {stem: digest for stem, (_, digest) in results_fingerprints(out_dir).items()}
            print(f"results fingerprints ({run}): {fingerprints[run]}", flush=True)
            if args.keep:
                kept = args.keep / run.split()[0]
                kept.mkdir(parents=True, exist_ok=True)
                for executed in out_dir.glob("*.ipynb"):
                    shutil.copy2(executed, kept / executed.name)
        for label, (members, targets) in GROUPS.items():
            for run, target in zip(("cold", "warm rerun"), targets, strict=True):
                if all((m, run) in seconds for m in members):
                    total = round(sum(seconds[m, run] for m in members), 2)
                    results.append({"stage": f"{label} ({run})", "seconds": total, "target_s": target})
                    print(f"{label} ({run}): {total:.1f} s")
    note = f"{args.profile} profile, fresh data home; load average {facts['load_before']} at the start"
    if args.notebooks and out.is_file():  # a subset: keep the other chapters' rows of the earlier record
        import json

        measured = {nb.stem for nb in notebooks}
        remeasured_groups = tuple(g for g, (members, _) in GROUPS.items() if set(members) & measured)
        earlier = [r for r in json.loads(out.read_text()).get("results", [])
                   if r["stage"].split(" (")[0] not in measured and not r["stage"].startswith(remeasured_groups or ("\0",))]  # fmt: skip
        results = earlier + results
        note += f"; {', '.join(sorted(measured))} remeasured, the other rows from the earlier run"
    if _commit() != commit:
        note += f"; the checkout changed during the run (now {_commit()}): the record names the commit at its start"
    write_record(out, "chapters", results, facts, profile=args.profile, data=args.data, note=note, commit=commit,
                 results_fingerprints=fingerprints)  # fmt: skip


def _commit() -> str | None:
    """The checked-out commit (with ``+dirty`` when the work tree differs), or ``None`` outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


if __name__ == "__main__":
    main()
