"""Voice statistics: verdicts on pYIN/Praat pairs, agreement numbers, group tables."""

import numpy as np
import pandas as pd
import pytest

from spoken100.voices import stats as voicestats


def _tables():
    paths = [f"c{i}.wav" for i in range(6)]
    labels = {"language": ["english"] * 6, "speaker": ["a", "a", "b", "b", "c", "c"],
              "gender": ["female", "female", "male", "male", "male", "male"], "number": range(6)}  # fmt: skip
    praat = pd.DataFrame({"path": paths, **labels, "f0_mean_hz": [200, 210, 90, 100, 80, np.nan],
                          "reason": ["", "", "", "", "", "silent"]})  # fmt: skip
    pyin = pd.DataFrame({"path": paths, **labels, "f0_hz": [205, 150, 180, np.nan, 120, 100],
                         "reason": ["", "", "", "no voiced frames", "", ""]})  # fmt: skip
    return pyin, praat


def test_verdicts_name_each_kind_of_disagreement():
    pairs = voicestats.paired_f0(*_tables())
    assert list(pairs.verdict) == [
        "agree",
        "pYIN lower",
        "pYIN about an octave higher",
        "no pYIN value: no voiced frames",
        "pYIN higher",
        "no Praat value: silent",
    ]


def test_agreement_counts_only_pairs_both_measured():
    pairs = voicestats.paired_f0(*_tables())
    agree = voicestats.agreement(pairs)
    assert agree["pairs"] == 4
    assert agree["share_agree"] == pytest.approx(0.25)
    assert agree["bias_hz"] == pytest.approx(np.mean([5, -60, 90, 40]))
    assert agree["median_abs_diff_hz"] == pytest.approx(50)


def test_group_table_and_reasons():
    _, praat = _tables()
    groups = voicestats.by_group(praat, "f0_mean_hz")
    assert groups.loc[("male", "english"), "clips"] == 4
    assert groups.loc[("male", "english"), "measured"] == 3
    assert groups.loc[("female", "english"), "share_50_300"] == 1.0
    assert voicestats.reasons(praat).to_dict("records") == [{"reason": "silent", "clips": 1}]
