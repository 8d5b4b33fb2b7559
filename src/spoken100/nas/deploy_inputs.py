"""What chapter 6 runs the models on: the test speakers, the calibration clips, and clips as a model takes them.

Test clips come from one speaker fold (:func:`deployment_split`, by default the search's own,
:func:`deployment_fold`); calibration uses training speakers or the paper's noise
(:func:`calibration_set`), never test clips. :func:`model_inputs` peak-normalises clips for models
trained on normalised clips; :func:`spread_indices` picks an even subset for TFLite Micro.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from spoken100.data.audio import peak_normalize
from spoken100.data.inputs import corpus_inputs
from spoken100.data.splits import corpus_folds
from spoken100.nas import tflite

if TYPE_CHECKING:  # pragma: no cover
    from spoken100.nas.tflite import Representative


def deployment_split(corpus: Any, fold: int = 1, n_folds: int = 8) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Test and training rows of one speaker fold: ``(test_index, train_index, sentence)``.

    The folds are those of the baselines (:func:`spoken100.data.splits.corpus_folds`): the
    paper's split for the full real corpus, a gender-balanced split otherwise (use ``n_folds=4``
    for the 8-speaker subset). The sentence says where the folds come from and who is tested.
    """

    folds, source = corpus_folds(corpus, n_folds)
    chosen = [f for f in folds if f.fold == fold]
    if not chosen:
        raise ValueError(f"fold {fold} does not exist; the split has folds 1-{len(folds)}")
    f = chosen[0]
    index = corpus.index
    test = index[index.speaker.isin(f.test)].reset_index(drop=True)
    train = index[index.speaker.isin(f.train)].reset_index(drop=True)
    sentence = (f"Folds: {source}. Fold {fold} tests on {', '.join(f.test)} ({len(test):,} clips) and trains on "
                f"{len(f.train)} speakers.")  # fmt: skip
    return test, train, sentence


def calibration_set(
    corpus: Any, train_index: pd.DataFrame, kind: str = "train", n: int = 200, seed: int = 0
) -> tuple[Representative, str]:
    """The representative data for int8 calibration and a sentence saying what it is.

    kind: ``"train"`` -- ``n`` clips drawn at random from the fold's *training* speakers, in the
        models' input form (8,000 resampled samples, unnormalised; an array, which
        :func:`deployment_report` normalises for models that need it); ``"noise"`` -- ``n`` uniform-noise
        waveforms in [-1, 1), as the paper's conversion script (:func:`spoken100.nas.tflite.noise_dataset`).
    """

    if kind == "train":
        rows = train_index.sample(min(n, len(train_index)), random_state=seed)
        clips = corpus_inputs(corpus.root, rows, "waveform", progress=False)
        return clips, f"{len(rows)} clips of the fold's training speakers"
    if kind == "noise":  # tflite.noise_dataset's draws, collected as an array so that reports can be keyed
        noise = np.concatenate([batch[0] for batch in tflite.noise_dataset(n=n, seed=seed)()])
        return noise, f"{n} uniform-noise waveforms in [-1, 1), as the paper did"
    raise ValueError(f"calibration must be 'train' or 'noise', not {kind!r}")


def model_inputs(x: Any, normalize: bool) -> Any:
    """Clips as a model takes them: peak-normalised when it was trained so (:attr:`Pick.normalize`).

    Arrays of clips are normalised row by row; a representative-data callable (the paper's
    noise, already spanning [-1, 1)) and ``None`` are returned unchanged.
    """
    if normalize and isinstance(x, np.ndarray):
        return peak_normalize(x)
    return x


def deployment_fold(
    search: dict[str, Any] | None, fold: int | None = None, n_folds: int | None = None
) -> tuple[int, int]:
    """The speaker fold whose test speakers chapter 6 uses: the search's own unless set explicitly.

    The search fits on some of the fold's training speakers and selects on others; its test
    speakers are never seen, so they are the ones deployment must be measured on.
    """
    search = search or {}
    return int(fold if fold is not None else search.get("fold", 1)), int(
        n_folds if n_folds is not None else search.get("n_folds", 8)
    )


def spread_indices(n_total: int, n: int | None) -> np.ndarray:
    """``n`` indices spread evenly over ``range(n_total)`` (all when ``n`` is ``None`` or large enough).

    Corpus indices are ordered by language, speaker and number, so an even spread covers them all.
    """
    if n is None or n >= n_total:
        return np.arange(n_total)
    if n <= 0:
        raise ValueError(f"n must be positive or None, got {n}")
    return np.unique(np.linspace(0, n_total - 1, n).round().astype(int))
