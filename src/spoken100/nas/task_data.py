"""The data of one search: waveforms, labels and the speaker split every candidate evaluation needs.

**Speakers.** Fold ``fold`` of :func:`spoken100.data.splits.corpus_folds`; its training speakers
are split by :func:`spoken100.data.splits.honest_split` into fit and validation speakers (the same
split as chapter 4's honest protocol at ``split_seed=0``). The fold's test speakers are held out
for the deployment chapter (:func:`spoken100.nas.evaluate.trained_candidate`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from spoken100.data.codehash import code_fingerprint
from spoken100.data.inputs import clip_input, corpus_inputs, targets
from spoken100.data.splits import corpus_folds, honest_split
from spoken100.nas.search_config import SearchConfig, SearchError


def short_hash(obj: Any, n: int = 16) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]


@dataclass
class TaskData:
    """Inputs, labels and the speaker split of one task, as every candidate evaluation needs them.

    X: waveforms ``(n, 8000)``, preferably the read-only memory map of the cached inputs (worker
        processes then open the file instead of receiving a copy). data_key: fingerprint of X and y.
    """

    task: str
    X: np.ndarray
    y: np.ndarray
    speakers: np.ndarray
    fit_speakers: tuple[str, ...]
    val_speakers: tuple[str, ...]
    test_speakers: tuple[str, ...]
    data_key: str
    split_source: str = ""
    corpus_label: str = ""

    def split(self) -> dict[str, Any]:
        """Speakers and clip counts of the split (JSON-ready)."""
        counts = {k: int(np.isin(self.speakers, list(v)).sum()) for k, v in
                  (("fit", self.fit_speakers), ("val", self.val_speakers), ("test", self.test_speakers))}  # fmt: skip
        return {"fit_speakers": list(self.fit_speakers), "val_speakers": list(self.val_speakers),
                "test_speakers": list(self.test_speakers), "clips": counts, "source": self.split_source}  # fmt: skip

    def payload(self, inline: bool = False) -> dict[str, Any]:
        """What a worker process needs: the memory-mapped file's path instead of the array when possible.

        inline: always the array itself (for a worker on another machine, which cannot open the file).
        """
        path = getattr(self.X, "filename", None)
        on_disk = isinstance(self.X, np.memmap) and path and not inline
        x: Any = ("path", str(path)) if on_disk else ("array", np.asarray(self.X))
        return {"task": self.task, "x": x, "y": self.y, "speakers": self.speakers,
                "fit": self.fit_speakers, "val": self.val_speakers, "data_key": self.data_key}  # fmt: skip


def payload_x(payload: dict[str, Any]) -> np.ndarray:
    kind, value = payload["x"]
    return np.load(value, mmap_mode="r") if kind == "path" else value


def task_data(corpus, config: SearchConfig, progress: bool = True) -> TaskData:
    """The waveforms, labels and speaker split of ``config.task`` on ``corpus`` (inputs cached)."""

    config.validate()
    folds, source = corpus_folds(corpus, config.n_folds)
    chosen = [f for f in folds if f.fold == config.fold]
    if not chosen:
        raise SearchError(f"fold {config.fold} does not exist (1-{len(folds)})")
    fold = chosen[0]
    fit, val = honest_split(fold.train, config.n_val_speakers, seed=config.split_seed + fold.fold,
                            genders=corpus.speakers)  # fmt: skip
    index = corpus.index
    X = corpus_inputs(corpus.root, index, "waveform", progress=progress, mmap=True)
    return TaskData(
        task=config.task,
        X=X,
        y=targets(index, config.task),
        speakers=index["speaker"].to_numpy(dtype=str),
        fit_speakers=tuple(fit),
        val_speakers=tuple(val),
        test_speakers=tuple(fold.test),
        data_key=short_hash([corpus.digest, "waveform", code_fingerprint(clip_input), config.task]),
        split_source=f"fold {fold.fold} of {source}",
        corpus_label=corpus.label,
    )
