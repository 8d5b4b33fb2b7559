"""Short, deterministic, cached training of one EvoNAS candidate on a speaker split.

EvoNAS trains every candidate before scoring it (paper-facts §5.1: Adam, batch 32, up to 100
epochs with the learning rate ``0.01`` until epoch 4, ``0.001`` until 7, then ``0.0001``). A search
on a CPU cannot afford that, so the candidates here get a *proxy*: the same optimiser and schedule
for a few epochs, optionally on a class-balanced subset of the training clips. The paper's
published architectures are trained with exactly the same proxy when they are compared with the
search (:func:`spoken100.nas.search.evaluate_published`).

Three choices keep the proxy honest and cheap:

* **Speakers.** The model is fitted on ``fit_speakers`` and scored on ``val_speakers``; test
  speakers, when given, are scored only after training and never influence anything.
* **Peak normalisation** (``normalize=True``). Every clip is divided by its largest absolute sample
  before it reaches the model, as the firmware would feed it: int8 input quantisation keeps only
  256 levels, and a quiet clip would use a handful of them (:mod:`spoken100.nas.tflite`).
  :func:`peak_normalize` is the one function for training, calibration and evaluation.
* **Batch-norm recalibration** (``recalibrate_clips``). With momentum 0.99, Keras' moving
  statistics need several hundred steps to forget their initial values; after one to three short
  epochs they are still far from the data, and a model that fits its training clips predicts one
  class at inference. After training, the statistics are therefore re-estimated in one forward pass
  over ``recalibrate_clips`` training clips (default 256; momentum 0, the batch statistics become
  the moving ones) -- the "BN calibration" used by one-shot NAS. On the smoke corpus this raised the published
  "accurate" architecture from 25 % (chance) to 83 % language accuracy after 3 epochs. It changes
  nothing without batch-norm layers, and the weights are untouched.

**Cached front-end features** (``cached_features=True``). The front end is fixed, so the body
of the model (every layer after it, sharing its weights) trains on the front end's output computed
once per clip, not once per clip and epoch (:mod:`spoken100.nas.features`); the stored weights are
the whole model's, front end included, ready for conversion.

Determinism: ``keras.utils.set_random_seed(seed)`` and ``tf.config.experimental.enable_op_determinism()``
before the model is built; the batch order of every epoch is a NumPy permutation seeded by
``(seed, epoch)``. The same genome, data and settings give the same weights and accuracies.

Cache: the weights (``weights.npz``, every array of ``model.get_weights()``) and ``result.json``
go, atomically, to ``cache_dir("nas", "train", "<genome_id>-<key>")``. The key hashes the genome,
a fingerprint of the data, the speakers and every setting (not the test speakers: test accuracy
is computed from the cached weights on request and stored beside them), so a rerun loads.

Examples
--------
>>> from spoken100.nas.genome import Genome
>>> result = train_genome(Genome(), X, y, speakers, fit, val, epochs=1)   # doctest: +SKIP
>>> result.val_accuracy, result.seconds                                  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spoken100.data import atomic
from spoken100.data.audio import peak_normalize
from spoken100.data.codehash import code_fingerprint, package_versions
from spoken100.data.paths import cache_dir
from spoken100.nas import build  # module attribute: tests replace build_model
from spoken100.nas import features as frontend_cache
from spoken100.nas.genome import Genome, validate
from spoken100.nas.tflite import capture_fd2

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: The lab's candidate schedule (paper-facts §5.1): ``(until_epoch, learning_rate)``, epochs 0-based
#: and ``until_epoch`` exclusive; after the last entry its rate is kept.
LAB_SCHEDULE: tuple[tuple[int, float], ...] = ((4, 0.01), (7, 0.001), (10, 0.0001))
#: Clips of one forward pass that re-estimates the batch-norm statistics after training.
RECALIBRATE_CLIPS = 256
#: Optimiser steps that one call of Keras' compiled train function runs (``steps_per_execution``).
#: The models are small, so per-step Python dispatch costs as much as the step itself; running 32
#: steps inside one graph call trains faster on one core (``benchmarks/bench_nas.py`` measures the
#: ratio against one step per call, per architecture) and gives bit-identical weights
#: (the same batches in the same order; checked by ``tests/test_nas_train.py``). Editing this
#: constant re-keys every cached training (it is part of :func:`train_genome`'s code); passing
#: another ``steps_per_execution`` does not.
STEPS_PER_EXECUTION = 32


class TrainingError(ValueError):
    """Training cannot start: no fitting or validation clips, overlapping speakers, bad settings."""


@dataclass
class TrainedCandidate:
    """One trained candidate.

    val_accuracy: accuracy on the validation speakers (float model). test_accuracy: on the test
        speakers when they were given, else ``None``.
    history: one dict per epoch (``epoch``, ``learning_rate``, ``loss``, ``accuracy`` on the fitted clips).
    seconds: training time (fit and recalibration, not evaluation); from the original run when loaded.
    model: the trained float Keras model (rebuilt and loaded from the cache on a rerun).
    key, folder: the cache key and folder. cached: ``True`` when this call loaded the result.
    """

    genome: Genome
    val_accuracy: float
    test_accuracy: float | None
    history: list[dict[str, float]]
    seconds: float
    n_fit: int
    n_val: int
    n_test: int
    key: str
    folder: Path
    cached: bool
    settings: dict[str, Any] = field(default_factory=dict)
    model: keras.Model | None = field(default=None, repr=False)

    @property
    def train_accuracy(self) -> float:
        """Accuracy on the fitted clips during the last epoch (dropout active)."""
        return float(self.history[-1]["accuracy"]) if self.history else float("nan")


# ---- data helpers ---------------------------------------------------------------------------------


def learning_rate(epoch: int, schedule: Sequence[tuple[int, float]] = LAB_SCHEDULE) -> float:
    """The rate of 0-based ``epoch`` under ``schedule`` (``(until_epoch, rate)`` pairs, ascending)."""
    for until, rate in schedule:
        if epoch < until:
            return float(rate)
    return float(schedule[-1][1])


def balanced_subset(rows: np.ndarray, y: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """At most ``n`` of ``rows``, spread evenly over the classes of ``y[rows]``, in ascending order.

    Each class's rows are shuffled (seeded), then classes are taken round-robin, so a subset of a
    100-class task holds about ``n / 100`` clips of every number. ``None`` keeps every row.
    """
    rows = np.asarray(rows)
    if n is None or n >= len(rows):
        return np.sort(rows)
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(rows[y[rows] == c]) for c in np.unique(y[rows])]
    order = [r[i] for i in range(max(len(r) for r in per_class)) for r in per_class if i < len(r)]
    return np.sort(np.asarray(order[:n], dtype=rows.dtype))


def rows_of(speakers: np.ndarray, chosen: Sequence[str]) -> np.ndarray:
    """Indices of the clips whose speaker is in ``chosen`` (ascending)."""
    return np.flatnonzero(np.isin(np.asarray(speakers), list(chosen)))


def fingerprint(*arrays: np.ndarray) -> str:
    """A short sha256 of the arrays' shapes, dtypes and bytes (the data part of a cache key)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(json.dumps([a.shape, a.dtype.str]).encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()[:16]


