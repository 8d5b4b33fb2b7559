"""Chapter 4's second synthetic-to-real test: every trained model on human voices saying 0-99.

The human clips are Debian's recorded telephone prompts joined word by word into numbers
(:mod:`spoken100.data.assemble`): one professional female speaker per language (US English,
Canadian French), recorded at 8 kHz (nothing above 4 kHz), each number concatenated from separately
recorded words rather than spoken fluently. They are read exactly as the corpus's clips
(:func:`~spoken100.data.inputs.corpus_inputs`: 44.1 kHz, resampled to 8,000 samples, log-mel).

* :func:`human_study` scores every number-task run (every model, protocol and fold) on the human clips
  of each language; an honest run also with the paper's rule (:data:`HONEST_ON_TEST`: the weights
  of its epoch best on the test fold), so the paper's reading is there without paper-protocol runs.
  Beside it: the same model on its own synthetic test speakers restricted the same
  way (that language's clips only, read from the run's stored test predictions), and on those clips
  band-limited to 4 kHz (:func:`~spoken100.baselines.augment.band_limit`), which removes the one
  recording difference that is known and easy to imitate. Chance is 1 % for all three. Every
  language-task run is scored too: which language does it call the human clips?
* :func:`decade_errors` and :func:`decade_confusion` say, per tens decade, where the best model's
  mistakes go: the bare tens ("forty" for "forty-two"), the teen ("fourteen"), another unit of the
  same decade, or elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from spoken100.baselines.augment import band_limit
from spoken100.baselines.fsdd import waveform_to_input
from spoken100.baselines.models import BASELINES
from spoken100.baselines.stats import confusion
from spoken100.baselines.train import RunResult, load_model, predict
from spoken100.data import atomic
from spoken100.data.assemble import PROMPT_SAMPLE_RATE
from spoken100.data.audio import load_clip, resample_to_length
from spoken100.data.clipmap import map_clips
from spoken100.data.codehash import code_fingerprint
from spoken100.data.corpus import Corpus
from spoken100.data.inputs import INPUT_SHAPES, corpus_inputs
from spoken100.data.layout import LANGUAGES, SAMPLE_RATE
from spoken100.data.paths import cache_dir
from spoken100.data.tasks import chance

#: The prompts' bandwidth: nothing above the Nyquist frequency of their recording rate exists in them.
TELEPHONE_CUTOFF_HZ = PROMPT_SAMPLE_RATE // 2
_NUMBER_CHANCE_TEXT = f"chance {100 * chance('number'):g} %"
#: Column labels of :class:`HumanStudy`'s tables (chance from the data layer's task constants).
HUMAN = f"human voice ({_NUMBER_CHANCE_TEXT})"
SYNTHETIC = f"synthetic test speakers, same language ({_NUMBER_CHANCE_TEXT})"
BAND_LIMITED = f"synthetic, band-limited to {TELEPHONE_CUTOFF_HZ / 1000:g} kHz ({_NUMBER_CHANCE_TEXT})"
LANGUAGE_ACCURACY = f"called the right language (chance {100 * chance('language'):g} %)"


#: The honest runs read with the paper's rule (the weights of the epoch best on the test fold), so the
#: paper's reading is scored on the human clips where no separate paper-protocol runs were trained.
HONEST_ON_TEST = "honest-test"


def criterion(run: RunResult) -> str:
    """The epoch a run reports: chosen on the test fold (paper protocol) or on validation speakers (honest)."""
    return "best_test" if run.spec.protocol == "paper" else "best_val"


def readings(run: RunResult) -> list[tuple[str, str]]:
    """``(protocol label, criterion)`` of every way ``run`` is scored on the human clips.

    A run is read under its own protocol; an honest run also under the paper's rule
    (:data:`HONEST_ON_TEST`, epoch chosen on the test fold) when it kept that epoch's weights.
    """
    out = [(run.spec.protocol, criterion(run))]
    if run.spec.protocol == "honest" and "best_test" in run.test_predictions and run.weights("best_test").is_file():
        out.append((HONEST_ON_TEST, "best_test"))
    return out


def band_limited_clip_input(path: str | Path, kind: str = "logmel", cutoff_hz: float = TELEPHONE_CUTOFF_HZ) -> dict:
    """One corpus clip's model input after removing everything above ``cutoff_hz`` (as an 8 kHz recording)."""
    signal = band_limit(load_clip(path), SAMPLE_RATE, cutoff_hz)
    return {"input": waveform_to_input(resample_to_length(signal), kind)}


def band_limited_inputs(root: Path, index: pd.DataFrame, kind: str, cutoff_hz: float = TELEPHONE_CUTOFF_HZ,
                        n_jobs: int = -1, progress: bool = False) -> np.ndarray:  # fmt: skip
    """:func:`band_limited_clip_input` for every row of ``index`` (cached per chunk of clips)."""
    _, arrays = map_clips(band_limited_clip_input, Path(root), index, {"kind": kind, "cutoff_hz": cutoff_hz},
                          name="spoken100.baselines.human.band_limited_clip_input", n_jobs=n_jobs,
                          progress=progress, desc=f"band-limited {kind} inputs")  # fmt: skip
    return arrays.get("input", np.empty((0, *INPUT_SHAPES[kind]), dtype=np.float32)).astype(np.float32)


