"""Plot styling shared by the chapters' figures: the language order and its colour-blind palette."""

from __future__ import annotations

import seaborn as sns

#: Order of the languages in every figure.
LANGUAGE_ORDER = ["english", "mandarin", "german", "french"]


def language_palette(languages) -> dict:
    """One colour-blind-safe colour per language present in ``languages`` (fixed across figures)."""
    colours = sns.color_palette("colorblind", 4)
    return {lang: colours[i] for i, lang in enumerate(LANGUAGE_ORDER) if lang in set(languages)}
