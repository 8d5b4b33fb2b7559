"""The follow-up studies' "best model" is chosen on validation speakers, never on the test fold."""

from __future__ import annotations

import pandas as pd
import pytest

from spoken100.baselines import studies
from spoken100.baselines.experiment import _best_validation


def runs(rows):
    return pd.DataFrame(rows, columns=["model", "task", "fold", "protocol", "accuracy", "val_accuracy"])


def test_best_model_follows_validation_not_test_accuracy():
    table = runs([
        ("cnn_2d", "number", 1, "honest", 0.60, 0.40),  # best on the test speakers
        ("rnn", "number", 1, "honest", 0.50, 0.55),  # best on the validation speakers
        ("cnn_2d", "number", 2, "honest", 0.62, 0.41),
        ("rnn", "number", 2, "honest", 0.48, 0.52),
        ("cnn_2d", "language", 1, "honest", 0.9, 0.9),
    ])  # fmt: skip
    assert studies.best_model(table, "number") == "rnn"
    assert studies.best_model(table, "language") == "cnn_2d"


def test_best_model_without_validation_speakers_falls_back_to_the_papers_rule():
    table = runs(
        [("cnn_2d", "number", 1, "paper", 0.6, float("nan")), ("rnn", "number", 1, "paper", 0.7, float("nan"))]
    )
    assert studies.best_model(table, "number") == "rnn"
    with pytest.raises(ValueError, match="no results"):
        studies.best_model(table, "language")


def test_best_validation_is_the_highest_epoch():
    class Run:
        history = pd.DataFrame({"epoch": [0, 1, 2], "val_accuracy": [0.2, 0.5, 0.4]})

    assert _best_validation(Run()) == 0.5
    Run.history = pd.DataFrame({"epoch": [0], "test_accuracy": [0.3]})
    assert pd.isna(_best_validation(Run()))
