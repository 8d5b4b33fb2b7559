"""Tables of the generation-audit chapter."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spoken100.data.texts import written_text


def number_texts(index: pd.DataFrame) -> pd.DataFrame:
    """The text behind each number in each language, as recorded in the corpus index.

    For Mandarin the characters are shown beside the pinyin that the stand-in's synthesiser read.
    """
    table = index.drop_duplicates(["language", "number"]).pivot(index="number", columns="language", values="text")
    if "mandarin" in table:
        table.insert(table.columns.get_loc("mandarin"), "mandarin (characters)",
                     [written_text(n, "mandarin") for n in table.index])  # fmt: skip
    table.columns.name = None
    return table


def audio_examples(index: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` clips per language picked with a fixed seed, for the embedded players."""
    rng = np.random.default_rng(seed)
    picks = [part.iloc[rng.choice(len(part), size=min(n, len(part)), replace=False)]
             for _, part in index.groupby("language")]  # fmt: skip
    return pd.concat(picks)[["path", "language", "speaker", "gender", "number", "text"]].reset_index(drop=True)


def generation_settings(manifest: dict) -> pd.DataFrame:
    """The stand-in's global generation settings as a two-column table."""
    trim = manifest["trim"]
    rows = {
        "espeak-ng version": manifest["espeak_ng_version"],
        "voices per language": ", ".join(f"{k}: {v}" for k, v in manifest["language_voices"].items()),
        "output": f"{manifest['format']}, {manifest['sample_rate']:,} Hz",
        "resampling": manifest["resampler"],
        "silence trimming": f"{trim['method']}: window {trim['window_s'] * 1000:.0f} ms, threshold "
        f"{trim['threshold_ratio']:.0%} of the clip's largest rolling SD, {trim['pad_s'] * 1000:.0f} ms kept each side",
        "generation key": manifest["key"],
    }
    return pd.DataFrame({"setting": list(rows), "value": list(rows.values())})


def format_counts(index: pd.DataFrame) -> pd.DataFrame:
    """How many clips have each (sample rate, channels, sample format) combination."""
    counts = index.groupby(["sample_rate", "channels", "subtype"]).size().rename("clips").reset_index()
    return counts.rename(columns={"sample_rate": "sample rate (Hz)", "subtype": "sample format"})
