"""Headline numbers of chapter 2 that are glued into its findings: the mean F0 of each gender.

:func:`spoken100.voices.stats.by_group` tabulates the same means per gender and language, but
computes them over the measured clips only (``dropna().mean()``). Pandas' NaN-skipping
``Series.mean`` sums with the missing values counted as zeros, so the two can differ in the last
bits of a float. The chapter's glued values have always been the latter, so :func:`gender_means`
keeps that computation exactly, in one place, instead of in the notebook.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def gender_means(
    table: pd.DataFrame, column: str, genders: Sequence[str] = ("female", "male"), by: str = "gender"
) -> dict[str, float]:
    """Mean of ``column`` over the clips of each gender present in ``table`` (NaN skipped), in ``genders``' order.

    table: a feature table of :mod:`spoken100.acoustics.features` (one row per clip, with ``by``).
    A gender without any clip in ``table`` gets no entry; one whose clips were all unmeasured gets NaN.
    """
    present = set(table[by].dropna())
    return {g: float(table.loc[table[by] == g, column].mean()) for g in genders if g in present}
