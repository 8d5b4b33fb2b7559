"""Figures of embeddings: one scatter coloured by a label, and small multiples of a UMAP sweep.

The paper's pictures (paper-facts §3) draw a random half of the points, size 3, alpha 0.3, coloured
by language (colour-blind palette), speaker or number (magma with a colour bar). These functions
draw every point by default, in a random order (so that no label is painted on top of the others),
with the same size and alpha. Each returns its Figure; nothing is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from spoken100.embeddings.structure import SweepResult

POINT_SIZE = 3
ALPHA = 0.3
LEGEND_INSIDE = 8  # up to this many categories the legend sits in the axes; more go beside them
LEGEND_MAX = 40  # more categories than this are coloured with a colour map and a colour bar instead

Kind = Literal["auto", "categorical", "continuous"]


def _kind(values: np.ndarray, kind: Kind) -> str:
    if kind != "auto":
        return kind
    if values.dtype.kind in "fiu" and len(np.unique(values)) > LEGEND_MAX:
        return "continuous"
    return "categorical"


def _palette(categories: Sequence, palette: Any | None) -> dict:
    if isinstance(palette, dict):
        return palette
    n = len(categories)
    if palette is None:
        # colour-blind palette (the paper's, for languages) when it has enough colours; else evenly spaced hues
        palette = "colorblind" if n <= 10 else "husl"
    return dict(zip(categories, sns.color_palette(palette, n), strict=True))


def _draw(
    ax: Axes,
    Z: np.ndarray,
    values: np.ndarray,
    kind: str,
    order: Sequence | None,
    palette: Any | None,
    cmap: str,
    rng: np.random.Generator,
    point_size: float,
    alpha: float,
) -> tuple[dict | None, Any]:
    """Scatter in random order; return (category -> colour) for categorical values, else the mappable."""
    shuffle = rng.permutation(len(Z))
    Z, values = Z[shuffle], values[shuffle]
    if kind == "continuous":
        mappable = ax.scatter(Z[:, 0], Z[:, 1], c=values.astype(float), cmap=cmap, s=point_size, alpha=alpha,
                              linewidths=0, rasterized=True)  # fmt: skip
        return None, mappable
    categories = list(order) if order is not None else list(pd.unique(np.sort(values)))
    colours = _palette(categories, palette)
    point_colours = [colours[value] for value in values]
    ax.scatter(Z[:, 0], Z[:, 1], c=point_colours, s=point_size, alpha=alpha, linewidths=0, rasterized=True)
    return colours, None


def _legend_handles(colours: dict) -> list[Line2D]:
    return [Line2D([], [], marker="o", linestyle="", markersize=5, color=colour, label=str(category))
            for category, colour in colours.items()]  # fmt: skip


def _style(ax: Axes, axis_label: str) -> None:
    ax.set(xlabel=f"{axis_label} 1", ylabel=f"{axis_label} 2", xticks=[], yticks=[])
    ax.set_aspect("equal", adjustable="datalim")


def scatter(
    Z: np.ndarray,
    values: Any,
    kind: Kind = "auto",
    title: str | None = None,
    label: str | None = None,
    order: Sequence | None = None,
    palette: Any | None = None,
    cmap: str = "magma",
    axis_label: str = "UMAP",
    point_size: float = POINT_SIZE,
    alpha: float = ALPHA,
    seed: int = 0,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Scatter of a 2-D embedding, coloured by one label per point.

    Parameters
    ----------
    Z : array (n, 2)
    values : array-like (n,)
        Categorical (language, speaker, gender) or continuous (number) values.
    kind : {"auto", "categorical", "continuous"}
        ``"auto"``: numbers with more than 40 distinct values are continuous, everything else categorical.
    label : str, optional
        Title of the legend or colour bar.
    order : sequence, optional
        Order of the categories in the legend (and of the palette); default sorted.
    palette : name, list or dict, optional
        Category colours; default: seaborn's colour-blind palette up to 10 categories, evenly
        spaced hues for more (the 32 speakers).
    cmap : str
        Colour map of continuous values (the paper: magma).
    axis_label : str
        Axis names are ``"<axis_label> 1"`` and ``"<axis_label> 2"``.
    point_size, alpha : float
        As in the paper (3 and 0.3).
    seed : int
        Random drawing order.

    Up to 8 categories the legend is inside the axes; more (e.g. the 32 speakers) go beside them, in
    two columns above 16. For many numeric categories use ``kind="continuous"`` (a colour bar).
    """
    Z = np.asarray(Z)
    values = np.asarray(values)
    if Z.ndim != 2 or Z.shape[1] != 2 or len(Z) != len(values):
        raise ValueError(f"Z must be (n, 2) and values (n,); got {Z.shape} and {values.shape}")
    kind = _kind(values, kind)
    n_categories = len(order) if order is not None else len(np.unique(values)) if kind == "categorical" else 0
    wide = kind == "categorical" and n_categories > LEGEND_INSIDE
    fig, ax = plt.subplots(figsize=figsize or ((8.5, 6) if wide else (6.5, 6)))
    colours, mappable = _draw(ax, Z, values, kind, order, palette, cmap, np.random.default_rng(seed), point_size, alpha)
    _style(ax, axis_label)
    if colours is not None:
        handles = _legend_handles(colours)
        if n_categories <= LEGEND_INSIDE:
            ax.legend(handles=handles, title=label, frameon=False, loc="best")
        else:
            ncol = 1 if n_categories <= 16 else 2
            ax.legend(handles=handles, title=label, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      ncol=ncol, fontsize="small", handletextpad=0.2, columnspacing=0.8)  # fmt: skip
    else:
        fig.colorbar(mappable, ax=ax, label=label, shrink=0.8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def sweep_grid(
    result: SweepResult,
    values: Any,
    label: str | None = None,
    kind: Kind = "auto",
    order: Sequence | None = None,
    palette: Any | None = None,
    cmap: str = "magma",
    score: str | None = "knn_accuracy",
    point_size: float = 1.5,
    alpha: float = ALPHA,
    seed: int = 0,
    panel_size: float = 2.6,
) -> Figure:
    """Small multiples of a :func:`~spoken100.embeddings.structure.sweep`: rows are the first grid parameter
    (e.g. ``n_neighbors``), columns the second (``min_dist``), every panel coloured by ``values``.

    ``label`` names the labelling in the legend; when it is also one of the sweep's labels, each
    panel's title carries that label's ``score`` (a column of ``result.scores``). A one-parameter
    grid gives a single row.
    """
    names = list(result.grid)
    if not 1 <= len(names) <= 2:
        raise ValueError(f"sweep_grid draws grids of one or two parameters, not {len(names)}")
    row_values = result.grid[names[0]] if len(names) == 2 else [None]
    col_values = result.grid[names[-1]]
    values = np.asarray(values)
    kind = _kind(values, kind)
    fig, axes = plt.subplots(len(row_values), len(col_values), squeeze=False,
                             figsize=(panel_size * len(col_values) + 1.8, panel_size * len(row_values)))  # fmt: skip
    scores = result.scores
    colours = mappable = None
    for i, row_value in enumerate(row_values):
        for j, col_value in enumerate(col_values):
            point = (row_value, col_value) if len(names) == 2 else (col_value,)
            ax = axes[i, j]
            colours, mappable = _draw(ax, result.embeddings[point], values, kind, order, palette, cmap,
                                      np.random.default_rng(seed), point_size, alpha)  # fmt: skip
            ax.set(xticks=[], yticks=[])
            ax.set_aspect("equal", adjustable="datalim")
            title = ", ".join(f"{name}={value}" for name, value in zip(names, point, strict=True))
            if score and label is not None and "label" in scores:
                match = scores[(scores.label == label)]
                for name, value in zip(names, point, strict=True):
                    match = match[match[name] == value]
                if len(match) and score in match:
                    title += f"\n{score.replace('_', ' ')} {match[score].iloc[0]:.2f}"
            ax.set_title(title, fontsize="small")
    if colours is not None:
        fig.legend(handles=_legend_handles(colours), title=label, frameon=False, loc="center right",
                   fontsize="small", ncol=1 if len(colours) <= 16 else 2)  # fmt: skip
        fig.tight_layout(rect=(0, 0, 1 - (0.12 if len(colours) <= 16 else 0.2), 1))
    else:
        fig.tight_layout(rect=(0, 0, 0.9, 1))
        fig.colorbar(mappable, ax=axes.ravel().tolist(), label=label, shrink=0.6)
    return fig
