"""Fold statistics, paired comparisons and error analysis on numbers worked out by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from spoken100.baselines.stats import (
    accuracy_by,
    confusion,
    decade_label,
    mean_sd_ci,
    most_confused_pairs,
    one_reading,
    paired_comparison,
    prediction_table,
    wilson_interval,
)
from spoken100.data.splits import Fold


def test_mean_sd_ci_by_hand():
    s = mean_sd_ci([1, 2, 3, 4])
    assert s["n"] == 4 and s["mean"] == 2.5
    assert s["sd_population"] == pytest.approx(np.sqrt(1.25))  # np.std, as the paper printed
    assert s["sd_sample"] == pytest.approx(np.sqrt(5 / 3))
    half = 3.182446305284263 * np.sqrt(5 / 3) / 2  # t(0.975, 3 df) x sem
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((2.5 - half, 2.5 + half))
    assert mean_sd_ci([1, 2, 3, 4], confidence=0.5)["ci_high"] < s["ci_high"]
    one = mean_sd_ci([0.8, float("nan")])
    assert one["n"] == 1 and one["sd_population"] == 0 and np.isnan(one["sd_sample"]) and np.isnan(one["ci_low"])


def _table(diffs, base=0.5):
    folds = range(1, len(diffs) + 1)
    a = pd.DataFrame({"model": "a", "fold": folds, "accuracy": base + np.asarray(diffs)})
    b = pd.DataFrame({"model": "b", "fold": folds, "accuracy": base})
    return pd.concat([a, b], ignore_index=True)


def test_paired_comparison_by_hand():
    diffs = np.arange(1, 9) / 100  # mean 0.045, sample SD 0.0245
    r = paired_comparison(_table(diffs), "a", "b")
    assert r["n"] == 8 and r["a_wins"] == 8
    assert r["mean_difference"] == pytest.approx(0.045) and r["mean_a"] - r["mean_b"] == pytest.approx(0.045)
    sem = np.std(diffs, ddof=1) / np.sqrt(8)
    assert r["t_statistic"] == pytest.approx(0.045 / sem)
    assert r["t_pvalue"] == pytest.approx(0.0012583, rel=1e-4)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.045 - 2.364624 * sem, 0.045 + 2.364624 * sem), rel=1e-5)
    assert r["wilcoxon_pvalue"] == pytest.approx(2 / 2**8)  # all 8 differences positive: the smallest exact p
    swapped = paired_comparison(_table(diffs), "b", "a")
    assert swapped["mean_difference"] == pytest.approx(-0.045) and swapped["a_wins"] == 0


def test_paired_comparison_pairs_folds_and_refuses_mixed_tables():
    table = _table([0.1, -0.1, 0.2])
    table = table[~((table.model == "b") & (table.fold == 3))]  # fold 3 only for a
    r = paired_comparison(table, "a", "b")
    assert r["n"] == 2 and r["mean_difference"] == pytest.approx(0.0)
    ties = paired_comparison(_table([0.0, 0.0, 0.0]), "a", "b")
    assert np.isnan(ties["wilcoxon_pvalue"]) and np.isnan(ties["t_pvalue"])
    doubled = pd.concat([_table([0.1, 0.2]), _table([0.1, 0.2])])
    with pytest.raises(ValueError, match="one task, protocol"):
        paired_comparison(doubled, "a", "b")
    with pytest.raises(KeyError, match="'c'"):
        paired_comparison(_table([0.1]), "a", "c")


def test_confusion_and_most_confused_pairs():
    cm = confusion([1, 1, 1, 2, 2, 3, 9], [1, 2, 2, 1, 2, 1, 1], labels=[1, 2, 3])
    assert cm.to_numpy().tolist() == [[1, 2, 0], [1, 1, 0], [1, 0, 0]]  # the true 9 is not a label: not counted
    assert cm.index.name == "true" and cm.columns.name == "predicted"
    top = most_confused_pairs(cm, k=2)
    assert top.to_dict("list") == {"true": [1, 2], "predicted": [2, 1], "count": [2, 1], "rate": [2 / 3, 0.5]}
    both = most_confused_pairs(cm.to_numpy(), labels=["one", "two", "three"], k=5, symmetric=True)
    assert both.to_dict("list") == {"a": ["one", "one"], "b": ["two", "three"], "count": [3, 1], "a_as_b": [2, 0],
                                    "b_as_a": [1, 1]}  # fmt: skip
    with pytest.raises(ValueError, match="square"):
        most_confused_pairs(np.ones((2, 3)))


def test_accuracy_by_language_decade_and_gender():
    table = pd.DataFrame({
        "language": ["english", "english", "german", "german", "german"],
        "gender": ["female", "male", "female", "male", "male"],
        "number": [3, 47, 41, 99, 5],
        "y_true": [3, 47, 41, 99, 5],
        "y_pred": [3, 40, 41, 99, 6],
    })  # fmt: skip
    lang = accuracy_by(table, "language")
    assert lang.set_index("language")["accuracy"].to_dict() == {"english": 0.5, "german": 2 / 3}
    assert lang["n"].tolist() == [2, 3] and lang["correct"].tolist() == [1, 2]
    decade = accuracy_by(table, "decade")
    assert decade["decade"].astype(str).tolist() == ["0-9", "40-49", "90-99"]
    assert decade["accuracy"].tolist() == [0.5, 0.5, 1.0]
    both = accuracy_by(table.assign(correct=table.y_true == table.y_pred), ["language", "gender"])
    assert len(both) == 4 and (both.ci_low <= both.accuracy).all() and (both.accuracy <= both.ci_high).all()
    with pytest.raises(KeyError, match="speaker"):
        accuracy_by(table, "speaker")
    assert decade_label(0) == "0-9" and decade_label(99) == "90-99"


def test_wilson_interval_by_hand():
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12) and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)


def test_prediction_table_from_runs():
    index = pd.DataFrame({"path": list("abcdef"), "language": ["english"] * 3 + ["german"] * 3,
                          "number": [1, 2, 3, 1, 2, 3], "speaker": list("xxyyzz")})  # fmt: skip
    fold = Fold(1, ("x",), ("y", "z"))
    run = SimpleNamespace(spec=SimpleNamespace(model="cnn_2d", task="number", protocol="paper", fold=fold),
                          test_index=np.array([2, 3, 4, 5]),
                          test_predictions={"best_test": np.array([3, 1, 0, 3]), "best_val": np.array([0, 0, 0, 0])})  # fmt: skip
    table = prediction_table([run], index)
    assert table.path.tolist() == list("cdef") and table.correct.tolist() == [True, True, False, True]
    assert set(table.columns) >= {"model", "task", "protocol", "fold", "y_true", "y_pred", "correct"}
    assert accuracy_by(table, "language").accuracy.tolist() == [1.0, 2 / 3]
    assert not prediction_table([run], index, criterion="best_val").correct.any()


def test_one_reading_counts_each_test_clip_once():
    """With both protocols, only the honest runs' predictions remain; with one protocol, all of them."""
    both = pd.DataFrame({"model": "cnn_2d", "task": "number", "fold": 1,
                         "protocol": ["honest", "paper", "honest", "paper"], "correct": [True, False, True, True]})  # fmt: skip
    assert list(one_reading(both).protocol) == ["honest", "honest"]
    paper_only = both[both.protocol == "paper"]
    assert len(one_reading(paper_only)) == 2
    # a model trained only under the paper's protocol keeps its rows beside another's honest ones
    mixed = pd.concat([both, paper_only.assign(model="rnn")], ignore_index=True)
    kept = one_reading(mixed)
    assert sorted(zip(kept.model, kept.protocol, strict=True)) == [("cnn_2d", "honest")] * 2 + [("rnn", "paper")] * 2
