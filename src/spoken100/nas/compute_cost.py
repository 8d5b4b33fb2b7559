"""What the paper profile's chapter 5 would cost, estimated from this build's measured candidate trainings.

A candidate's training time is proportional to the clips it trains on times its epochs, so this
build's candidates give core-seconds per clip-epoch (one TensorFlow thread per evaluation). The
paper profile's search evaluates ``initial_population + (generations - 1) x offspring``
candidates per task, each trained ``epochs`` epochs on every fit clip, plus the per-candidate
conversion and TFLite Micro time measured here (with this build's calibration and int8 clip
counts, so that part is approximate). Its 8-fold retraining trains the three picks and the paper's
three architectures on every fold for ``retrain_epochs``, at the published architectures' measured
per-clip-epoch cost. On N one-core workers the wall time is at least the larger of
``core-hours / N`` and the longest single training. Every figure here is an **estimate**.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from spoken100.data import paper_facts
from spoken100.data.layout import LANGUAGES, NUMBERS
from spoken100.nas.roles import ROLES
from spoken100.nas.search_config import PUBLISHED_VARIANTS, SearchConfig

#: The paper profile's search and retraining (profiles/paper.yml; tests/test_compute_cost.py checks they agree).
PAPER_PROFILE_SEARCH = {"population": 100, "initial_population": 300, "offspring": 100, "generations": 25,
                        "epochs": 10, "max_train_clips": None, "retrain_folds": 8, "retrain_epochs": 75}  # fmt: skip
#: Fit clips of one fold of the full corpus: the paper's speakers less a fold's test speakers and the
#: search's validation speakers, each saying every number in every language.
FULL_FOLD_FIT_CLIPS = (
    (int(paper_facts.figure("n_speakers").value) - int(paper_facts.figure("cv_test_speakers").value)
     - SearchConfig.n_val_speakers) * len(NUMBERS) * len(LANGUAGES)
)  # fmt: skip
#: Architectures the retraining trains per task: the search's picks and the paper's published ones.
RETRAINED_PER_TASK = len(ROLES) + len(PUBLISHED_VARIANTS)


def candidates_per_search(population: int, initial_population: int | None, offspring: int | None,
                          generations: int) -> int:  # fmt: skip
    """Evaluations of one search: generation 1's random genomes, then ``offspring`` per later generation."""
    first = initial_population if initial_population is not None else population
    return int(first + (generations - 1) * (offspring if offspring is not None else population))


def _per_clip_epoch(candidates: pd.DataFrame, clips: int, epochs: int) -> float:
    trained = pd.to_numeric(candidates["train_seconds"], errors="coerce").dropna()
    return float(trained.mean() / (clips * epochs)) if len(trained) else float("nan")


def paper_search_cost(
    results: Mapping[str, object],
    published: Mapping[str, pd.DataFrame],
    *,
    target: Mapping[str, object] = PAPER_PROFILE_SEARCH,
    workers: Sequence[int] = (1, 8, 32),
) -> pd.DataFrame:
    """Per task and stage (``search``, ``retraining``): the measured cost and the paper profile's estimate.

    results: task -> :class:`~spoken100.nas.search.SearchResult` of this build; published: task ->
    :func:`~spoken100.nas.evaluate.evaluate_published` table of this build (same protocol).
    """
    rows = []
    for task, result in results.items():
        config = result.config
        fit_clips = int(result.split["clips"]["fit"])
        clips = min(fit_clips, config.max_train_clips) if config.max_train_clips else fit_clips
        candidates = result.candidates
        per_clip = _per_clip_epoch(candidates, clips, config.epochs)
        overhead = pd.to_numeric(candidates["eval_seconds"], errors="coerce") - pd.to_numeric(
            candidates["train_seconds"], errors="coerce"
        )
        overhead_s = float(overhead.dropna().mean()) if overhead.notna().any() else 0.0
        target_clips = FULL_FOLD_FIT_CLIPS if target["max_train_clips"] is None else int(target["max_train_clips"])
        n = candidates_per_search(int(target["population"]), target["initial_population"], target["offspring"],
                                  int(target["generations"]))  # fmt: skip
        one = per_clip * target_clips * int(target["epochs"]) + overhead_s
        rows.append({"task": task, "stage": "search", "measured_trainings": int(candidates.train_seconds.notna().sum()),
                     "core_ms_per_clip_epoch": 1e3 * per_clip, "trainings": n,
                     "epochs_each": int(target["epochs"]), "clips_each": target_clips,
                     "core_hours": n * one / 3600, "longest_hours": one / 3600})  # fmt: skip
        paper_per_clip = _per_clip_epoch(published[task], clips, config.epochs) if task in published else per_clip
        runs = RETRAINED_PER_TASK * int(target["retrain_folds"])
        one_retrain = paper_per_clip * FULL_FOLD_FIT_CLIPS * int(target["retrain_epochs"])
        rows.append({"task": task, "stage": "retraining", "measured_trainings": int(published[task].train_seconds.notna().sum()) if task in published else 0,
                     "core_ms_per_clip_epoch": 1e3 * paper_per_clip, "trainings": runs,
                     "epochs_each": int(target["retrain_epochs"]), "clips_each": FULL_FOLD_FIT_CLIPS,
                     "core_hours": runs * one_retrain / 3600, "longest_hours": one_retrain / 3600})  # fmt: skip
    table = pd.DataFrame(rows)
    for n in workers:
        table[f"hours_on_{n}_workers"] = np.maximum(table.core_hours / n, table.longest_hours)
    return table
