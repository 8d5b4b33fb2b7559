"""The paper's published figures: the package's one table of them, each with its public source.

Every published number the book shows (the summary pages, chapter 4's and 5's comparisons, the
reports) is read from ``paper_facts.csv`` beside this module through :func:`figure` or :func:`table`;
none is typed anywhere else. Each row names a source a reader can open: the paper (arXiv
2403.09753), a file of the paper's companion repository (ankilab/SpokeN-100), or a cited
secondary summary where the paper's own tables could not be reached. Reading it needs neither
torch nor TensorFlow.

Columns: ``key``; ``value`` (a number, empty for figures read off a plot); ``sd`` (the published
spread, if any); ``unit`` (``accuracy`` values are fractions); ``text`` (the figure as printed,
where a number alone does not say it); ``quantity``; ``source``; ``url``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from importlib import resources

import pandas as pd

TABLE_FILE = "paper_facts.csv"


@dataclass(frozen=True)
class PaperFigure:
    """One published figure (see the module docstring for the fields)."""

    key: str
    value: float | None
    sd: float | None
    unit: str
    text: str
    quantity: str
    source: str
    url: str

    def display(self) -> str:
        """The figure as the book prints it: ``"84.77 ± 3.70 %"``, ``"368 ms"`` or its printed text."""
        if self.text:
            return self.text
        if self.value is None:
            return "not published"
        if self.unit == "accuracy":
            spread = f" ± {100 * self.sd:.2f}" if self.sd is not None else ""
            digits = 2 if self.sd is not None else 1
            return f"{100 * self.value:.{digits}f}{spread} %"
        return f"{self.value:g} {self.unit}"

    @property
    def percent(self) -> float | None:
        """An accuracy in per cent (``None`` for other units)."""
        return None if self.value is None or self.unit != "accuracy" else 100 * self.value

    def cite(self) -> str:
        """The source as a Markdown link."""
        return f"[{self.source}]({self.url})" if self.url else self.source


def _number(cell) -> float | None:
    return None if cell is None or (isinstance(cell, float) and math.isnan(cell)) else float(cell)


@functools.cache
def _figures() -> dict[str, PaperFigure]:
    with resources.files("spoken100.data").joinpath(TABLE_FILE).open(encoding="utf-8") as fh:
        rows = pd.read_csv(fh, dtype={"key": str, "unit": str, "text": str, "quantity": str}, keep_default_na=True)
    figures = {}
    for row in rows.to_dict("records"):
        text = row["text"] if isinstance(row["text"], str) else ""
        figures[row["key"]] = PaperFigure(
            row["key"], _number(row["value"]), _number(row["sd"]), str(row["unit"]), text,
            str(row["quantity"]), str(row["source"]), row["url"] if isinstance(row["url"], str) else "",
        )  # fmt: skip
    return figures


def figure(key: str) -> PaperFigure:
    """The published figure ``key``; a ``KeyError`` names the known keys when it does not exist."""
    figures = _figures()
    if key not in figures:
        raise KeyError(f"no published figure {key!r}; known: {', '.join(figures)}")
    return figures[key]


def table() -> pd.DataFrame:
    """Every published figure as a table (one row each), in the file's order."""
    return pd.DataFrame([vars(f) for f in _figures().values()])


def cited(keys: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The published figures ``keys`` as a reader's table: quantity, figure as printed, source (a link)."""
    rows = [figure(k) for k in keys]
    return pd.DataFrame(
        {
            "quantity": [f.quantity for f in rows],
            "paper": [f.display() for f in rows],
            "source": [f.cite() for f in rows],
        }
    )
