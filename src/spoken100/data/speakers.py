"""Speaker tables: the real release's 32 voices and the stand-in's 32 invented speakers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd


@cache
def real_speakers() -> pd.DataFrame:
    """The real SpokeN-100 voices with gender and accent (sources in ``data/README.md``)."""
    with resources.files("spoken100.data").joinpath("real_speakers.csv").open() as fh:
        return pd.read_csv(fh)


@cache
def standin_voices() -> pd.DataFrame:
    """The stand-in speakers and their espeak-ng settings (``data/standin_voices.csv``)."""
    with resources.files("spoken100.data").joinpath("standin_voices.csv").open() as fh:
        return pd.read_csv(fh)


@dataclass(frozen=True)
class Voice:
    """One stand-in speaker: an espeak-ng voice variant with its own prosody settings."""

    speaker: str
    gender: str
    variant: str
    pitch: int
    pitch_range: int
    speed: int
    amplitude: int
    word_gap: int


def voices(speakers: list[str] | None = None) -> list[Voice]:
    """Stand-in voices as objects, optionally restricted to ``speakers`` (table order kept)."""
    table = standin_voices()
    if speakers is not None:
        unknown = sorted(set(speakers) - set(table.speaker))
        if unknown:
            raise ValueError(f"unknown stand-in speaker(s): {', '.join(unknown)}")
        table = table[table.speaker.isin(speakers)]
    return [Voice(**row) for row in table.to_dict("records")]


def select_speakers(table: pd.DataFrame, n_speakers: int | None) -> list[str]:
    """A gender-balanced, deterministic subset of ``n_speakers`` from a speaker table.

    Takes speakers in table order, alternating genders, so that ``n_speakers=8`` gives four
    female and four male voices. ``None`` or the full size returns every speaker.
    """
    names = list(table.speaker)
    if n_speakers is None or n_speakers >= len(names):
        return names
    if n_speakers < 1:
        raise ValueError(f"n_speakers must be at least 1, got {n_speakers}")
    by_gender = [list(group.speaker) for _, group in table.groupby("gender", sort=True)]
    chosen: list[str] = []
    i = 0
    while len(chosen) < n_speakers:
        for group in by_gender:
            if i < len(group) and len(chosen) < n_speakers:
                chosen.append(group[i])
        i += 1
    return [name for name in names if name in chosen]
