"""Apply a per-clip function to a corpus index: in parallel, with progress, cached and resumable.

Every per-clip feature in the book (audit measurements, F0, formants, spectrogram inputs) goes
through :func:`map_clips`. The clips are cut into chunks; each chunk's result is stored as soon as
it is computed, under a key made of the function's name, the fingerprint of its code
(:func:`spoken100.data.codehash.code_fingerprint`), its parameters and the path and sha256 of every
clip in the chunk. So

* a rebuild over unchanged data reads no audio,
* an interrupted run resumes at the first missing chunk,
* a changed clip recomputes only its own chunk, and changed code only the artefacts it computes,
* and nothing is written half (each chunk is written to a temporary file, then renamed).

The per-clip function returns a dict whose values are scalars (numbers or strings, which become
table columns) or numpy arrays of a fixed shape (which are stacked into one array per key).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from spoken100.data import atomic
from spoken100.data.codehash import code_fingerprint
from spoken100.data.paths import cache_dir

ClipFunction = Callable[..., dict[str, Any]]


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _run_chunk(func: ClipFunction, root: str, paths: list[str], params: dict) -> list[dict]:
    return [func(Path(root) / path, **params) for path in paths]


def _pack(rows: list[dict]) -> dict[str, np.ndarray]:
    """Column arrays from per-clip dicts (strings stay strings; arrays are stacked)."""
    packed: dict[str, np.ndarray] = {}
    for name in rows[0]:
        values = [row[name] for row in rows]
        if isinstance(values[0], np.ndarray):
            packed[name] = np.stack(values)
        elif isinstance(values[0], str) or values[0] is None:
            packed[name] = np.array(["" if v is None else v for v in values], dtype=str)
        else:
            packed[name] = np.array(values, dtype=float)
    return packed


def _save(target: Path, packed: dict[str, np.ndarray]) -> None:
    with atomic.atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **packed)


def _load(target: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(target, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError):
        return None  # unreadable chunk: recompute it


def map_clips(
    func: ClipFunction,
    root: Path,
    index: pd.DataFrame,
    params: dict | None = None,
    *,
    name: str | None = None,
    chunk_size: int = 128,
    n_jobs: int = -1,
    progress: bool = True,
    desc: str | None = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Run ``func(root / path, **params)`` for every row of ``index``; cached per chunk.

    func: a module-level function (it is sent to worker processes).
    root: the corpus root that ``index.path`` is relative to.
    index: the corpus index (needs ``path`` and ``sha256`` columns) or any subset of its rows.
    params: keyword arguments for ``func``; part of the cache key.
    name: names the function's cache folder; the key also holds the fingerprint of ``func``'s code
        (and of the package code it uses), so editing it recomputes its artefacts and no others.
    chunk_size: clips per cached chunk (also the unit of parallel work).

    Returns ``(table, arrays)``: a table of the scalar outputs with the index's ``path`` column
    first, aligned with ``index`` rows, and a dict of stacked array outputs in the same order.
    """
    params = dict(params or {})
    name = name or f"{func.__module__}.{func.__qualname__}"
    folder = cache_dir("clips", name)
    paths = [str(p) for p in index["path"]]
    digests = [str(d) for d in index["sha256"]]
    starts = range(0, len(paths), chunk_size)
    chunks = [(paths[s : s + chunk_size], digests[s : s + chunk_size]) for s in starts]
    targets = [
        folder / f"{_key(name, code_fingerprint(func), params, list(zip(p, d, strict=True)))}.npz" for p, d in chunks
    ]

    results: list[dict[str, np.ndarray] | None] = [_load(t) if t.is_file() else None for t in targets]
    todo = [i for i, r in enumerate(results) if r is None]
    with tqdm(
        total=len(paths),
        initial=len(paths) - sum(len(chunks[i][0]) for i in todo),
        desc=desc or name,
        unit="clip",
        disable=not progress,
    ) as bar:
        if todo:
            jobs = Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(_run_chunk)(func, str(root), chunks[i][0], params) for i in todo
            )
            for i, rows in zip(todo, jobs, strict=True):
                packed = _pack(rows)
                _save(targets[i], packed)
                results[i] = packed
                bar.update(len(rows))

    if not paths:
        return pd.DataFrame({"path": pd.Series([], dtype=object)}), {}
    names = list(results[0])
    merged = {n: np.concatenate([r[n] for r in results]) for n in names}
    table = pd.DataFrame({"path": paths})
    arrays: dict[str, np.ndarray] = {}
    for n, values in merged.items():
        if values.ndim == 1:
            table[n] = values
        else:
            arrays[n] = values
    return table, arrays
