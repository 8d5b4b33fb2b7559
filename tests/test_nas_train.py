"""Training one EvoNAS candidate: determinism, the cache, test scoring, and the data helpers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from spoken100.data.audio import peak_normalize
from spoken100.nas.genome import Block, DenseLayer, Genome, Head, Preprocessing
from spoken100.nas.train import LAB_SCHEDULE, TrainingError, balanced_subset, learning_rate, rows_of

from .conftest import harmonic_speakers

#: A small, quick genome: 21 frames x 32 mels, one strided conv with batch norm, no dense layers.
TINY = Genome(
    preprocessing=Preprocessing(n_fft=128, hop_length=384, n_mels=32),
    blocks=(Block("conv", 4, 3, 2, batch_norm=True, relu=True),),
    head=Head("avg", 0.0, ()),
    n_classes=4,
)
SPEAKERS = ("s0", "s1", "s2", "s3", "s4", "s5")


def synthetic(n_per: int = 6, n_classes: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return harmonic_speakers(n_per, n_classes, seed)


def test_helpers():
    x = np.array([[0.0, 0.5, -0.25], [0.0, 0.0, 0.0]], np.float32)
    np.testing.assert_allclose(peak_normalize(x), [[0.0, 1.0, -0.5], [0.0, 0.0, 0.0]])
    assert [learning_rate(e) for e in (0, 3, 4, 6, 7, 50)] == [0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001]
    assert LAB_SCHEDULE[0] == (4, 0.01)
    y = np.repeat(np.arange(4), 10)
    rows = balanced_subset(np.arange(40), y, 8, seed=0)
    assert len(rows) == 8 and np.all(np.diff(rows) > 0) and np.bincount(y[rows]).tolist() == [2, 2, 2, 2]
    np.testing.assert_array_equal(rows, balanced_subset(np.arange(40), y, 8, seed=0))
    assert len(balanced_subset(np.arange(40), y, None, seed=0)) == 40
    assert rows_of(np.array(["a", "b", "a"]), ["a"]).tolist() == [0, 2]


def test_the_training_key_changes_with_the_tensorflow_release(monkeypatch):
    from spoken100.nas import train

    args = (TINY, "data", ["s1", "s2"], ["s3"], {"epochs": 1})
    key = train.train_key(*args)
    assert train.train_key(*args) == key and train.train_key(TINY, "data", ["s2", "s1"], ["s3"], {"epochs": 1}) == key
    real = train.package_versions
    monkeypatch.setattr(train, "package_versions", lambda names: {**real(names), "keras": "0.0"})
    assert train.train_key(*args) != key  # weights cached under another release are not reused


def test_refuses_bad_splits():
    pytest.importorskip("tensorflow")
    from spoken100.nas.train import train_genome

    X, y, who = synthetic(n_per=1)
    with pytest.raises(TrainingError, match="disjoint"):
        train_genome(TINY, X, y, who, ["s0", "s1"], ["s1"], epochs=1)
    with pytest.raises(TrainingError, match="no clips"):
        train_genome(TINY, X, y, who, ["s0"], ["nobody"], epochs=1)
    with pytest.raises(TrainingError, match="classes"):
        train_genome(TINY, X, y * 10, who, ["s0"], ["s1"], epochs=1)


def test_training_is_deterministic_cached_and_scores_test_speakers():
    pytest.importorskip("tensorflow")
    from spoken100.nas.train import train_genome

    X, y, who = synthetic()
    fit, val, test = ["s0", "s1", "s2"], ["s3", "s4"], ["s5"]
    kwargs = dict(epochs=2, max_train_clips=48, seed=3)
    a = train_genome(TINY, X, y, who, fit, val, **kwargs, cache=False)
    b = train_genome(TINY, X, y, who, fit, val, **kwargs, cache=False)
    assert not a.cached and a.n_fit == 48 and a.n_val == 48 and a.test_accuracy is None
    assert a.val_accuracy == b.val_accuracy and a.history == b.history
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not any((a.folder).glob("*")), "cache=False must not write"

    first = train_genome(TINY, X, y, who, fit, val, test, **kwargs)
    assert not first.cached and first.val_accuracy == a.val_accuracy and 0 <= first.test_accuracy <= 1
    assert (first.folder / "weights.npz").is_file() and (first.folder / "result.json").is_file()
    again = train_genome(TINY, X, y, who, fit, val, test, **kwargs)
    assert again.cached and again.key == first.key and again.test_accuracy == first.test_accuracy
    for wa, wb in zip(first.model.get_weights(), again.model.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    # the loaded model reproduces the validation accuracy it was cached with
    rows = rows_of(who, val)
    p = np.asarray(again.model(peak_normalize(X[rows]), training=False))
    assert float(np.mean(p.argmax(1) == y[rows])) == pytest.approx(first.val_accuracy)
    # another setting is another cache entry
    other = train_genome(TINY, X, y, who, fit, val, epochs=1, max_train_clips=48, seed=3, keep_model=False)
    assert other.key != first.key and other.model is None


def test_a_cached_training_builds_a_model_only_when_one_is_needed(monkeypatch):
    pytest.importorskip("tensorflow")
    from spoken100.nas import train

    X, y, who = synthetic()
    fit, val, test = ["s0", "s1", "s2"], ["s3"], ["s5"]
    kwargs = dict(epochs=1, max_train_clips=48, seed=3)
    first = train.train_genome(TINY, X, y, who, fit, val, test, **kwargs)
    built = []
    real = train.fresh_model
    monkeypatch.setattr(train, "fresh_model", lambda *a, **k: built.append(a) or real(*a, **k))
    # weights and test score cached: a record without a model needs no model
    light = train.train_genome(TINY, X, y, who, fit, val, test, **kwargs, keep_model=False)
    assert light.cached and light.model is None and light.test_accuracy == first.test_accuracy and not built
    # other test speakers must be scored, with the stored weights
    scored = train.train_genome(TINY, X, y, who, fit, val, ["s4"], **kwargs, keep_model=False)
    assert scored.cached and scored.model is None and len(built) == 1 and 0 <= scored.test_accuracy <= 1
    kept = train.train_genome(TINY, X, y, who, fit, val, test, **kwargs)  # keep_model: a model, loaded once
    assert kept.cached and len(built) == 2
    # cached_only reads what is finished and never trains or scores
    assert train.train_genome(TINY, X, y, who, fit, val, test, **kwargs, keep_model=False, cached_only=True).cached
    assert train.train_genome(
        TINY, X, y, who, fit, val, ["s4"], **kwargs, keep_model=False, cached_only=True
    ).cached  # scored above
    assert train.train_genome(TINY, X, y, who, fit, ["s3", "s4"], **kwargs, keep_model=False, cached_only=True) is None
    assert (
        train.train_genome(TINY, X, y, who, fit, val, ["s4", "s5"], **kwargs, keep_model=False, cached_only=True)
        is None
    )
    assert len(built) == 2
    for wa, wb in zip(first.model.get_weights(), kept.model.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_steps_per_execution_changes_the_speed_not_the_weights():
    """Several optimiser steps per graph call (the default) train the same weights as one step per call.

    50 fitted clips in batches of 8 are 7 steps per epoch, so 4 steps per call leave a partial call
    at the end of every epoch: no batch may be dropped or repeated.
    """
    pytest.importorskip("tensorflow")
    from spoken100.nas.train import STEPS_PER_EXECUTION, train_genome

    assert STEPS_PER_EXECUTION > 1
    X, y, who = synthetic(n_per=10)
    settings = dict(epochs=2, batch_size=8, max_train_clips=50, seed=1, cache=False)
    # with dropout before and after a dense layer: their random masks must follow the steps, not the calls
    dropout = replace(TINY, head=Head("avg", 0.3, (DenseLayer(8, 0.3),)))
    for genome in (TINY, dropout):
        runs = [train_genome(genome, X, y, who, ["s0", "s1", "s2"], ["s3", "s4"], **settings, steps_per_execution=steps)
                for steps in (1, 4, STEPS_PER_EXECUTION)]  # fmt: skip
        assert runs[0].n_fit == 50
        for other in runs[1:]:
            assert other.history == runs[0].history and other.val_accuracy == runs[0].val_accuracy
            assert [h["steps"] for h in other.history] == [7, 2 * 7]  # every batch of both epochs, once
            for wa, wb in zip(runs[0].model.get_weights(), other.model.get_weights(), strict=True):
                np.testing.assert_array_equal(wa, wb)
    with pytest.raises(TrainingError, match="steps_per_execution"):
        train_genome(TINY, X, y, who, ["s0"], ["s1"], epochs=1, steps_per_execution=0)


def test_a_genome_that_crashes_tensorflows_cpu_kernel_is_refused_before_training():
    from spoken100.nas.build import cpu_kernel_hazard
    from spoken100.nas.train import train_genome

    crash = Block("dwconv", None, 1, 2)  # 1x1 depthwise, stride 2
    first = replace(TINY, blocks=(crash, *TINY.blocks))  # on the one-channel front-end image
    after_conv = replace(TINY, blocks=(*TINY.blocks, crash))  # on TINY's 4 channels: trains
    assert "block 0" in cpu_kernel_hazard(first) and cpu_kernel_hazard(after_conv) is None
    assert cpu_kernel_hazard(replace(TINY, blocks=(Block("dwconv", None, 1, 3), *TINY.blocks))) is None
    X, y, who = synthetic()
    with pytest.raises(TrainingError, match="oneDNN"):
        train_genome(first, X, y, who, ["s0", "s1"], ["s2"], epochs=1, cache=False)


def test_batch_norm_recalibration_uses_the_batch_statistics():
    pytest.importorskip("tensorflow")
    from spoken100.nas.train import fresh_model, recalibrate_batch_norm

    X, _, _ = synthetic(n_per=1)
    model = fresh_model(TINY, seed=0)
    bn = model.get_layer("block0_bn")
    before = [np.array(w) for w in bn.get_weights()]
    assert recalibrate_batch_norm(model, peak_normalize(X[:16]))
    mean, var = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    assert not np.allclose(mean, before[2]) and not np.allclose(var, before[3])
    assert bn.momentum == pytest.approx(0.99)
    np.testing.assert_array_equal(bn.get_weights()[0], before[0])  # gamma untouched


_TRAIN_IN_A_FRESH_PROCESS = """
import sys
from tests.test_nas_train import TINY, synthetic
from spoken100.nas.train import train_genome

