"""Descriptive statistics of the voices: F0 per speaker and group, pYIN against Praat, formants.

Inputs are the feature tables of :mod:`spoken100.acoustics.features`: one row per clip with the index
labels (language, speaker, gender, number) and the measured values; NaN marks a clip that could
not be measured, its ``reason`` says why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

#: The paper keeps pYIN frames with 50 < F0 < 300 Hz ("natural range" of speaking voices).
NATURAL_RANGE = (50.0, 300.0)
#: Relative difference up to which two F0 estimates of one clip count as agreeing.
AGREE_WITHIN = 0.10


def per_speaker(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean and SD of ``column`` across the numbers for every speaker and language (the paper's F0 figure)."""
    grouped = table.groupby(["speaker", "gender", "language"], observed=True)[column]
    return grouped.agg(mean="mean", sd="std", n="count").reset_index()


def by_group(table: pd.DataFrame, column: str, groups: tuple[str, ...] = ("gender", "language")) -> pd.DataFrame:
    """Per group: clips, measured clips, mean, SD, median and the share inside the natural range."""
    low, high = NATURAL_RANGE

    def describe(values: pd.Series) -> pd.Series:
        measured = values.dropna()
        inside = measured.between(low, high, inclusive="neither")
        return pd.Series({"clips": len(values), "measured": len(measured), "mean_hz": measured.mean(),
                          "sd_hz": measured.std(), "median_hz": measured.median(),
                          "share_50_300": inside.mean() if len(measured) else np.nan})  # fmt: skip

    out = table.groupby(list(groups), observed=True)[column].apply(describe).unstack()
    out[["clips", "measured"]] = out[["clips", "measured"]].astype(int)
    return out


def reasons(table: pd.DataFrame) -> pd.DataFrame:
    """How many clips were not measured, and why (the feature table's ``reason`` column)."""
    problems = table.loc[table["reason"].fillna("") != "", "reason"]
    counts = problems.value_counts().rename_axis("reason").reset_index(name="clips")
    return counts


def paired_f0(pyin: pd.DataFrame, praat: pd.DataFrame) -> pd.DataFrame:
    """pYIN (paper) and Praat F0 of the same clips side by side, with a verdict on each pair.

    verdict: ``agree`` (within :data:`AGREE_WITHIN`), ``pYIN about an octave higher`` / ``lower``
    (ratio within 15 % of 2 or 1/2), ``pYIN higher`` / ``lower`` (other disagreements), or a
    statement that one method gave no value (with its reason).
    """
    left = pyin[["path", "language", "speaker", "gender", "number", "f0_hz", "reason"]].rename(
        columns={"f0_hz": "pyin_hz", "reason": "pyin_reason"}
    )
    right = praat[["path", "f0_mean_hz", "reason"]].rename(columns={"f0_mean_hz": "praat_hz", "reason": "praat_reason"})
    pairs = left.merge(right, on="path", how="inner")
    ratio = pairs.pyin_hz / pairs.praat_hz
    verdict = np.select(
        [
            pairs.pyin_hz.isna(),
            pairs.praat_hz.isna(),
            (ratio - 1).abs() <= AGREE_WITHIN,
            (ratio / 2 - 1).abs() <= 0.15,
            (ratio * 2 - 1).abs() <= 0.15,
            ratio > 1,
        ],
        [
            "no pYIN value: " + pairs.pyin_reason.fillna(""),
            "no Praat value: " + pairs.praat_reason.fillna(""),
            "agree",
            "pYIN about an octave higher",
            "pYIN about an octave lower",
            "pYIN higher",
        ],
        default="pYIN lower",
    )
    pairs["ratio"] = ratio
    pairs["verdict"] = verdict
    return pairs


def agreement(pairs: pd.DataFrame) -> pd.Series:
    """Agreement of pYIN and Praat over the clips both measured: correlation, differences, Bland-Altman."""
    both = pairs.dropna(subset=["pyin_hz", "praat_hz"])
    diff = both.pyin_hz - both.praat_hz
    n = len(both)
    r = float(sps.pearsonr(both.pyin_hz, both.praat_hz).statistic) if n > 2 else np.nan
    rho = float(sps.spearmanr(both.pyin_hz, both.praat_hz).statistic) if n > 2 else np.nan
    sd = float(diff.std()) if n > 1 else np.nan
    return pd.Series({
        "pairs": n, "pearson_r": r, "spearman_rho": rho,
        "median_abs_diff_hz": float(diff.abs().median()) if n else np.nan,
        "median_abs_rel_diff": float((diff.abs() / both.praat_hz).median()) if n else np.nan,
        "share_agree": float((both.ratio - 1).abs().le(AGREE_WITHIN).mean()) if n else np.nan,
        "bias_hz": float(diff.mean()) if n else np.nan,
        "loa_low_hz": float(diff.mean() - 1.96 * sd), "loa_high_hz": float(diff.mean() + 1.96 * sd),
    })  # fmt: skip


def verdicts(pairs: pd.DataFrame, by: str | None = "gender") -> pd.DataFrame:
    """Counts of each verdict of :func:`paired_f0`, overall or per ``by`` group (the reasons for disagreement)."""
    if by is None:
        return pairs.verdict.value_counts().rename_axis("verdict").reset_index(name="clips")
    return pairs.groupby([by, "verdict"], observed=True).size().unstack(fill_value=0).T


def formant_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean F1, F2, F3 (Hz) and speaking rate per language and gender."""
    columns = ["f1_hz", "f2_hz", "f3_hz", "syllable_rate"]
    present = [c for c in columns if c in table.columns]
    return table.groupby(["language", "gender"], observed=True)[present].mean()
