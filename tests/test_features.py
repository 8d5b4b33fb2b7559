"""Corpus-level features: alignment with the index, the stratified subsample, caching."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spoken100.acoustics import features
from spoken100.acoustics.features import (
    KEEP,
    mfcc_inputs,
    pyin_features,
    stratified_subsample,
    umap_inputs,
    voice_features,
)
from spoken100.acoustics.voice import VOICE_COLUMNS
from spoken100.data import clipmap
from spoken100.data.corpus import open_corpus


@pytest.fixture
def corpus(tiny_layout):
    return open_corpus(str(tiny_layout), progress=False)


@pytest.fixture
def index():
    """An index of 2 speakers x 4 languages x 100 numbers, without audio (subsampling needs none)."""
    rows = [
        {"path": f"{lang}_numbers/{spk}/{n}.wav", "language": lang, "speaker": spk, "number": n}
        for lang in ("english", "german", "french", "mandarin")
        for spk in ("Arnold", "Bella")
        for n in range(100)
    ]
    return pd.DataFrame(rows)


def explode(*args, **kwargs):
    raise AssertionError("the clip function ran although every chunk is cached")


def test_stratified_subsample_is_deterministic_and_paired(index):
    sub = stratified_subsample(index, per_cell=3, seed=7)
    assert len(sub) == 8 * 3
    assert sub.groupby(["speaker", "language"]).size().eq(3).all()
    assert sub.groupby(["speaker", "language"])["number"].apply(frozenset).nunique() == 1  # same numbers
    pd.testing.assert_frame_equal(sub, stratified_subsample(index, per_cell=3, seed=7))
    assert list(sub.index) == sorted(sub.index)  # original order and labels
    assert set(stratified_subsample(index, 3, seed=8).number) != set(sub.number)

    own = stratified_subsample(index, per_cell=3, seed=7, same_numbers=False)
    assert own.groupby(["speaker", "language"]).size().eq(3).all()
    assert own.number.nunique() > 3


def test_stratified_subsample_fills_in_for_missing_clips(index):
    first = stratified_subsample(index, 2, seed=1)
    gone = first.index[0]
    sub = stratified_subsample(index.drop(gone), 2, seed=1)
    assert len(sub) == 16 and gone not in sub.index
    with pytest.raises(ValueError):
        stratified_subsample(index, 0)


def test_voice_features_align_with_the_index_and_are_cached(corpus, monkeypatch):
    sub = stratified_subsample(corpus.index, per_cell=1, seed=0)
    table = voice_features(corpus, subset=sub, n_jobs=1, progress=False)
    assert list(table.index) == list(sub.index)
    assert list(table.columns) == [*KEEP, *VOICE_COLUMNS, "max_formant_hz"]
    pd.testing.assert_frame_equal(table[list(KEEP)], sub[list(KEEP)])
    # the tiny corpus's clips are 0.5 s tones at 200 + number Hz
    np.testing.assert_allclose(table.f0_mean_hz, 200 + table.number, rtol=0.02)
    assert (table.reason == "").all()
    ceilings = dict(zip(table.gender, table.max_formant_hz, strict=False))
    assert ceilings == {"female": 5500.0, "male": 5000.0}

    one = voice_features(corpus, subset=sub.iloc[:3], max_formant=5200.0, n_jobs=1, progress=False)
    assert (one.max_formant_hz == 5200.0).all() and len(one) == 3
    empty = voice_features(corpus, subset=sub.iloc[:0], n_jobs=1, progress=False)
    assert len(empty) == 0 and list(empty.columns) == list(table.columns)

    monkeypatch.setattr(clipmap, "_run_chunk", explode)
    again = voice_features(corpus, subset=sub, n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(again, table)


def test_pyin_features_on_the_default_subsample(corpus, monkeypatch):
    table = pyin_features(corpus, per_cell=1, n_jobs=1, progress=False)
    expected = stratified_subsample(corpus.index, per_cell=1, seed=features.PYIN_SEED)
    assert list(table.index) == list(expected.index)
    assert {"f0_hz", "f0_all_voiced_hz", "n_voiced", "n_kept", "reason"} <= set(table.columns)
    np.testing.assert_allclose(table.f0_hz, 200 + table.number, rtol=0.02)

    monkeypatch.setattr(clipmap, "_run_chunk", explode)
    pd.testing.assert_frame_equal(pyin_features(corpus, per_cell=1, n_jobs=1, progress=False), table)


def test_spectral_inputs_are_aligned_arrays_and_cached(corpus, monkeypatch):
    sub = corpus.index.iloc[::50]
    umap = umap_inputs(corpus, subset=sub, n_jobs=1, progress=False)
    mfcc = mfcc_inputs(corpus, subset=sub, n_jobs=1, progress=False)
    assert umap.shape == (len(sub), 2048) and mfcc.shape == (len(sub), 80)
    assert np.isfinite(umap).all() and np.isfinite(mfcc).all()

    monkeypatch.setattr(clipmap, "_run_chunk", explode)
    np.testing.assert_array_equal(umap_inputs(corpus, subset=sub, n_jobs=1, progress=False), umap)
    np.testing.assert_array_equal(mfcc_inputs(corpus, subset=sub, n_jobs=1, progress=False), mfcc)