X, y, who = synthetic()
result = train_genome(TINY, X, y, who, ["s0", "s1", "s2"], ["s3", "s4"], epochs=2, max_train_clips=48, seed=3,
                      keep_model=False)
print(result.folder)
"""


def test_a_candidate_trained_in_two_fresh_processes_gets_the_same_weights_bit_for_bit(tmp_path):
    """Determinism across processes (issue 12, item 7): different hash seeds and data homes, same artefact."""
    pytest.importorskip("tensorflow")
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    folders = []
    for run, hash_seed in enumerate(("1", "2")):
        env = {**os.environ, "SPOKEN100_HOME": str(tmp_path / f"home{run}"), "PYTHONHASHSEED": hash_seed,
               "PYTHONPATH": os.pathsep.join([str(root), str(root / "src")])}  # fmt: skip
        done = subprocess.run([sys.executable, "-c", _TRAIN_IN_A_FRESH_PROCESS], cwd=root, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        folders.append(Path(done.stdout.strip().splitlines()[-1]))
    assert folders[0].name == folders[1].name  # the same cache key in both homes
    with np.load(folders[0] / "weights.npz") as a, np.load(folders[1] / "weights.npz") as b:
        assert a.files == b.files and len(a.files) > 2
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])
    results = [json.loads((f / "result.json").read_text()) for f in folders]
    for r in results:
        r.pop("seconds")
    assert results[0] == results[1]
