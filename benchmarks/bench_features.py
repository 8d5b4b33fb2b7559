"""Benchmark the Chapter 2 features: Praat voice features, the paper's pYIN F0, the UMAP inputs.

Each stage runs cold: the corpus is opened from the usual data home, then every cache goes to a
fresh temporary folder (``--fresh``, the default), so nothing computed before helps. Voice
features run once more warm (all chunks cached). With ``--clips N`` the voice and UMAP stages run
on a fixed random sample of N clips and the JSON also gives the time extrapolated to the whole
corpus. Results go to a JSON file that the book's reproducibility page can show.

    .venv/bin/python benchmarks/bench_features.py [--clips 1000] [--pyin-per-cell 5] [--out _build/bench/features.json]

The issue's target: Praat F0 + formants for all 12,800 clips in at most 60 s on 2 cores. On a
shared machine compare the target with ``extrapolated_idle_cores_s`` (CPU time / cores, scaled to
the corpus) plus the start-up stage: the wall time there also counts other programs' turns.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

VOICE_TARGET_S = 60.0  # for 12,800 clips on 2 cores


def _cpu_seconds() -> float:
    """CPU time of this process and its worker processes (children only with psutil installed)."""
    total = time.process_time()
    try:
        import psutil
    except ImportError:  # pragma: no cover
        return total
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _timed(label: str, results: list, func, clips: int, n_jobs: int, full: int, target_s: float | None = None):
    """Run ``func`` once; record wall time, CPU time and, for a sample, the whole-corpus projection.

    Other programs on a shared machine slow the wall time down but hardly the CPU time, so the
    record also projects the wall time on ``n_jobs`` otherwise idle cores: CPU time / n_jobs.
    """
    load = os.getloadavg()[0]
    cpu = _cpu_seconds()
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu
    record = {
        "stage": label,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "clips": clips,
        "clips_per_s": round(clips / seconds, 1) if seconds and clips else None,
        "cpu_ms_per_clip": round(1000 * cpu / clips, 2) if clips else None,
        "idle_cores_s": round(cpu / n_jobs, 2) if n_jobs else None,
        "load_before": round(load, 2),
        "target_s": target_s,
    }
    note = ""
    if clips and clips != full:
        record.update(
            extrapolated_clips=full,
            extrapolated_s=round(seconds * full / clips, 1),
            extrapolated_idle_cores_s=round(cpu / n_jobs * full / clips, 1),
        )
        note = f"  -> {full:,} clips: {record['extrapolated_s']:.0f} s, {record['extrapolated_idle_cores_s']:.0f} s on idle cores"
    results.append(record)
    print(f"{label:44s} {seconds:7.2f} s  cpu {cpu:7.2f} s  ({clips:,} clips, load {load:.1f}){note}", flush=True)
    return value


def _import_worker_modules() -> int:
    """What a worker imports before its first clip (numpy, pandas, scipy, parselmouth, librosa)."""
    import spoken100.acoustics.features
    import spoken100.acoustics.voice  # noqa: F401

    return os.getpid()


def _start_workers(n_jobs: int) -> None:
    """Start joblib's worker processes and import the feature modules in them (loky reuses them)."""
    from joblib import Parallel, delayed

    Parallel(n_jobs=n_jobs)(delayed(_import_worker_modules)() for _ in range(4 * n_jobs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="standin", help="corpus: 'standin' (default), 'real' or a folder")
    parser.add_argument("--clips", type=int, default=None, help="random sample of clips for voice/UMAP (default: all)")
    parser.add_argument("--pyin-per-cell", type=int, default=None, help="pYIN subsample size (default: the book's)")
    parser.add_argument("--no-pyin", action="store_true", help="skip the (slow) pYIN stage")
    parser.add_argument("--no-umap", action="store_true", help="skip the UMAP-input stage")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--no-fresh", dest="fresh", action="store_false", help="use the existing caches")
    parser.add_argument("--out", type=Path, default=Path("_build/bench/features.json"))
    args = parser.parse_args()
    out = args.out.resolve()

    import joblib

    from spoken100.acoustics import features
    from spoken100.data import atomic
    from spoken100.data.corpus import open_corpus

    corpus = open_corpus(args.data, progress=False)  # from the usual data home: not part of the timing
    n_jobs = joblib.effective_n_jobs(args.n_jobs)
    full = len(corpus.index)
    rows = corpus.index if args.clips is None else corpus.index.sample(min(args.clips, full), random_state=0)
    rows = rows.sort_index()
    per_cell = args.pyin_per_cell or features.PYIN_PER_CELL
    pyin_rows = features.stratified_subsample(corpus.index, per_cell, features.PYIN_SEED)
    pyin_full = len(features.stratified_subsample(corpus.index, features.PYIN_PER_CELL, features.PYIN_SEED))

    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="spoken100-bench-features-") as home:
        if args.fresh:
            os.environ["SPOKEN100_HOME"] = home  # caches (read at each call) now start empty
        target = VOICE_TARGET_S if n_jobs == 2 else None
        kw = {"n_jobs": args.n_jobs, "progress": False}
        # Worker start-up is a fixed cost: timed apart so that it is not scaled up with the sample.
        _timed("worker start-up (processes, imports)", results, lambda: _start_workers(n_jobs), 0, n_jobs, 0)
        voice = _timed(
            "voice features (Praat F0 + formants, cold)", results,
            lambda: features.voice_features(corpus, subset=rows, **kw), len(rows), n_jobs, full, target,
        )  # fmt: skip
        _timed("voice features (warm)", results, lambda: features.voice_features(corpus, subset=rows, **kw),
               len(rows), n_jobs, full)  # fmt: skip
        if not args.no_umap:
            _timed("UMAP inputs (paper, cold)", results, lambda: features.umap_inputs(corpus, subset=rows, **kw),
                   len(rows), n_jobs, full)  # fmt: skip
        if not args.no_pyin:
            _timed("pYIN F0 (paper, stratified subsample, cold)", results,
                   lambda: features.pyin_features(corpus, pyin_rows, **kw), len(pyin_rows), n_jobs, pyin_full)  # fmt: skip

    import librosa
    import parselmouth

    record = {
        "benchmark": "features",
        "corpus": corpus.kind,
        "corpus_clips": full,
        "cpu_count": os.cpu_count(),
        "n_jobs": n_jobs,
        "fresh_cache": args.fresh,
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "python": platform.python_version(),
        "versions": {
            "parselmouth": parselmouth.VERSION,
            "praat": parselmouth.PRAAT_VERSION,
            "librosa": librosa.__version__,
        },
        "voice_failures": int((voice.reason != "").sum()),
        "results": results,
    }
    atomic.write_json(out, record)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
