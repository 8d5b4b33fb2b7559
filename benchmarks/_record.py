"""What every benchmark script shares: timing a stage and writing the JSON record the book shows.

A record is ``{"benchmark", "cpu_count", "machine", "python", "load_before", "note"?, "results"}``;
``results`` is a list of ``{"stage", "seconds", "target_s"?, ...}``
(:func:`spoken100.book.buildinfo.benchmarks_markdown` renders it on the "Reproducing" page).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timed(label: str, results: list[dict[str, Any]], func: Callable[[], Any], target_s: float | None = None,
          **extra: Any) -> Any:  # fmt: skip
    """Run ``func``, append its wall time as one result row, print it, and return its value."""
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    results.append({"stage": label, "seconds": round(seconds, 2), **extra, "target_s": target_s})
    verdict = "" if target_s is None else f"  (target ≤ {target_s} s: {'met' if seconds <= target_s else 'missed'})"
    print(f"{label:50s} {seconds:9.2f} s{verdict}", flush=True)
    return value


def cpu_model() -> str | None:
    """The processor's model name (Linux ``/proc/cpuinfo``), or ``None`` where it cannot be read.

    Recorded because float kernels differ by instruction set: two machines of one kind but with
    other processors may train other weights from the same seed.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    names = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")]
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile") if f in flags]
    return f"{names[0]} ({', '.join(simd)})" if names else None


def machine_facts() -> dict[str, Any]:
    """The machine a benchmark ran on, including its load (other work distorts the timings)."""
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "python": platform.python_version(),
        "load_before": round(os.getloadavg()[0], 2),
    }


def write_record(out: Path, benchmark: str, results: list[dict[str, Any]], facts: dict[str, Any],
                 **fields: Any) -> None:  # fmt: skip
    """Write one benchmark's record atomically (a temporary file renamed into place)."""
    from spoken100.data import atomic

    atomic.write_json(Path(out), {"benchmark": benchmark, **facts, **fields, "results": results})
    print(f"wrote {out}")
