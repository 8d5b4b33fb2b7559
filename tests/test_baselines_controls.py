"""Shortcut controls: classifiers on duration, voice or the averaged spectrum, on the networks' own split."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from spoken100.baselines import controls
from spoken100.data.corpus import open_corpus


def honest_run(task: str, train=("Bella",), test=("Arnold",), fold: int = 1):
    spec = SimpleNamespace(protocol="honest", task=task, train_speakers=tuple(train),
                           fold=SimpleNamespace(fold=fold, test=tuple(test)))  # fmt: skip
    return SimpleNamespace(spec=spec)


def test_controls_find_the_shortcut_the_corpus_has_and_not_the_one_it_lacks(tiny_layout):
    # tiny_layout: every clip lasts the same, and the tone's pitch is 200 Hz + the number
    corpus = open_corpus(str(tiny_layout))
    table = controls.controls_table(corpus, [honest_run("number"), honest_run("number", fold=1)], ["number"],
                                    controls=("duration", "spectrum"), n_jobs=1, progress=False)  # fmt: skip
    assert list(table.control) == ["duration", "spectrum"] and (table.n == 400).all()
    duration = table[table.control == "duration"].iloc[0]
    spectrum = table[table.control == "spectrum"].iloc[0]
    assert duration.accuracy <= 3 * duration.chance  # a constant feature cannot tell numbers apart
    assert spectrum.accuracy > 10 * spectrum.chance  # the pitch of the tone gives the number away
    assert spectrum.low <= spectrum.accuracy <= spectrum.high + 1e-12

    assert (table.correct == (table.accuracy * table.n).round()).all()
    summary = controls.controls_summary(table)
    assert list(summary.control) == ["duration", "spectrum"]
    assert summary["x chance"].iloc[1] == pytest.approx(spectrum.accuracy / spectrum.chance, abs=0.05)


def test_controls_use_only_the_runs_training_speakers(tiny_layout):
    corpus = open_corpus(str(tiny_layout))
    seen = {}

    def spy(features, y, train, test, seed=0):
        seen["train"] = set(corpus.index.speaker.to_numpy()[train])
        seen["test"] = set(corpus.index.speaker.to_numpy()[test])
        return np.zeros(len(test), dtype=int)

    controls_fit = controls.fit_and_score
    try:
        controls.fit_and_score = spy
        controls.controls_table(corpus, [honest_run("language", train=("Arnold",), test=("Bella",))], ["language"],
                                controls=("duration",), n_jobs=1, progress=False)  # fmt: skip
    finally:
        controls.fit_and_score = controls_fit
    assert seen == {"train": {"Arnold"}, "test": {"Bella"}}


def test_unknown_control_is_refused(tiny_layout):
    with pytest.raises(ValueError, match="control must be one of"):
        controls.control_features(open_corpus(str(tiny_layout)), "loudness")


def test_the_summary_interval_pools_the_folds_clips():
    """Two folds of 400 clips: the pooled interval is narrower than either fold's own."""
    rows = [{"task": "number", "control": "spectrum", "features": "f", "fold": f, "accuracy": a, "n": 400,
             "correct": int(a * 400), "low": 0.0, "high": 1.0, "chance": 0.01} for f, a in ((1, 0.2), (2, 0.3))]  # fmt: skip
    summary = controls.controls_summary(pd.DataFrame(rows))
    low, high = (float(x) / 100 for x in summary["95 % interval (%)"].iloc[0].split("-"))
    assert low < 0.25 < high and high - low < 0.07  # one fold's 400 clips alone span about 0.08
