"""Figures of the voices chapter (F0, pYIN against Praat, formants); each returns its Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from spoken100.style import LANGUAGE_ORDER, language_palette
from spoken100.voices.stats import NATURAL_RANGE


def f0_per_speaker(speakers: pd.DataFrame, title: str) -> plt.Figure:
    """Per-speaker F0 mean ± SD across the numbers, one line per language, speakers alphabetical (as the paper)."""
    names = sorted(speakers.speaker.unique())
    x = {name: i for i, name in enumerate(names)}
    fig, ax = plt.subplots(figsize=(max(8, 0.35 * len(names) + 2), 4))
    palette = language_palette(speakers.language)
    for k, (language, colour) in enumerate(palette.items()):
        part = speakers[speakers.language == language]
        offset = (k - 1.5) * 0.12
        ax.errorbar(part.speaker.map(x) + offset, part["mean"], yerr=part["sd"], color=colour, marker="o", ms=3,
                    lw=1, capsize=2, label=language.capitalize())  # fmt: skip
    ax.set_xticks(range(len(names)), names, rotation=90)
    for label in ax.get_xticklabels():
        gender = speakers.loc[speakers.speaker == label.get_text(), "gender"].iloc[0]
        label.set_color("#b2182b" if gender == "female" else "#2166ac")
    ax.axhspan(*NATURAL_RANGE, color="grey", alpha=0.06, lw=0)
    ax.set(ylabel="F0 (Hz)", title=title)
    ax.legend(ncol=4, frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def f0_distributions(table: pd.DataFrame, column: str, title: str) -> plt.Figure:
    """F0 distribution per language and gender; the paper's 50-300 Hz range shaded."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    order = [lang for lang in LANGUAGE_ORDER if lang in set(table.language)]
    sns.violinplot(data=table.dropna(subset=[column]), x="language", y=column, hue="gender", order=order,
                   split=True, inner="quart", cut=0, ax=ax, density_norm="width")  # fmt: skip
    ax.axhspan(*NATURAL_RANGE, color="grey", alpha=0.06, lw=0)
    ax.set(xlabel="", ylabel="F0 (Hz)", title=title)
    fig.tight_layout()
    return fig


def pyin_vs_praat(pairs: pd.DataFrame) -> plt.Figure:
    """Scatter of pYIN against Praat F0 (with the octave lines) and a Bland-Altman plot."""
    both = pairs.dropna(subset=["pyin_hz", "praat_hz"])
    fig, (ax, ba) = plt.subplots(1, 2, figsize=(11, 4.2))
    sns.scatterplot(data=both, x="praat_hz", y="pyin_hz", hue="gender", style="language", s=14, alpha=0.7, ax=ax)
    lo, hi = 40, max(350, float(both[["praat_hz", "pyin_hz"]].max().max()) * 1.05 if len(both) else 350)
    grid = np.array([lo, hi])
    for factor, style in ((1, "-"), (2, ":"), (0.5, ":")):
        ax.plot(grid, grid * factor, color="black", ls=style, lw=0.8)
    ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel="Praat F0 (Hz)", ylabel="pYIN F0, paper's settings (Hz)",
           title="pYIN against Praat (lines: equal, ×2, ×½)")  # fmt: skip
    ax.legend(fontsize=7, ncol=2)
    mean = (both.pyin_hz + both.praat_hz) / 2
    diff = both.pyin_hz - both.praat_hz
    ba.scatter(mean, diff, s=8, alpha=0.5, c=np.where(both.gender == "female", "#b2182b", "#2166ac"))
    if len(diff) > 1:
        bias, sd = diff.mean(), diff.std()
        for value, style in ((bias, "-"), (bias - 1.96 * sd, "--"), (bias + 1.96 * sd, "--")):
            ba.axhline(value, color="black", ls=style, lw=0.8)
    ba.set(xlabel="mean of the two (Hz)", ylabel="pYIN − Praat (Hz)", title="Bland–Altman (bias, ±1.96 SD)")
    fig.tight_layout()
    return fig


def formant_space(table: pd.DataFrame) -> plt.Figure:
    """Each speaker's mean F1 against F2 per language (vowel space, axes reversed as phoneticians draw it)."""
    means = table.groupby(["language", "speaker", "gender"], observed=True)[["f1_hz", "f2_hz"]].mean().reset_index()
    order = [lang for lang in LANGUAGE_ORDER if lang in set(means.language)]
    fig, axes = plt.subplots(1, len(order), figsize=(3.2 * len(order), 3.4), sharex=True, sharey=True, squeeze=False)
    for ax, language in zip(axes[0], order, strict=True):
        part = means[means.language == language]
        sns.scatterplot(data=part, x="f2_hz", y="f1_hz", hue="gender", ax=ax, s=25,
                        hue_order=["female", "male"], legend=ax is axes[0][0])  # fmt: skip
        ax.set(title=language.capitalize(), xlabel="F2 (Hz)", ylabel="F1 (Hz)")
    axes[0][0].invert_xaxis()
    axes[0][0].invert_yaxis()
    fig.tight_layout()
    return fig