@dataclass
class HumanStudy:
    """What :func:`human_study` found.

    numbers: one row per number-task run and language (``model``, ``title``, ``protocol``, ``fold``,
        ``language``, :data:`HUMAN`, :data:`SYNTHETIC`, :data:`BAND_LIMITED`, ``human clips``,
        ``synthetic clips``). languages: one row per language-task run and language of the human clips
        (the share of clips called each language, and :data:`LANGUAGE_ACCURACY`).
    predictions: ``(model, protocol, fold)`` -> the predicted number of every human clip (index order).
    """

    numbers: pd.DataFrame
    languages: pd.DataFrame
    predictions: dict[tuple[str, str, int], np.ndarray] = field(default_factory=dict)

    def mean_numbers(self) -> pd.DataFrame:
        """:attr:`numbers` averaged over folds: one row per model, protocol and language."""
        if self.numbers.empty:
            return self.numbers
        cols = [HUMAN, SYNTHETIC, BAND_LIMITED]
        return (self.numbers.groupby(["model", "title", "protocol", "language"], sort=False)
                .agg(folds=("fold", "size"), **{c: (c, "mean") for c in cols}).reset_index())  # fmt: skip

    def glue_values(self, best: str | None = None) -> dict[str, float | str]:
        """The values chapter 4 glues, in percent: per language, model and protocol, and the best model's.

        ``human_number_<language>_<model>_<protocol>`` and ``human_synthetic_<language>_<model>_<protocol>``
        (means over folds); ``human_best_<language>`` and ``human_best_synthetic_<language>``: model
        ``best`` (chosen on validation speakers) under the honest protocol, else its first protocol.
        """
        out: dict[str, float | str] = {}
        table = self.mean_numbers()
        for row in table.to_dict("records"):
            suffix = f"{row['language']}_{row['model']}_{row['protocol']}"
            out[f"human_number_{suffix}"] = 100 * float(row[HUMAN])
            out[f"human_synthetic_{suffix}"] = 100 * float(row[SYNTHETIC])
        if best is not None and not table.empty:
            mine = table[table.model == best]
            if not mine.empty:
                protocol = "honest" if (mine.protocol == "honest").any() else mine.protocol.iloc[0]
                for row in mine[mine.protocol == protocol].to_dict("records"):
                    out[f"human_best_{row['language']}"] = 100 * float(row[HUMAN])
                    out[f"human_best_synthetic_{row['language']}"] = 100 * float(row[SYNTHETIC])
        return out


def _language_rows(index: pd.DataFrame, language: str, rows: np.ndarray | None = None) -> np.ndarray:
    positions = np.arange(len(index)) if rows is None else np.asarray(rows)
    return positions[index.language.to_numpy()[positions] == language]


def _reading_scores(run: RunResult, chosen: str, corpus: Corpus, human: Corpus, corpora_key: str, human_inputs,
                    band_limited: bool, n_jobs: int) -> tuple[np.ndarray, dict[str, float]]:  # fmt: skip
    """One reading's predicted class of every human clip, and (number task) its band-limited synthetic accuracy per language.

    The network's forward passes are the whole cost of the study (a warm chapter 4 spent most of its
    time here), so the result is cached beside nothing else, under ``cache_dir("baselines", "human")``,
    keyed by the weights file's content, both corpora (``corpora_key``: their digests, computed once
    per study), the run's test clips and this code. A run
    without a weights file on disk (a stand-in in the tests) is scored without the cache.
    """
    kind = BASELINES[run.spec.model].input_kind
    weights = run.weights(chosen) if hasattr(run, "weights") else None
    path = None
    if weights is not None and Path(weights).is_file():
        blob = json.dumps([hashlib.sha256(Path(weights).read_bytes()).hexdigest(), chosen, kind, run.spec.task,
                           corpora_key, hashlib.sha256(np.asarray(run.test_index).tobytes()).hexdigest(),
                           bool(band_limited), code_fingerprint(_reading_scores)])  # fmt: skip
        path = cache_dir("baselines", "human") / f"{hashlib.sha256(blob.encode()).hexdigest()[:20]}.npz"
        if path.is_file():
            with np.load(path) as stored:
                limited = dict(zip(human.languages, stored["limited"].tolist(), strict=True))
                return stored["predicted"], limited
    network = load_model(run, chosen)
    predicted = predict(network, human_inputs(kind)).argmax(1)
    limited = dict.fromkeys(human.languages, float("nan"))
    if run.spec.task == "number" and band_limited:
        test = np.asarray(run.test_index)
        for language in human.languages:
            synthetic = np.flatnonzero(corpus.index.language.to_numpy()[test] == language)
            if len(synthetic):
                truth = corpus.index.number.to_numpy()[test[synthetic]]
                X = band_limited_inputs(corpus.root, corpus.index.iloc[test[synthetic]], kind, n_jobs=n_jobs)
                limited[language] = float(np.mean(predict(network, X).argmax(1) == truth))
    if path is not None:
        with atomic.atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, predicted=predicted, limited=np.array([limited[lang] for lang in human.languages]))
    return predicted, limited


