"""Cached front-end features: equal to the in-graph front end, reused across trainings, bounded memo."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from spoken100.data.audio import peak_normalize
from spoken100.nas.features import EQUALITY_RTOL, FeatureMemo, memo_key

from .test_nas_train import TINY, synthetic

FIT, VAL = ["s0", "s1", "s2"], ["s3", "s4"]


@pytest.mark.parametrize(
    "pre",
    [TINY.preprocessing, replace(TINY.preprocessing, spectrum="power", compression="log", n_fft=200, hop_length=96)],
    ids=["magnitude", "power-log"],
)
def test_cached_features_equal_the_in_graph_front_end(pre):
    """The features the body trains on are the full model's front-end output, to float32 rounding."""
    pytest.importorskip("tensorflow")
    from spoken100.nas.features import frontend_features, split_frontend
    from spoken100.nas.train import fresh_model

    genome = replace(TINY, preprocessing=pre)
    model = fresh_model(genome, 0)
    frontend, body = split_frontend(model)
    x = peak_normalize(synthetic(n_per=6)[0][:70])
    cached = frontend_features(frontend, x, batch=64)  # two passes, the second partial
    in_graph = np.concatenate([np.asarray(frontend(x[i : i + 32], training=False)) for i in range(0, len(x), 32)])
    assert cached.shape == (70, pre.n_frames, pre.n_mels, 1) and cached.dtype == np.float32
    assert np.max(np.abs(cached - in_graph)) <= EQUALITY_RTOL * np.max(np.abs(in_graph))
    # the body on those features gives the whole model's answers, and shares its weights
    np.testing.assert_allclose(np.asarray(body(cached)), np.asarray(model(x, training=False)), atol=1e-5)
    assert {id(w) for w in body.weights} <= {id(w) for w in model.weights}


def test_a_model_without_a_front_end_is_not_split():
    pytest.importorskip("tensorflow")
    import keras

    from spoken100.nas.features import split_frontend

    inputs = keras.Input((8,))
    assert split_frontend(keras.Model(inputs, keras.layers.Dense(2)(inputs))) is None


def test_training_on_cached_features_trains_the_whole_model_and_reuses_the_features(monkeypatch):
    pytest.importorskip("tensorflow")
    from spoken100.nas import features, train

    monkeypatch.setattr(features, "MEMO", FeatureMemo())
    computed = []
    real = features.frontend_features
    monkeypatch.setattr(features, "frontend_features", lambda fe, x, **k: computed.append(len(x)) or real(fe, x, **k))
    X, y, who = synthetic()
    kwargs = dict(epochs=2, max_train_clips=48, seed=3, cache=False)
    cached = train.train_genome(TINY, X, y, who, FIT, VAL, **kwargs)
    assert computed == [48, 48]  # the fit clips once for both epochs, the validation clips once
    # the stored model (front end + trained body) scores the validation speakers as the body did
    rows = train.rows_of(who, VAL)
    p = np.asarray(cached.model(peak_normalize(X[rows]), training=False))
    assert float(np.mean(p.argmax(1) == y[rows])) == pytest.approx(cached.val_accuracy)
    # another candidate with the same front end and clips reads them from the memo
    wider = replace(TINY, blocks=(replace(TINY.blocks[0], filters=6),))
    train.train_genome(wider, X, y, who, FIT, VAL, **kwargs)
    assert computed == [48, 48] and features.MEMO.hits == 2
    # another front end is computed anew
    train.train_genome(
        replace(TINY, preprocessing=replace(TINY.preprocessing, n_mels=36)), X, y, who, FIT, VAL, **kwargs
    )
    assert computed == [48, 48, 48, 48]

    # the in-graph path trains the same network: the same accuracy, weights equal to float32 rounding
    in_graph = train.train_genome(TINY, X, y, who, FIT, VAL, **kwargs, cached_features=False)
    assert in_graph.key != cached.key and len(computed) == 4
    assert [h["steps"] for h in in_graph.history] == [h["steps"] for h in cached.history]
    for a, b in zip(in_graph.model.get_weights(), cached.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_the_memo_evicts_the_least_recently_used_and_keeps_arrays_read_only():
    memo = FeatureMemo(max_bytes=3 * 800)  # three arrays of 100 float64
    calls = []

    def make(value):
        return lambda: calls.append(value) or np.full(100, float(value))

    for k in ("a", "b", "c"):
        memo.get(k, make(k == "a"))
    memo.get("a", make(9))  # a hit: "a" becomes the most recent
    memo.get("d", make(4))  # evicts "b", the least recently used
    assert len(memo) == 3 and memo.nbytes == 2400 and memo.hits == 1 and memo.misses == 4
    memo.get("b", make(5))
    assert calls[-1] == 5 and memo.get("a", make(6))[0] == 1.0  # "a" survived; "c" was evicted for "b"
    with pytest.raises(ValueError):
        memo.get("a", make(7))[0] = 2.0
    big = memo.get("huge", lambda: np.zeros(1000))  # larger than the bound: returned, not stored
    assert big.shape == (1000,) and "huge" not in memo._items and len(memo) == 3


def test_the_memo_key_separates_front_ends_data_normalisation_and_clips():
    pre = TINY.preprocessing
    rows = np.arange(5)
    base = memo_key(pre, "data", True, rows)
    assert base == memo_key(pre, "data", True, rows.copy())
    others = [memo_key(replace(pre, n_mels=36), "data", True, rows), memo_key(pre, "other", True, rows),
              memo_key(pre, "data", False, rows), memo_key(pre, "data", True, rows[:4])]  # fmt: skip
    assert len({base, *others}) == 5
