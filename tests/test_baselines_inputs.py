"""The baselines' preprocessing: 8,000 samples, 128 x 32 log-mel, cached corpus arrays and labels."""

from __future__ import annotations

import numpy as np
import pytest

from spoken100.data import inputs
from spoken100.data.audio import resample_to_length
from spoken100.data.corpus import open_corpus
from spoken100.data.inputs import INPUT_SHAPES, corpus_inputs, log_mel, targets


@pytest.mark.parametrize("length", [22_050, 8000, 70_000])
def test_every_clip_becomes_8000_samples(length):
    x = np.sin(np.arange(length) / 10.0).astype(np.float32)
    y = resample_to_length(x)
    assert y.shape == (8000,) and y.dtype == np.float32
    # The same waveform, stretched to 8,000 samples: as many cycles (length / 20 pi), the same RMS, and
    # sample i is the original at i * length / 8000 (away from the edges, where the FFT method rings).
    assert np.argmax(np.abs(np.fft.rfft(y))) == round(length / (20 * np.pi))
    assert np.sqrt(np.mean(y**2)) == pytest.approx(np.sqrt(np.mean(x**2)), rel=1e-3)
    stretched = np.sin(np.arange(8000) * (length / 8000) / 10.0)
    np.testing.assert_allclose(y[200:-200], stretched[200:-200], atol=1e-3)
    if length == 8000:
        np.testing.assert_allclose(y, x, atol=1e-5)  # already 8,000 samples: unchanged


def test_log_mel_shape_and_range():
    rng = np.random.default_rng(0)
    mel = log_mel(rng.standard_normal(8000).astype(np.float32))
    assert mel.shape == INPUT_SHAPES["logmel"] == (128, 32)
    assert mel.max() == 0.0 and mel.min() >= -80.0


def test_corpus_inputs_are_cached_in_index_order(tiny_layout, monkeypatch):
    corpus = open_corpus(tiny_layout, progress=False)
    rows = corpus.index.iloc[[5, 150, 420, 799]].reset_index(drop=True)
    mel = corpus_inputs(corpus.root, rows, "logmel", n_jobs=1, progress=False)
    wave = corpus_inputs(corpus.root, rows, "waveform", n_jobs=1, progress=False)
    assert mel.shape == (4, 128, 32) and wave.shape == (4, 8000) and mel.dtype == np.float32
    np.testing.assert_allclose(mel[2], inputs.clip_input(corpus.root / rows.path[2])["input"])
    np.testing.assert_allclose(mel[1], log_mel(wave[1]))

    def fail(*args, **kwargs):
        raise AssertionError("recomputed despite the cache")

    monkeypatch.setattr(inputs, "map_clips", fail)
    again = corpus_inputs(corpus.root, rows, "logmel", mmap=True)
    np.testing.assert_array_equal(again, mel)
    with pytest.raises(AssertionError, match="recomputed"):
        corpus_inputs(corpus.root, rows.iloc[::-1], "logmel")  # another order is another array


def test_targets_follow_the_papers_label_order(tiny_layout):
    index = open_corpus(tiny_layout, progress=False).index
    languages = targets(index, "language")
    assert languages.dtype == np.int64 and languages.flags.writeable  # torch.from_numpy needs writable
    for name, label in {"english": 0, "mandarin": 1, "german": 2, "french": 3}.items():
        assert set(languages[index.language == name]) == {label}
    assert (targets(index, "number") == index.number).all()
    with pytest.raises(ValueError, match="task"):
        targets(index, "speaker")
