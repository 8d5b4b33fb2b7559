"""Corpus-level acoustic features for Chapter 2 ("Voices"), aligned with the corpus index.

Every function maps a per-clip function over the corpus with :func:`spoken100.data.clipmap.map_clips`
(parallel, cached per chunk of clips, resumable), so a rebuild over unchanged clips reads no
audio. Tables keep the index's row labels and its ``path``, ``language``, ``speaker``,
``gender`` and ``number`` columns, followed by the features.

* :func:`voice_features`: Praat F0, formants, voicing, duration and speaking rate of every clip
  (about 6 ms of one core per clip).
* :func:`pyin_features`: the paper's pYIN F0 (about 0.5 s per clip), by default on a
  :func:`stratified_subsample` of the corpus.
* :func:`umap_inputs`: the paper's 2,048-value UMAP input of every clip.
* :func:`mfcc_inputs`: MFCC summaries, an alternative fixed-length input.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from spoken100.acoustics.formants import DEFAULT_MAX_FORMANT, MAX_BANDWIDTH, MAX_FORMANT
from spoken100.acoustics.pitch import PYIN_FMAX, PYIN_FMIN, pyin_f0_clip
from spoken100.acoustics.spectra import UMAP_DIM, mfcc_clip, mfcc_dim, paper_umap_clip
from spoken100.acoustics.voice import VOICE_COLUMNS, voice_features_clip
from spoken100.data.clipmap import map_clips

#: Index columns every feature table keeps.
KEEP = ("path", "language", "speaker", "gender", "number")

#: The default pYIN subsample: 5 numbers in every speaker x language cell (640 clips for the
#: full corpus, about 3 minutes on 2 cores), the same 5 numbers in every cell.
PYIN_PER_CELL = 5
PYIN_SEED = 0


def _limit_threads(n_jobs: int):
    """In-process runs (``n_jobs=1``): one BLAS thread, as joblib gives its workers.

    The per-clip work is many small matrix products, which multi-threaded BLAS makes several
    times slower on a busy machine.
    """
    if n_jobs != 1:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits  # deferred: heavy import only this path needs
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _with_index(rows: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The ``KEEP`` columns of ``rows`` followed by the features in ``table`` (aligned by position)."""
    if len(table) and list(table["path"]) != [str(p) for p in rows["path"]]:
        raise RuntimeError("feature table is not aligned with the index")  # map_clips guarantees it
    keep = rows[[c for c in KEEP if c in rows.columns]].copy()
    features = table.drop(columns="path").set_axis(rows.index)
    return pd.concat([keep, features], axis=1)


