"""Figures of the generation-audit chapter (matplotlib/seaborn; each returns its Figure)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from spoken100.style import LANGUAGE_ORDER, language_palette


def durations_by_number(index: pd.DataFrame) -> plt.Figure:
    """Mean +- SD of the duration across speakers against the number, one line per language.

    The same construction as the paper's duration figure (paper-facts §1.5).
    """
    stats = index.groupby(["language", "number"]).duration_s.agg(["mean", "std"]).reset_index()
    fig, ax = plt.subplots(figsize=(9, 4))
    for language, colour in language_palette(stats.language).items():
        part = stats[stats.language == language]
        ax.plot(part.number, part["mean"], color=colour, label=language.capitalize())
        ax.fill_between(part.number, part["mean"] - part["std"], part["mean"] + part["std"], color=colour, alpha=0.2)
    ax.set(xlabel="number", ylabel="duration (s)", xlim=(0, 99), ylim=(0, None))
    ax.legend(ncol=4, loc="upper center", frameon=False)
    ax.set_title("Clip duration: mean ± SD across speakers")
    fig.tight_layout()
    return fig


def duration_distributions(index: pd.DataFrame) -> plt.Figure:
    """Duration distribution per language and gender."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    order = [lang for lang in LANGUAGE_ORDER if lang in set(index.language)]
    sns.boxplot(data=index, x="language", y="duration_s", hue="gender", order=order, ax=ax, fliersize=2)
    ax.set(xlabel="", ylabel="duration (s)")
    fig.tight_layout()
    return fig


def edge_silence(clips: pd.DataFrame) -> plt.Figure:
    """Leading and trailing silence left after segmentation."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True)
    for ax, column, title in zip(axes, ["lead_silence_s", "trail_silence_s"], ["leading", "trailing"], strict=True):
        sns.histplot(data=clips, x=column, hue="language", element="step", ax=ax, bins=40,
                     palette=language_palette(clips.language))  # fmt: skip
        ax.set(xlabel=f"{title} silence (s)")
    fig.tight_layout()
    return fig


def levels(clips: pd.DataFrame) -> plt.Figure:
    """Peak against RMS level of every clip."""
    fig, ax = plt.subplots(figsize=(6, 4))
    sns.scatterplot(data=clips, x="rms_dbfs", y="peak_dbfs", hue="language", s=6, alpha=0.4, ax=ax,
                    palette=language_palette(clips.language), linewidth=0)  # fmt: skip
    ax.axhline(0, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="RMS level (dBFS)", ylabel="peak level (dBFS)")
    fig.tight_layout()
    return fig


def speaker_distances(distances: pd.DataFrame) -> plt.Figure:
    """Heat map of distances between the speakers' mean spectral profiles."""
    size = max(4.0, 0.22 * len(distances) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    sns.heatmap(distances, cmap="viridis", square=True, ax=ax, cbar_kws={"label": "distance"})
    ax.set(xlabel="", ylabel="")
    fig.tight_layout()
    return fig
