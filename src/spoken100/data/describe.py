"""What every chapter says about the corpus it was built from: which corpus, and its clip durations.

Shared by all chapters (the book always states its corpus), so it sits in the data layer.
"""

from __future__ import annotations

import pandas as pd


def duration_summary(index: pd.DataFrame) -> pd.DataFrame:
    """Duration statistics per language (seconds) and the total length."""
    table = index.groupby("language").duration_s.agg(
        clips="count", mean="mean", sd="std", min="min", median="median", max="max", total="sum"
    )
    table["total"] = table["total"] / 60
    return table.rename(columns={"total": "total (min)"}).round(3)


def corpus_statement(corpus) -> str:
    """A Markdown admonition saying which corpus this page was built from."""
    text = (
        "Results on this page describe the stand-in, not the paper's recordings."
        if corpus.kind == "standin"
        else "Results on this page describe the published SpokeN-100 clips."
    )
    subset = f" - a subset of {len(corpus.speakers)} speakers" if corpus.subset else ""
    return (
        f"> **Corpus: {corpus.label}.** {len(corpus.index):,} clips{subset}, read from `{corpus.root.name}` "
        f"(checksum `{corpus.digest[:16]}`). {text}"
    )