def human_study(corpus: Corpus, human: Corpus, results: Sequence[RunResult], *, band_limited: bool = True,
                n_jobs: int = -1) -> HumanStudy:  # fmt: skip
    """Score every run of ``results`` on the human clips of ``human`` (see the module docstring).

    corpus: the corpus the runs were trained on (for the synthetic test clips); human:
    :func:`spoken100.data.assemble.prompt_corpus`. band_limited: also score the band-limited synthetic clips.
    """
    inputs: dict[str, np.ndarray] = {}

    def human_inputs(kind: str) -> np.ndarray:
        if kind not in inputs:
            inputs[kind] = corpus_inputs(human.root, human.index, kind, n_jobs=n_jobs, progress=False)
        return inputs[kind]

    corpora_key = f"{human.digest}-{corpus.digest}"  # hashes of both indexes, once for every reading
    number_rows, language_rows, predictions = [], [], {}
    ordered = sorted(results, key=lambda r: (r.spec.task, r.spec.model, r.spec.protocol, r.spec.fold.fold))
    for run, (protocol, chosen) in ((r, reading) for r in ordered for reading in readings(r)):
        spec = run.spec
        predicted, limited = _reading_scores(run, chosen, corpus, human, corpora_key, human_inputs, band_limited,
                                             n_jobs)  # fmt: skip
        base = {"model": spec.model, "title": BASELINES[spec.model].title, "protocol": protocol,
                "fold": spec.fold.fold}  # fmt: skip
        if spec.task == "number":
            predictions[(spec.model, protocol, spec.fold.fold)] = predicted
            test = np.asarray(run.test_index)
            stored = np.asarray(run.test_predictions[chosen])
            for language in human.languages:
                mine = _language_rows(human.index, language)
                synthetic = np.flatnonzero(corpus.index.language.to_numpy()[test] == language)
                truth = corpus.index.number.to_numpy()[test[synthetic]]
                number_rows.append({
                    **base, "language": language,
                    HUMAN: float(np.mean(predicted[mine] == human.index.number.to_numpy()[mine])),
                    SYNTHETIC: float(np.mean(stored[synthetic] == truth)) if len(synthetic) else float("nan"),
                    BAND_LIMITED: limited[language], "human clips": len(mine), "synthetic clips": len(synthetic),
                })  # fmt: skip
        elif spec.task == "language":
            for language in human.languages:
                mine = predicted[_language_rows(human.index, language)]
                shares = {f"called {name}": float(np.mean(mine == k)) for k, name in enumerate(LANGUAGES)}
                language_rows.append({**base, "language": language, **shares,
                                      LANGUAGE_ACCURACY: float(np.mean(mine == LANGUAGES.index(language)))})  # fmt: skip
    return HumanStudy(pd.DataFrame(number_rows), pd.DataFrame(language_rows), predictions)


# ---- where the mistakes go -----------------------------------------------------------------------

ERROR_KINDS = ("correct", "same decade, other unit", "the bare tens (40 for 42)", "the teen (14 for 40-49)",
               "another decade")  # fmt: skip


def error_kind(true: int, predicted: int) -> str:
    """What kind of mistake ``predicted`` is for ``true`` (one of :data:`ERROR_KINDS`).

    The bare tens: 40 for 41-49. The teen: 10 + the tens digit (14 "fourteen") for 40-49 ("forty...").
    """
    tens = true // 10
    if predicted == true:
        return ERROR_KINDS[0]
    if tens >= 2 and predicted == 10 + tens:
        return ERROR_KINDS[3]
    if true % 10 and predicted == 10 * tens:
        return ERROR_KINDS[2]
    if predicted // 10 == tens:
        return ERROR_KINDS[1]
    return ERROR_KINDS[4]


def decade_errors(y_true: Sequence[int], y_pred: Sequence[int], languages: Sequence[str] | None = None) -> pd.DataFrame:
    """Per tens decade of the true number (and language, when given): the share of each :data:`ERROR_KINDS`."""
    frame = pd.DataFrame({"decade": [f"{10 * (t // 10)}-{10 * (t // 10) + 9}" for t in y_true],
                          "kind": [error_kind(int(t), int(p)) for t, p in zip(y_true, y_pred, strict=True)]})  # fmt: skip
    keys = ["decade"]
    if languages is not None:
        frame.insert(0, "language", list(languages))
        keys = ["language", "decade"]
    shares = pd.crosstab([frame[k] for k in keys], frame["kind"], normalize="index")
    shares = shares.reindex(columns=list(ERROR_KINDS), fill_value=0.0)
    shares.insert(0, "clips", frame.groupby(keys).size())
    return shares.reset_index()


def decade_confusion(y_true: Sequence[int], y_pred: Sequence[int]) -> pd.DataFrame:
    """10 x 10 counts: true decade (rows, 0 = 0-9) against predicted decade (columns)."""
    return confusion(np.asarray(y_true) // 10, np.asarray(y_pred) // 10, labels=range(10))