# ---- TensorFlow set-up ------------------------------------------------------------------------------
def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # deferred: Keras loads TensorFlow; only model building needs it

    return keras


def configure_tensorflow(threads: int | None = 1) -> None:
    """Deterministic ops and ``threads`` intra-op threads (1 inter-op thread); ``None`` keeps TF's default.

    Op determinism alone is not enough across machines: TensorFlow's CPU kernels split their
    reductions by thread, so 1 and 2 intra-op threads give weights that differ in the last bits
    (checked on this project's candidates). Training therefore uses one thread by default, which
    also suits parallel evaluation (one process per core) and was not slower for these small models.
    The thread count can only be set before TensorFlow's first op in a process; if it is too late,
    a warning says which count is in force.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    with capture_fd2():  # TensorFlow's C++ start-up notices (absl, oneDNN) would land in notebooks
        import keras  # noqa: F401
        import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # retracing notices of many small models are expected here
    tf.config.experimental.enable_op_determinism()
    for gpu in tf.config.list_physical_devices("GPU"):  # several worker processes share one GPU
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised
            pass
    if threads:
        threading = tf.config.threading
        try:
            threading.set_intra_op_parallelism_threads(int(threads))
            threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TensorFlow already initialised in this process
            current = threading.get_intra_op_parallelism_threads()
            if current != int(threads):
                warnings.warn(
                    f"TensorFlow already runs with {current or 'its default number of'} intra-op threads, not "
                    f"{threads}; trained weights may differ in the last bits from a {threads}-thread run",
                    RuntimeWarning,
                    stacklevel=2,
                )


def recalibrate_batch_norm(model: keras.Model, x: np.ndarray) -> bool:
    """Re-estimate every batch-norm layer's moving statistics from ``x`` in one forward pass.

    Sets each layer's momentum to 0, runs ``model(x, training=True)`` (no weight changes: there is
    no optimiser step) and restores the momentum. Returns ``False`` when the model has no batch norm.
    """
    keras = _keras()
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not layers or not len(x):
        return False
    saved = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0
        model(np.asarray(x, dtype=np.float32), training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum
    return True


def _accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray, batch: int = 256) -> float:
    if not len(x):
        return float("nan")
    # Direct calls instead of model.predict: no tf.function to trace for a model used once.
    x = np.asarray(x, dtype=np.float32)
    p = np.concatenate([np.asarray(model(x[i : i + batch], training=False)) for i in range(0, len(x), batch)])
    return float(np.mean(p.argmax(axis=1) == y))


def fresh_model(genome: Genome, seed: int) -> keras.Model:
    """``build_model(genome, seed)`` in a cleared Keras session with every global seed set to ``seed``."""

    keras = _keras()
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    return build.build_model(genome, seed=seed)


def _compile(model: keras.Model, steps_per_execution: int = STEPS_PER_EXECUTION) -> None:
    keras = _keras()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LAB_SCHEDULE[0][1]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=int(steps_per_execution),
    )


def load_weights(model: keras.Model, path: Path) -> None:
    """Load a ``weights.npz`` written by :func:`train_genome` into ``build_model(genome)``."""
    with np.load(path) as stored:
        model.set_weights([stored[f"w{i:03d}"] for i in range(len(stored.files))])


# ---- training -----------------------------------------------------------------------------------
def _trainable_part(model, genome: Genome, cached_features: bool, normalize: bool, data_key: str, prepare):
    """``(network to fit, rows -> its inputs)``: the body on memoised front-end features, or the whole model."""
    split = frontend_cache.split_frontend(model) if cached_features else None
    if split is None:
        return model, prepare
    frontend, body = split

    def inputs(rows: np.ndarray) -> np.ndarray:
        key = frontend_cache.memo_key(genome.preprocessing, data_key, normalize, rows)
        return frontend_cache.MEMO.get(key, lambda: frontend_cache.frontend_features(frontend, prepare(rows)))

    return body, inputs


#: The libraries whose release decides a training's weights (kernels, initialisers, optimiser), in every key.
TRAINING_LIBRARIES = ("tensorflow-cpu", "tensorflow", "keras")


def train_key(genome: Genome, data_key: str, fit: Sequence[str], val: Sequence[str], settings: dict[str, Any]) -> str:
    """The cache key of one training: genome, data fingerprint, speakers, settings and library versions.

    The versions count because another TensorFlow or Keras release may give other weights from the
    same seed: a cache filled under one release is not reused under another.
    """
    blob = json.dumps([code_fingerprint(train_genome), genome.to_json(), data_key, sorted(fit), sorted(val), settings,
                       package_versions(TRAINING_LIBRARIES)], sort_keys=True, default=str)  # fmt: skip
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def train_genome(
    genome: Genome,
    X: np.ndarray,
    y: np.ndarray,
    speakers: np.ndarray,
    fit_speakers: Sequence[str],
    val_speakers: Sequence[str],
    test_speakers: Sequence[str] | None = None,
    *,
    epochs: int,
    batch_size: int = 32,
    max_train_clips: int | None = None,
    max_val_clips: int | None = None,
    seed: int = 0,
    normalize: bool = True,
    recalibrate_clips: int = RECALIBRATE_CLIPS,
    schedule: Sequence[tuple[int, float]] = LAB_SCHEDULE,
    data_key: str | None = None,
    threads: int | None = 1,
    cache: bool = True,
    keep_model: bool = True,
    steps_per_execution: int = STEPS_PER_EXECUTION,
    cached_only: bool = False,
    cached_features: bool = True,
) -> TrainedCandidate | None:
    """Train ``genome`` on the fit speakers, score it on the validation (and test) speakers; cached.

    Parameters
    ----------
    genome : a structurally valid genome (its ``n_classes`` must cover ``y``).
    X, y, speakers : waveforms ``(n, n_samples)`` (an ``np.memmap`` is fine: only the needed rows
        are read), integer labels and the speaker of every clip, row-aligned.
    fit_speakers, val_speakers, test_speakers : disjoint speaker lists; the test speakers are
        optional and only scored.
    epochs, batch_size : the proxy's length; the lab used batch 32 and up to 100 epochs.
    max_train_clips, max_val_clips : class-balanced subsets of the fitting and validation clips
        (:func:`balanced_subset`); ``None`` uses them all. Test speakers are always scored in full.
    seed : seeds the initial weights, the subset, the batch order and dropout.
    normalize : peak-normalise every clip (:func:`peak_normalize`).
    recalibrate_clips : batch-norm recalibration after training (0 disables; see the module docstring).
    schedule : ``(until_epoch, learning_rate)`` pairs; default the lab's.
    data_key : a fingerprint of ``X`` and ``y`` if the caller has one (e.g. from the corpus
        checksum); by default the rows used are hashed (:func:`fingerprint`).
    threads : TensorFlow intra-op threads (:func:`configure_tensorflow`; 1 makes the weights independent
        of the machine's core count).
    cache : read and write the cache; ``False`` always trains and stores nothing.
    keep_model : return the Keras model (``False`` frees it, e.g. in a search worker).
    steps_per_execution : optimiser steps per call of the compiled train function
        (:data:`STEPS_PER_EXECUTION`); a speed setting only: the weights do not depend on it, so the
        value passed is not part of the cache key.
    cached_only : return ``None`` instead of training (or scoring the test speakers) when the result
        is not cached: a caller can read every finished result cheaply, in its own process, and send
        only the rest to worker processes.
    cached_features : train the model's body on its fixed front end's features, computed once
        (:mod:`spoken100.nas.features`), instead of recomputing the front end on every batch. The
        weights differ from the in-graph path only by float32 rounding, so the choice is part of the key.

    Returns
    -------
    TrainedCandidate
    """
    validate(genome, space=None)
    speakers = np.asarray(speakers).astype(str)
    y = np.asarray(y)
    fit_speakers, val_speakers = sorted(map(str, fit_speakers)), sorted(map(str, val_speakers))
    test_list = sorted(map(str, test_speakers)) if test_speakers else []
    if set(fit_speakers) & set(val_speakers) or set(test_list) & (set(fit_speakers) | set(val_speakers)):
        raise TrainingError("fit, validation and test speakers must be disjoint")
    if steps_per_execution < 1:
        raise TrainingError(f"steps_per_execution must be positive, got {steps_per_execution}")
    hazard = build.cpu_kernel_hazard(genome)
    if hazard:  # refused here, before TensorFlow kills the process
        raise TrainingError(hazard)
    if epochs < 1 or batch_size < 1 or any(n is not None and n < 1 for n in (max_train_clips, max_val_clips)):
        raise TrainingError(f"epochs, batch_size, max_train_clips and max_val_clips must be positive, got "
                            f"{epochs}, {batch_size}, {max_train_clips}, {max_val_clips}")  # fmt: skip
    if len(X) != len(y) or len(y) != len(speakers):
        raise TrainingError(f"X, y and speakers are not row-aligned: {len(X)}, {len(y)}, {len(speakers)}")
    if y.size and (y.min() < 0 or y.max() >= genome.n_classes):
        raise TrainingError(f"labels {y.min()}..{y.max()} do not fit the genome's {genome.n_classes} classes")

    fit_rows = balanced_subset(rows_of(speakers, fit_speakers), y, max_train_clips, seed)
    val_rows = balanced_subset(rows_of(speakers, val_speakers), y, max_val_clips, seed + 1)
    test_rows = rows_of(speakers, test_list) if test_list else np.zeros(0, dtype=int)
    if not len(fit_rows) or not len(val_rows):
        raise TrainingError(f"no clips for the fit ({len(fit_rows)}) or validation ({len(val_rows)}) speakers")
    settings = {"epochs": int(epochs), "batch_size": int(batch_size), "max_train_clips": max_train_clips,
                "max_val_clips": max_val_clips, "seed": int(seed), "normalize": bool(normalize), "recalibrate_clips": int(recalibrate_clips),
                "schedule": [list(s) for s in schedule], "cached_features": bool(cached_features)}  # fmt: skip
    if data_key is None:
        data_key = fingerprint(np.asarray(X[fit_rows]), np.asarray(X[val_rows]), y[fit_rows], y[val_rows])
    key = train_key(genome, data_key, fit_speakers, val_speakers, settings)
    folder = cache_dir("nas", "train") / f"{genome.genome_id()}-{key}"

    def prepare(rows: np.ndarray) -> np.ndarray:
        x = np.asarray(X[rows], dtype=np.float32)
        return peak_normalize(x) if normalize else x

    done = folder / "result.json"
    test_file = folder / f"test-{hashlib.sha256(json.dumps(test_list).encode()).hexdigest()[:12]}.json"
    if cached_only and not (cache and done.is_file() and (not test_list or test_file.is_file())):
        return None
    model = None

    def stored_model() -> keras.Model:
        """The cached weights in a new model: built only when asked for (a model costs ~0.5 s to build)."""
        configure_tensorflow(threads)
        loaded = fresh_model(genome, seed)
        load_weights(loaded, folder / "weights.npz")
        return loaded

    if cache and done.is_file():
        summary = json.loads(done.read_text())
        cached = True
    else:
        cached = False
        configure_tensorflow(threads)
        model = fresh_model(genome, seed)
        import tensorflow as tf  # deferred: TensorFlow takes seconds to import; only conversion/training needs it

        start = time.perf_counter()
        net, inputs = _trainable_part(model, genome, cached_features, normalize, data_key, prepare)
        _compile(net, steps_per_execution)
        x_fit, y_fit = inputs(fit_rows), y[fit_rows]
        history: list[dict[str, float]] = []
        for epoch in range(epochs):
            rate = learning_rate(epoch, schedule)
            net.optimizer.learning_rate.assign(rate)
            order = np.random.default_rng([seed, epoch]).permutation(len(fit_rows))
            # A plain batched tf.data pipeline: Keras' own adapter for arrays adds a parallel map
            # whose graph rewrite prints a C++ error line per fit in TensorFlow 2.21.
            batches = tf.data.Dataset.from_tensor_slices((x_fit[order], y_fit[order])).batch(batch_size)
            h = net.fit(batches, epochs=1, shuffle=False, verbose=0)
            history.append({"epoch": epoch, "learning_rate": rate, "loss": float(h.history["loss"][-1]),
                            "accuracy": float(h.history["accuracy"][-1]),
                            "steps": int(net.optimizer.iterations.numpy())})  # fmt: skip
        if recalibrate_clips:
            calib = np.random.default_rng([seed, epochs]).permutation(len(fit_rows))[:recalibrate_clips]
            recalibrate_batch_norm(net, x_fit[np.sort(calib)])
        seconds = time.perf_counter() - start
        summary = {
            "genome_id": genome.genome_id(),
            "genome": genome.to_dict(),
            "val_accuracy": _accuracy(net, inputs(val_rows), y[val_rows]),
            "history": history,
            "seconds": round(seconds, 3),
            "n_fit": int(len(fit_rows)),
            "n_val": int(len(val_rows)),
            "settings": settings,
            "data_key": data_key,
            "fit_speakers": fit_speakers,
            "val_speakers": val_speakers,
        }
        if cache:
            weights = {f"w{i:03d}": w for i, w in enumerate(model.get_weights())}
            with atomic.atomic_path(folder / "weights.npz") as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, **weights)
            atomic.write_json(done, summary)

    test_accuracy = None
    if test_list:
        if cache and test_file.is_file():
            test_accuracy = json.loads(test_file.read_text())["test_accuracy"]
        else:
            model = model if model is not None else stored_model()
            test_accuracy = _accuracy(model, prepare(test_rows), y[test_rows])
            if cache:
                atomic.write_json(test_file, {"test_speakers": test_list, "test_accuracy": test_accuracy,
                                              "n_test": int(len(test_rows))})  # fmt: skip
    if keep_model and model is None:
        model = stored_model()
    return TrainedCandidate(
        genome=genome,
        val_accuracy=float(summary["val_accuracy"]),
        test_accuracy=None if test_accuracy is None else float(test_accuracy),
        history=summary["history"],
        seconds=float(summary["seconds"]),
        n_fit=int(summary["n_fit"]),
        n_val=int(summary["n_val"]),
        n_test=int(len(test_rows)),
        key=key,
        folder=folder,
        cached=cached,
        settings=settings,
        model=model if keep_model else None,
    )


__all__ = [
    "LAB_SCHEDULE",
    "RECALIBRATE_CLIPS",
    "STEPS_PER_EXECUTION",
    "TrainedCandidate",
    "TrainingError",
    "balanced_subset",
    "configure_tensorflow",
    "fingerprint",
    "fresh_model",
    "learning_rate",
    "load_weights",
    "peak_normalize",
    "recalibrate_batch_norm",
    "rows_of",
    "train_genome",
    "train_key",
]