def stratified_subsample(
    index: pd.DataFrame, per_cell: int, seed: int = 0, *, same_numbers: bool = True
) -> pd.DataFrame:
    """A deterministic subset of ``index`` with ``per_cell`` numbers in every speaker x language cell.

    same_numbers: draw one random order of the numbers (from ``seed``) and give every cell the
        first ``per_cell`` numbers of it that the cell has, so that speakers and languages are
        compared on the same numbers (a paired design) wherever no clip is missing. With
        ``False``, each cell draws its own numbers (more numbers covered overall).

    Returns the chosen rows of ``index`` in their original order, with their original labels. A
    cell with fewer than ``per_cell`` clips contributes all it has.
    """
    if per_cell < 1:
        raise ValueError(f"per_cell must be at least 1, got {per_cell}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(np.sort(index["number"].unique()))
    rank = {int(number): k for k, number in enumerate(order)}
    chosen: list = []
    for _, cell in index.groupby(["speaker", "language"], sort=True):
        if same_numbers:
            ranked = cell.assign(_rank=cell["number"].map(lambda n: rank[int(n)])).sort_values("_rank")
            chosen.extend(ranked.index[:per_cell])
        else:
            picks = rng.permutation(len(cell))[:per_cell]
            chosen.extend(cell.index[np.sort(picks)])
    return index.loc[index.index.isin(chosen)]


def _ceiling_of(gender: str, max_formant: float | Mapping[str, float]) -> float:
    if isinstance(max_formant, Mapping):
        return float(max_formant.get(gender, DEFAULT_MAX_FORMANT))
    return float(max_formant)


def voice_features(
    corpus,
    *,
    subset: pd.DataFrame | None = None,
    max_formant: float | Mapping[str, float] = MAX_FORMANT,
    floor: float = 50.0,
    ceiling: float = 600.0,
    time_step: float = 0.015,
    formant_time_step: float = 0.025,
    max_bandwidth: float | None = MAX_BANDWIDTH,
    n_jobs: int = -1,
    progress: bool = True,
    chunk_size: int = 128,
) -> pd.DataFrame:
    """Praat F0, formants, voiced fraction, duration and speaking rate of every clip.

    corpus: an opened :class:`spoken100.data.corpus.Corpus`.
    subset: rows of ``corpus.index`` to analyse (default: all).
    max_formant: the Burg formant ceiling in Hz, one number or one per gender (default: Praat's
        advice, 5,000 Hz for male and 5,500 Hz for female voices; any other gender gets 5,500).
    floor, ceiling, time_step, formant_time_step, max_bandwidth: see
        :func:`spoken100.acoustics.voice.voice_features`.

    Returns one row per clip, aligned with the index rows: the index columns, the columns of
    :data:`spoken100.acoustics.voice.VOICE_COLUMNS` and ``max_formant_hz`` (the ceiling used). Clips that
    cannot be analysed have NaN values and a non-empty ``reason``.
    """
    rows = corpus.index if subset is None else subset
    ceilings = np.array([_ceiling_of(g, max_formant) for g in rows.get("gender", pd.Series("", index=rows.index))])
    tables = []
    with _limit_threads(n_jobs):
        for value in np.unique(ceilings):  # one run per ceiling; most corpora have two
            part = rows[ceilings == value]
            params = {
                "max_formant": float(value), "floor": floor, "ceiling": ceiling, "time_step": time_step,
                "formant_time_step": formant_time_step, "max_bandwidth": max_bandwidth,
            }  # fmt: skip
            table, _ = map_clips(
                voice_features_clip, corpus.root, part, params, name="voice-features",
                chunk_size=chunk_size, n_jobs=n_jobs, progress=progress,
                desc=f"Voice features (formant ceiling {value:g} Hz)",
            )  # fmt: skip
            tables.append(_with_index(part, table).assign(max_formant_hz=float(value)))
    if not tables:
        empty = {c: pd.Series(dtype=str if c == "reason" else float) for c in (*VOICE_COLUMNS, "max_formant_hz")}
        return pd.concat([rows[[c for c in KEEP if c in rows.columns]], pd.DataFrame(empty, index=rows.index)], axis=1)
    return pd.concat(tables).loc[rows.index]


def pyin_features(
    corpus,
    subset: pd.DataFrame | None = None,
    *,
    per_cell: int = PYIN_PER_CELL,
    seed: int = PYIN_SEED,
    sr: int = 11_025,
    fmin: float = PYIN_FMIN,
    fmax: float = PYIN_FMAX,
    frame_length: int = 512,
    low: float = 50.0,
    high: float = 300.0,
    n_jobs: int = -1,
    progress: bool = True,
    chunk_size: int = 16,
) -> pd.DataFrame:
    """The paper's pYIN F0 (:func:`spoken100.acoustics.pitch.pyin_f0_clip`) of a subset of the clips.

    subset: rows of ``corpus.index``; default ``stratified_subsample(corpus.index, per_cell,
        seed)``. Pass ``corpus.index`` for every clip (about an hour of one core per 7,000
        clips).
    sr, fmin, fmax, frame_length, low, high: the paper's settings by default.

    Returns one row per clip of the subset (its labels and order): the index columns, ``f0_hz``
    (the paper's per-clip value), ``f0_all_voiced_hz``, ``n_frames``, ``n_voiced``, ``n_kept``
    and ``reason``.
    """
    rows = stratified_subsample(corpus.index, per_cell, seed) if subset is None else subset
    params = {"sr": sr, "fmin": fmin, "fmax": fmax, "frame_length": frame_length, "low": low, "high": high}
    with _limit_threads(n_jobs):
        table, _ = map_clips(
            pyin_f0_clip, corpus.root, rows, params, name="pyin-f0", chunk_size=chunk_size,
            n_jobs=n_jobs, progress=progress, desc="pYIN F0 (paper's method)",
        )  # fmt: skip
    if not len(rows):
        cols = ("f0_hz", "f0_all_voiced_hz", "n_frames", "n_voiced", "n_kept")
        table = pd.DataFrame({"path": [], **{c: [] for c in cols}, "reason": pd.Series(dtype=str)})
    return _with_index(rows, table)


def umap_inputs(
    corpus, *, subset: pd.DataFrame | None = None, n_jobs: int = -1, progress: bool = True, chunk_size: int = 256
) -> np.ndarray:
    """The paper's UMAP input (:func:`spoken100.acoustics.spectra.paper_umap_input`) of every clip.

    Returns a float32 array of shape ``(n_clips, 2048)``, rows aligned with ``corpus.index`` (or
    ``subset``); a clip that cannot be read gives a row of NaN.
    """
    rows = corpus.index if subset is None else subset
    with _limit_threads(n_jobs):
        _, arrays = map_clips(
            paper_umap_clip, corpus.root, rows, {}, name="umap-input", chunk_size=chunk_size,
            n_jobs=n_jobs, progress=progress, desc="UMAP inputs (paper)",
        )  # fmt: skip
    return arrays.get("umap_input", np.zeros((0, UMAP_DIM), np.float32))


def mfcc_inputs(
    corpus,
    *,
    subset: pd.DataFrame | None = None,
    n_mfcc: int = 20,
    deltas: bool = True,
    n_jobs: int = -1,
    progress: bool = True,
    chunk_size: int = 256,
) -> np.ndarray:
    """MFCC summaries (:func:`spoken100.acoustics.spectra.mfcc_summary`) of every clip.

    Returns a float32 array of shape ``(n_clips, 4 * n_mfcc)`` (``2 * n_mfcc`` without deltas),
    rows aligned with ``corpus.index`` (or ``subset``).
    """
    rows = corpus.index if subset is None else subset
    with _limit_threads(n_jobs):
        _, arrays = map_clips(
            mfcc_clip, corpus.root, rows, {"n_mfcc": n_mfcc, "deltas": deltas}, name="mfcc-summary",
            chunk_size=chunk_size, n_jobs=n_jobs, progress=progress, desc="MFCC summaries",
        )  # fmt: skip
    return arrays.get("mfcc", np.zeros((0, mfcc_dim(n_mfcc, deltas)), np.float32))
