"""Benchmark the corpus stages: stand-in generation, indexing, audit measurements.

Each stage runs cold (in a fresh data home, so no cache helps) and the cached stages once more
warm. Results go to a JSON file that the book's reproducibility page shows.

    .venv/bin/python benchmarks/bench_corpus.py [--n-speakers 32] [--out _build/bench/corpus.json]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _record import machine_facts, write_record


def _timed(label: str, results: list, func, clips: int, target_s: float | None = None):
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    results.append({"stage": label, "seconds": round(seconds, 2), "clips": clips,
                    "clips_per_s": round(clips / seconds, 1) if seconds else None, "target_s": target_s})  # fmt: skip
    print(f"{label:45s} {seconds:8.2f} s  ({clips:,} clips)")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-speakers", type=int, default=None, help="gender-balanced subset (default: all 32)")
    parser.add_argument("--out", type=Path, default=Path("_build/bench/corpus.json"))
    args = parser.parse_args()
    out = args.out.resolve()
    facts = machine_facts()  # before the work: the load average says whether the machine was idle

    with tempfile.TemporaryDirectory(prefix="spoken100-bench-") as home:
        os.environ["SPOKEN100_HOME"] = home  # cold: nothing generated, nothing cached
        from spoken100.acoustics.measure import measure_corpus
        from spoken100.audit.checks import run_audit
        from spoken100.data.corpus import open_corpus
        from spoken100.data.generate import generate_standin
        from spoken100.data.speakers import select_speakers, standin_voices

        speakers = select_speakers(standin_voices(), args.n_speakers)
        n = len(speakers) * 400
        results: list[dict] = []
        target = 90 if n == 12_800 else None  # the foundation issue's target for the full corpus on 2 cores
        _timed("stand-in generation", results, lambda: generate_standin(speakers, progress=False), n, target)
        corpus = _timed("open corpus (index, cold)", results, lambda: open_corpus("standin", args.n_speakers,
                        progress=False), n)  # fmt: skip
        _timed("open corpus (index, warm)", results, lambda: open_corpus("standin", args.n_speakers,
               progress=False), n)  # fmt: skip
        _timed("audit measurements (cold)", results, lambda: measure_corpus(corpus, progress=False), n)
        _timed("audit, all checks (warm)", results, lambda: run_audit(corpus, progress=False), n)

    write_record(out, "corpus", results, facts, n_speakers=len(speakers))


if __name__ == "__main__":
    main()
