"""Deploy picked models to the nRF52840 with TensorFlow Lite Micro: accuracy, bit-exactness, memory, C array.

The paper deployed its EvoNAS models as full-integer (int8) TFLite models on an nRF52840 with
TensorFlow Lite Micro (TFLM) and CMSIS-NN kernels, compiled in as a C array (paper-facts §6). This
module does every step of that path that needs no board, for any Keras model that maps a raw
8,000-sample waveform to class probabilities (:func:`spoken100.nas.build.build_model`):

* :func:`deployment_report` -- one model, one test set: the float accuracy, the int8 accuracy in
  TensorFlow's own TFLite interpreter with its *reference* kernels, the accuracy of the TFLM
  interpreter on the host, whether TFLM's int8 outputs are bit-identical to the reference ones
  (:func:`compare_outputs`), the host-measured tensor arena, flash and RAM with the firmware's
  overheads against the chip's limits, the latency/energy *estimate* (a band from the MAC count,
  :mod:`spoken100.nas.costs`) and the ops with their TFLM int8 support;
* :func:`deployment_table`, :func:`op_table` -- the reports side by side;
* :func:`memory_figure`, :func:`cost_band_figure` -- flash/RAM bars against the nRF52840's 1 MiB
  flash and 256 KiB RAM, and the latency/energy band, labelled as an estimate;
* :func:`export_c_array` / :func:`read_c_array` -- the ``.tflite`` bytes as ``model_data.cc`` /
  ``model_data.h`` (what ``xxd -i`` writes, plus 16-byte alignment and a length constant), and
  :func:`op_resolver_code` -- the ``MicroMutableOpResolver`` lines the firmware needs;
* :func:`search_picks` / :func:`published_picks` / :func:`picked_models` -- the models to deploy:
  the most accurate, fastest and fittest models of this book's own search (chapter 5, trained on
  the corpus of the build), or the paper's six published EvoNAS models (trained on the real voices).

**What "bit-exact" means here.** Both interpreters get the same int8 input; the check compares the
raw int8 outputs. TensorFlow's interpreter is created with ``OpResolverType.BUILTIN_REF`` (see
:func:`spoken100.nas.tflite.run_tflite`), i.e. its reference kernels, not XNNPACK or the optimised
ones, because those may round differently. On the board TFLM uses CMSIS-NN kernels, which "are
bit-exact with TensorFlow Lite reference kernels" and follow TFLM's where the two references differ
(``ARM-software/CMSIS-NN`` README); that is not checked here (no board).

**What is measured and what is estimated.** Accuracies, the bit-exactness, the model size and the
arena are measured on this machine (the arena with TFLM's host reference kernels; a Cortex-M build
with CMSIS-NN kernels needs different scratch buffers, tinyml-anchors §C.4). Flash and RAM add the
firmware overheads of :mod:`spoken100.nas.costs`; latency and energy are estimates from MACs and
are always shown as a band.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from spoken100.data import atomic
from spoken100.data.audio import peak_normalize
from spoken100.data.codehash import code_fingerprint, package_versions
from spoken100.data.inputs import corpus_inputs, targets
from spoken100.data.paths import cache_dir
from spoken100.data.splits import corpus_folds
from spoken100.nas import costs as cost_model
from spoken100.nas import search as nas_search  # module attribute: tests replace its functions
from spoken100.nas import tflite
from spoken100.nas.calibration import paper_fittest_estimate
from spoken100.nas.costs import Costs, count_macs, estimate_costs, fits, mac_classes
from spoken100.nas.published import PUBLISHED_NAMES, published_keras_model
from spoken100.nas.tflite import INT8_OP_SUPPORT, model_ops

if TYPE_CHECKING:  # pragma: no cover
    import keras
    import matplotlib.pyplot as plt

    from spoken100.nas.tflite import Representative

#: Roles of the picked models, as the paper named its three EvoNAS models per task.
ROLES = ("accurate", "fastest", "fittest")
#: ``spoken100.nas.published`` task names -> the label names of :func:`spoken100.data.inputs.targets`.
TASK_NAMES = {"languages": "language", "numbers": "number"}
#: Byte alignment of the exported model array. TFLM reads the flatbuffer in place; 16 bytes is
#: what TFLM's own generated model arrays use (``alignas(16)``).
C_ARRAY_ALIGNMENT = 16
#: Bytes per line of the exported C array (as ``xxd -i``).
C_ARRAY_BYTES_PER_LINE = 12
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: ``MicroMutableOpResolver`` method names whose spelling the generic rule of :func:`op_resolver_code` misses.
_RESOLVER_EXCEPTIONS = {"PADV2": "AddPadV2", "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd", "ADD_N": "AddAddN"}


@contextlib.contextmanager
def _quiet_tensorflow():
    """Keep TensorFlow's Python log (the converter's INFO lines, retracing warnings) off the page."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# ---- which models ----------------------------------------------------------------------------
@dataclass
class Pick:
    """One model to deploy.

    name: a unique key, e.g. ``"languages_fittest"``.
    task: ``"language"`` (4 classes) or ``"number"`` (100 classes), as
        :func:`spoken100.data.inputs.targets` names them.
    role: ``"accurate"``, ``"fastest"`` or ``"fittest"`` (how the search picked it).
    model: the float Keras model (waveform ``(batch, 8000)`` -> probabilities).
    source: ``"published"`` (the paper's trained models) or ``"search"`` (this book's chapter 5).
    description: one line about the architecture; notes: caveats of the model's origin.
    normalize: the model was trained on peak-normalised clips (the search's models,
        :func:`spoken100.data.audio.peak_normalize`), so every clip must be normalised before it
        reaches it -- in calibration, evaluation and on the board. The published models take raw clips.
    """

    name: str
    task: str
    role: str
    model: Any = field(repr=False)
    source: str
    description: str = ""
    notes: tuple[str, ...] = ()
    normalize: bool = False


def published_picks(names: Sequence[str] | None = None, download: bool = False) -> list[Pick]:
    """The six published EvoNAS models (``languages|numbers`` x ``accurate|fastest|fittest``) as picks.

    Each is rebuilt with this package's int8-friendly front end and loads the paper's trained
    weights (:func:`spoken100.nas.published.published_keras_model`); the front end approximates
    kapre's magnitude to within 3.96 % (see :mod:`spoken100.nas.published`). They were trained on
    the *real* SpokeN-100 voices.

    names: a subset of :data:`spoken100.nas.published.PUBLISHED_NAMES`; default all six.
    download: fetch missing files from the paper's repository (network needed).
    """

    picks = []
    for name in names or PUBLISHED_NAMES:
        model, pg, notes = published_keras_model(name, download=download)
        picks.append(
            Pick(
                name=pg.name,
                task=TASK_NAMES[pg.task],
                role=pg.variant,
                model=model,
                source="published",
                description=pg.genome.describe(),
                notes=tuple(notes),
            )
        )
    return picks


def search_picks(corpus: Any, configs: dict[str, Any], roles: Sequence[str] = ROLES,
                 progress: bool = True) -> list[Pick]:  # fmt: skip
    """The picks of this book's own search: the trained float models of chapter 5's searches.

    configs: task -> :class:`spoken100.nas.search.SearchConfig`, exactly chapter 5's
        (:func:`spoken100.nas.search.search_configs` builds them from its parameters). A finished
        search and its trained candidates are loaded from their artefacts; a missing one is run.
    roles: which of ``"accurate"``, ``"fastest"`` and ``"fittest"`` to keep.
    """

    picks = []
    for task, config in configs.items():
        data = nas_search.task_data(
            corpus, config, progress=progress
        )  # read the clips once for the search and its picks
        result = nas_search.search(data, config, progress=progress)
        for role in roles:
            genome = result.pick("most accurate" if role == "accurate" else role)
            trained = nas_search.trained_candidate(data, config, genome)
            picks.append(
                Pick(
                    name=f"{task}_{role}",
                    task=task,
                    role=role,
                    model=trained.model,
                    source="search",
                    description=genome.describe(),
                    notes=(f"genome {genome.genome_id()}, trained {config.epochs} epoch(s) on the search's split",),
                    normalize=True,
                )
            )
    return picks


def picked_models(corpus: Any = None, models_from: str = "search", names: Sequence[str] | None = None,
                  search: dict[str, Any] | None = None, progress: bool = True) -> list[Pick]:  # fmt: skip
    """The models this chapter deploys: the seam between the search (chapter 5) and deployment.

    models_from: ``"search"`` -- the most accurate, fastest and fittest models of this book's own
        search on ``corpus`` (:func:`search_picks`); ``"published"`` -- the paper's six trained
        models (:func:`published_picks`; the corpus is not used).
    names: keep only these picks (e.g. ``["language_fittest"]``); default all.
    search: chapter 5's parameters (``tasks`` and the search settings), for ``"search"``; the
        profile passes chapter 5's section, so both chapters mean the same searches.
    """
    if models_from == "published":
        return published_picks(names)
    if models_from == "search":
        picks = search_picks(corpus, nas_search.search_configs(search or {}), progress=progress)
        if names is not None:
            unknown = sorted(set(names) - {p.name for p in picks})
            if unknown:
                raise ValueError(f"no picked model named {unknown}; the search picked {[p.name for p in picks]}")
            picks = [p for p in picks if p.name in names]
        return picks
    raise ValueError(f"models_from must be 'published' or 'search', not {models_from!r}")


def picks_table(picks: Sequence[Pick]) -> pd.DataFrame:
    """One row per pick: name, task, role, source, parameters, MACs and architecture.

    Parameters are counted as Keras' summary of the published models does (trainable weights and
    batch-norm statistics) and exclude the fixed front-end constants (DFT and mel matrices).
    """

    rows = []
    for p in picks:
        macs = count_macs(p.model)
        n_params = sum(int(np.prod(w.shape)) for layer in p.model.layers if not layer.name.startswith("frontend_")
                       for w in layer.weights)  # fmt: skip
        rows.append({"model": p.name, "task": p.task, "role": p.role, "source": p.source, "parameters": n_params,
                     "MACs (front end)": macs["frontend"], "MACs (network)": macs["features"] + macs["head"],
                     "architecture": p.description})  # fmt: skip
    return pd.DataFrame(rows)


def deployment_split(corpus: Any, fold: int = 1, n_folds: int = 8) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Test and training rows of one speaker fold: ``(test_index, train_index, sentence)``.

    The folds are those of the baselines (:func:`spoken100.data.splits.corpus_folds`): the
    paper's split for the full real corpus, a gender-balanced split otherwise (use ``n_folds=4``
    for the 8-speaker subset). The sentence says where the folds come from and who is tested.
    """

    folds, source = corpus_folds(corpus, n_folds)
    chosen = [f for f in folds if f.fold == fold]
    if not chosen:
        raise ValueError(f"fold {fold} does not exist; the split has folds 1-{len(folds)}")
    f = chosen[0]
    index = corpus.index
    test = index[index.speaker.isin(f.test)].reset_index(drop=True)
    train = index[index.speaker.isin(f.train)].reset_index(drop=True)
    sentence = (f"Folds: {source}. Fold {fold} tests on {', '.join(f.test)} ({len(test):,} clips) and trains on "
                f"{len(f.train)} speakers.")  # fmt: skip
    return test, train, sentence


def calibration_set(
    corpus: Any, train_index: pd.DataFrame, kind: str = "train", n: int = 200, seed: int = 0
) -> tuple[Representative, str]:
    """The representative data for int8 calibration and a sentence saying what it is.

    kind: ``"train"`` -- ``n`` clips drawn at random from the fold's *training* speakers, in the
        models' input form (8,000 resampled samples, unnormalised; an array, which
        :func:`deployment_report` normalises for models that need it); ``"noise"`` -- ``n`` uniform-noise
        waveforms in [-1, 1), as the paper's conversion script (:func:`spoken100.nas.tflite.noise_dataset`).
    """

    if kind == "train":
        rows = train_index.sample(min(n, len(train_index)), random_state=seed)
        clips = corpus_inputs(corpus.root, rows, "waveform", progress=False)
        return clips, f"{len(rows)} clips of the fold's training speakers"
    if kind == "noise":  # tflite.noise_dataset's draws, collected as an array so that reports can be keyed
        noise = np.concatenate([batch[0] for batch in tflite.noise_dataset(n=n, seed=seed)()])
        return noise, f"{n} uniform-noise waveforms in [-1, 1), as the paper did"
    raise ValueError(f"calibration must be 'train' or 'noise', not {kind!r}")


def model_inputs(x: Any, normalize: bool) -> Any:
    """Clips as a model takes them: peak-normalised when it was trained so (:attr:`Pick.normalize`).

    Arrays of clips are normalised row by row; a representative-data callable (the paper's
    noise, already spanning [-1, 1)) and ``None`` are returned unchanged.
    """
    if normalize and isinstance(x, np.ndarray):
        return peak_normalize(x)
    return x


def deployment_fold(
    search: dict[str, Any] | None, fold: int | None = None, n_folds: int | None = None
) -> tuple[int, int]:
    """The speaker fold whose test speakers chapter 6 uses: the search's own unless set explicitly.

    The search fits on some of the fold's training speakers and selects on others; its test
    speakers are never seen, so they are the ones deployment must be measured on.
    """
    search = search or {}
    return int(fold if fold is not None else search.get("fold", 1)), int(
        n_folds if n_folds is not None else search.get("n_folds", 8)
    )


# ---- bit-exactness -----------------------------------------------------------------------------
@dataclass(frozen=True)
class BitExactness:
    """TFLite Micro's raw int8 outputs against TFLite's reference kernels, clip by clip.

    n: clips compared; n_identical: clips whose every output value is equal; max_abs_diff: the
    largest difference of one output value, in int8 steps; argmax_agreement: fraction of clips
    with the same predicted class; differing: positions (among the compared clips) of the clips
    that differ.
    """

    n: int
    n_identical: int
    max_abs_diff: int
    argmax_agreement: float
    differing: tuple[int, ...] = ()

    @property
    def bit_exact(self) -> bool:
        """``True`` when every compared clip gave identical int8 outputs."""
        return self.n > 0 and self.n_identical == self.n

    def __str__(self) -> str:
        if self.bit_exact:
            return f"bit-exact on {self.n} clips"
        return (f"{self.n - self.n_identical} of {self.n} clips differ (by up to {self.max_abs_diff} int8 steps; "
                f"same class on {100 * self.argmax_agreement:.1f} %)")  # fmt: skip


def compare_outputs(tflm: np.ndarray, reference: np.ndarray) -> BitExactness:
    """Compare two arrays of raw int8 outputs ``(clips, classes)`` (see :class:`BitExactness`)."""
    a = np.asarray(tflm)
    b = np.asarray(reference)
    if a.shape != b.shape:
        raise ValueError(f"output shapes differ: {a.shape} vs {b.shape}")
    if a.ndim != 2:
        raise ValueError(f"expected outputs of shape (clips, classes), got {a.shape}")
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        raise ValueError("compare raw integer outputs (dequantize=False), not dequantised floats")
    diff = np.abs(a.astype(np.int32) - b.astype(np.int32))
    per_clip = diff.max(axis=1) if diff.size else np.zeros(len(a), dtype=np.int32)
    return BitExactness(
        n=int(len(a)),
        n_identical=int((per_clip == 0).sum()),
        max_abs_diff=int(diff.max()) if diff.size else 0,
        argmax_agreement=float((a.argmax(axis=1) == b.argmax(axis=1)).mean()) if len(a) else float("nan"),
        differing=tuple(int(i) for i in np.flatnonzero(per_clip)),
    )


def bit_exactness(model_bytes: bytes, x: np.ndarray, isolated: bool = True) -> BitExactness:
    """Run ``x`` through TFLite Micro and TFLite's reference kernels and compare the int8 outputs.

    x: float waveforms ``(clips, n_samples)`` (quantised with the model's input scale and zero
        point, as the firmware does) or int8 inputs.
    isolated: run TFLite Micro in a child process (see :func:`spoken100.nas.tflite.run_tflm`).
    """

    micro = tflite.run_tflm(model_bytes, x, dequantize=False, isolated=isolated)
    reference = tflite.run_tflite(model_bytes, x, dequantize=False)
    return compare_outputs(micro, reference)


#: The TFLite op a Keras layer becomes after conversion (batch norm and ReLU fold into the layer before).
KERAS_TO_TFLITE_OP = {
    "Conv2D": "CONV_2D",
    "DepthwiseConv2D": "DEPTHWISE_CONV_2D",
    "Dense": "FULLY_CONNECTED",
    "GlobalAveragePooling2D": "MEAN",
    "GlobalMaxPooling2D": "REDUCE_MAX",
    "MaxPooling2D": "MAX_POOL_2D",
    "AveragePooling2D": "AVERAGE_POOL_2D",
    "Add": "ADD",
    "Maximum": "MAXIMUM",
    "Minimum": "MINIMUM",
    "Rescaling": "MUL",
    "Reshape": "RESHAPE",
    "Softmax": "SOFTMAX",
}


def first_divergence(
    keras_model: keras.Model,
    x: np.ndarray,
    representative: Representative | np.ndarray | None,
    isolated: bool = True,
) -> dict[str, Any] | None:
    """The first layer whose int8 output differs between TFLite Micro and TFLite's reference kernels.

    Neither interpreter exposes its intermediate tensors in int8 as the other computes them, so
    this converts *prefixes* of the model (input -> layer ``k``), each calibrated on
    ``representative``, and runs ``x`` through both interpreters. A bisection over the layers finds a
    layer ``k`` whose prefix differs while the prefix ending one layer earlier is bit-exact on
    ``x``. It costs about ``log2(layers) + 1`` conversions; pass only a few clips, best those that
    differ in the full model (:attr:`BitExactness.differing`).

    Returns ``None`` when the full model is bit-exact on ``x``, else a dict with the layer's
    ``name``, Keras ``kind``, the TFLite ``op`` it becomes, ``clips_differing`` and
    ``max_abs_diff`` (int8 steps) at its output, and ``conversions`` (how many were needed).
    Prefix models are calibrated on their own, so their int8 scales are not those of the full
    model; the result says which op behaves differently, not by how much inside the full model.
    """
    import keras as _k  # deferred: Keras loads TensorFlow; only model building needs it

    layers = [layer for layer in keras_model.layers if not isinstance(layer, _k.layers.InputLayer)]
    x = np.asarray(x, dtype=np.float32)
    checked: dict[int, BitExactness] = {}

    def check(k: int) -> BitExactness:
        if k not in checked:
            prefix = _k.Model(keras_model.inputs, layers[k].output) if k < len(layers) - 1 else keras_model
            with _quiet_tensorflow():
                model_bytes = tflite.to_int8(prefix, representative)
            micro = tflite.run_tflm(model_bytes, x, dequantize=False, isolated=isolated)
            reference = tflite.run_tflite(model_bytes, x, dequantize=False)
            checked[k] = compare_outputs(micro.reshape(len(x), -1), reference.reshape(len(x), -1))
        return checked[k]

    last = len(layers) - 1
    if check(last).bit_exact:
        return None
    low, high = -1, last  # prefix `low` is bit-exact (-1: the input itself), prefix `high` differs
    while high - low > 1:
        mid = (low + high) // 2
        if check(mid).bit_exact:
            low = mid
        else:
            high = mid
    layer = layers[high]
    kind = type(layer).__name__
    found = checked[high]
    return {
        "name": layer.name,
        "kind": kind,
        "op": KERAS_TO_TFLITE_OP.get(kind, "?"),
        "clips_differing": found.n - found.n_identical,
        "clips": found.n,
        "max_abs_diff": found.max_abs_diff,
        "conversions": len(checked),
    }


# ---- one model's deployment --------------------------------------------------------------------
@dataclass
class Deployment:
    """What :func:`deployment_report` found for one model (``tflite`` holds the int8 model bytes).

    Accuracies are fractions in [0, 1]. ``tflm_accuracy`` and ``exactness`` cover ``n_tflm`` test
    clips (all of them unless a subset was asked for); ``int8_accuracy`` is TFLite's reference
    kernels on every test clip; ``agreement`` the fraction of test clips on which the float and
    int8 models predict the same class; ``tflm_indices`` the test clips run in TFLite Micro.
    ``costs`` holds flash, RAM and the latency/energy band
    (:class:`spoken100.nas.costs.Costs`); ``fits`` whether flash and RAM are within the chip's.
    """

    name: str
    task: str | None
    n_test: int
    float_accuracy: float
    int8_accuracy: float
    tflm_accuracy: float
    n_tflm: int
    agreement: float
    exactness: BitExactness
    tflm_indices: np.ndarray = field(repr=False)
    arena: dict[str, int]
    costs: Costs
    fits: bool
    ops: list[str]
    io: dict[str, dict[str, Any]]
    seconds: dict[str, float]
    tflite: bytes = field(repr=False)
    normalize: bool = False

    def differing_clips(self) -> np.ndarray:
        """Positions in the test set of the clips whose TFLite Micro and reference outputs differ."""
        return np.asarray(self.tflm_indices)[list(self.exactness.differing)].astype(int)

    def row(self) -> dict[str, Any]:
        """A flat dict: one row of :func:`deployment_table` (bytes, fractions and milliseconds)."""
        c = self.costs
        return {
            "model": self.name,
            "task": self.task,
            "test_clips": self.n_test,
            "float_accuracy": self.float_accuracy,
            "int8_accuracy": self.int8_accuracy,
            "tflm_accuracy": self.tflm_accuracy,
            "tflm_clips": self.n_tflm,
            "float_int8_agreement": self.agreement,
            "bit_exact": self.exactness.bit_exact,
            "max_int8_diff": self.exactness.max_abs_diff,
            "model_bytes": c.model_bytes,
            "arena_bytes": c.arena_bytes,
            "flash_bytes": c.flash_bytes,
            "ram_bytes": c.ram_bytes,
            "flash_fraction": c.flash_bytes / cost_model.FLASH_LIMIT_BYTES,
            "ram_fraction": c.ram_bytes / cost_model.RAM_LIMIT_BYTES,
            "fits": self.fits,
            "macs": c.macs,
            "macs_frontend": c.mac_classes.frontend,
            "latency_ms_low": 1e3 * c.latency_s.low,
            "latency_ms": 1e3 * c.latency_s.central,
            "latency_ms_high": 1e3 * c.latency_s.high,
            "latency_ms_frontend": 1e3 * c.frontend_latency_s.central,
            "energy_mj_low": c.energy_mj.low,
            "energy_mj": c.energy_mj.central,
            "energy_mj_high": c.energy_mj.high,
            "ops": ", ".join(self.ops),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the model bytes)."""
        d = self.row()
        d.update(exactness=asdict(self.exactness), arena=self.arena, costs=self.costs.to_dict(),
                 io={k: {**v, "dtype": np.dtype(v["dtype"]).name, "shape": list(v["shape"])}
                     for k, v in self.io.items()},
                 seconds=self.seconds)  # fmt: skip
        return d


def _accuracy(probabilities: np.ndarray, y: np.ndarray) -> float:
    return float((np.asarray(probabilities).argmax(axis=1) == np.asarray(y)).mean()) if len(y) else float("nan")


def spread_indices(n_total: int, n: int | None) -> np.ndarray:
    """``n`` indices spread evenly over ``range(n_total)`` (all when ``n`` is ``None`` or large enough).

    Corpus indices are ordered by language, speaker and number, so an even spread covers them all.
    """
    if n is None or n >= n_total:
        return np.arange(n_total)
    if n <= 0:
        raise ValueError(f"n must be positive or None, got {n}")
    return np.unique(np.linspace(0, n_total - 1, n).round().astype(int))


def deployment_report(
    keras_model: keras.Model,
    X_test: np.ndarray,
    y_test: np.ndarray,
    representative: Representative | np.ndarray | None,
    name: str,
    *,
    task: str | None = None,
    n_tflm: int | None = None,
    isolated: bool = True,
    batch_size: int = 256,
    normalize: bool = False,
) -> Deployment:
    """Convert ``keras_model`` to int8 and measure what its deployment on the nRF52840 would be.

    keras_model: waveform ``(batch, n_samples)`` -> class probabilities (one input, one output).
    X_test, y_test: test waveforms ``(clips, n_samples)`` float32, preprocessed as in training
        (:func:`spoken100.data.inputs.corpus_inputs` with ``"waveform"``), and integer labels.
    representative: calibration data for :func:`spoken100.nas.tflite.to_int8` -- a callable, an
        array of training clips, or ``None`` for the paper's 200 uniform-noise inputs. Never the
        test clips: calibration fixes the int8 ranges, so it is part of training.
    name, task: labels of the report (``task`` e.g. ``"language"``).
    n_tflm: run TFLite Micro (and the bit-exactness check) on this many test clips, spread evenly
        (:func:`spread_indices`); ``None`` runs every clip. The other accuracies use every clip.
    isolated: run TFLite Micro in a child process (an abort inside it becomes an error).
    normalize: peak-normalise the test clips and an array ``representative`` first (models trained
        on normalised clips, :attr:`Pick.normalize`); the firmware must then normalise too.

    Returns a :class:`Deployment`; its :meth:`~Deployment.row` is one row of :func:`deployment_table`.
    """

    X_test = model_inputs(np.asarray(X_test, dtype=np.float32), normalize)
    representative = model_inputs(representative, normalize)
    y_test = np.asarray(y_test)
    if len(X_test) != len(y_test):
        raise ValueError(f"X_test has {len(X_test)} clips but y_test {len(y_test)} labels")
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    with _quiet_tensorflow():
        # Direct calls rather than model.predict: predict builds a tf.data pipeline, whose C++
        # layer logs a spurious op-definition error when op determinism is on (as after training).
        float_probs = np.concatenate(
            [np.asarray(keras_model(X_test[i : i + batch_size], training=False))
             for i in range(0, len(X_test), batch_size)] or [np.zeros((0, int(keras_model.output_shape[-1])))]
        )  # fmt: skip
    seconds["float"] = time.perf_counter() - start

    start = time.perf_counter()
    with _quiet_tensorflow():
        model_bytes = tflite.to_int8(keras_model, representative)
    seconds["convert"] = time.perf_counter() - start

    start = time.perf_counter()
    reference = tflite.run_tflite(model_bytes, X_test, dequantize=False)
    seconds["tflite"] = time.perf_counter() - start

    start = time.perf_counter()
    chosen = spread_indices(len(X_test), n_tflm)
    micro = tflite.run_tflm(model_bytes, X_test[chosen], dequantize=False, isolated=isolated)
    seconds["tflm"] = time.perf_counter() - start

    start = time.perf_counter()
    arena = tflite.arena_report(model_bytes, isolated=isolated)
    n_samples = int(keras_model.input_shape[-1])
    c = estimate_costs(model_bytes, arena["total"], mac_classes(keras_model), n_samples=n_samples)
    seconds["costs"] = time.perf_counter() - start
    return Deployment(
        name=name,
        task=task,
        n_test=len(X_test),
        float_accuracy=_accuracy(float_probs, y_test),
        int8_accuracy=_accuracy(reference, y_test),
        tflm_accuracy=_accuracy(micro, y_test[chosen]),
        n_tflm=len(chosen),
        agreement=float((float_probs.argmax(axis=1) == reference.argmax(axis=1)).mean()) if len(y_test) else np.nan,
        exactness=compare_outputs(micro, reference[chosen]),
        tflm_indices=chosen,
        arena={k: v for k, v in arena.items() if k != "text"},
        costs=c,
        fits=fits(c),
        ops=tflite.model_ops(model_bytes),
        io=tflite.io_details(model_bytes),
        seconds={k: round(v, 2) for k, v in seconds.items()},
        tflite=model_bytes,
        normalize=normalize,
    )


# ---- cached reports ---------------------------------------------------------------------------------


def model_fingerprint(keras_model: keras.Model) -> str:
    """sha256 of a Keras model's architecture (JSON) and every weight: the same model, the same key."""
    digest = hashlib.sha256(keras_model.to_json().encode())
    for weight in keras_model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


def _array_digest(*arrays: Any) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(b"none" if a is None else np.ascontiguousarray(np.asarray(a)).tobytes())
    return digest.hexdigest()


def _tool_versions() -> str:
    return ",".join(f"{k}=={v}" for k, v in package_versions(("tensorflow-cpu", "tensorflow", "tflite-micro")).items())


def _cache_file(kind: str, name: str, key: str, suffix: str) -> Path:

    return cache_dir("deploy", kind) / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}-{key[:20]}{suffix}"


def cached_deployment_report(
    keras_model: keras.Model, X_test: np.ndarray, y_test: np.ndarray, representative: np.ndarray | None,
    name: str, **options: Any,
) -> Deployment:  # fmt: skip
    """:func:`deployment_report`, kept as an artefact keyed by everything it depends on.

    The key hashes the model (architecture and weights), the test clips and labels, the calibration
    clips (an array: the callables of :mod:`spoken100.nas.tflite` cannot be keyed), the options and
    the TensorFlow/TFLite Micro versions, so a rebuild with nothing changed converts and runs nothing.
    The report is pickled to ``cache_dir("deploy", "reports")`` atomically.
    """

    if representative is not None and not isinstance(representative, np.ndarray):
        return deployment_report(keras_model, X_test, y_test, representative, name, **options)
    key = hashlib.sha256(json.dumps([
        code_fingerprint(cached_deployment_report), _tool_versions(), model_fingerprint(keras_model), _array_digest(X_test, y_test, representative),
        name, sorted(options.items()),
    ], default=str).encode()).hexdigest()  # fmt: skip
    path = _cache_file("reports", name, key, ".pkl")
    if path.is_file():
        try:
            return joblib.load(path)
        except Exception:  # noqa: BLE001 -- an unreadable artefact is recomputed, never trusted
            path.unlink(missing_ok=True)
    report = deployment_report(keras_model, X_test, y_test, representative, name, **options)
    with atomic.atomic_path(path) as tmp:
        joblib.dump(report, tmp)
    return report


def deploy_picks(picks: Sequence[Pick], X_test: np.ndarray, test_index: pd.DataFrame,
                 representative: np.ndarray | None, n_tflm: int | None = None,
                 progress: bool = True) -> list[Deployment]:  # fmt: skip
    """One cached :func:`deployment_report` per pick, with progress; each pick's own labels and normalisation."""

    return [
        cached_deployment_report(
            p.model,
            X_test,
            targets(test_index, p.task),
            representative,
            p.name,
            task=p.task,
            n_tflm=n_tflm,
            normalize=p.normalize,
        )  # fmt: skip
        for p in tqdm(picks, desc="deploying", unit="model", disable=not progress)
    ]


# ---- tables ------------------------------------------------------------------------------------
def deployment_table(deployments: Sequence[Deployment], readable: bool = True) -> pd.DataFrame:
    """The reports side by side.

    readable: percentages, KiB and short column names for the book; ``False`` gives the raw
    :meth:`Deployment.row` values (bytes, fractions, milliseconds).
    """
    raw = pd.DataFrame([d.row() for d in deployments])
    if not readable or raw.empty:
        return raw
    kib = 1024.0
    return pd.DataFrame({
        "model": raw.model,
        "task": raw.task,
        "float %": 100 * raw.float_accuracy,
        "int8 (TFLite ref) %": 100 * raw.int8_accuracy,
        "TFLM %": 100 * raw.tflm_accuracy,
        "TFLM clips": raw.tflm_clips,
        "TFLM = ref (bit-exact)": raw.bit_exact.map({True: "yes", False: "no"}),
        "model KiB": raw.model_bytes / kib,
        "arena KiB": raw.arena_bytes / kib,
        "flash KiB": raw.flash_bytes / kib,
        "RAM KiB": raw.ram_bytes / kib,
        "fits": raw.fits.map({True: "yes", False: "no"}),
        "est. latency ms, central (band low–high)": [f"{c:.0f} ({lo:.0f}–{hi:.0f})" for lo, c, hi in
                                  zip(raw.latency_ms_low, raw.latency_ms, raw.latency_ms_high, strict=True)],
        "est. energy mJ, central (band low–high)": [f"{c:.2f} ({lo:.2f}–{hi:.2f})" for lo, c, hi in
                                 zip(raw.energy_mj_low, raw.energy_mj, raw.energy_mj_high, strict=True)],
        "front end % of MACs": 100 * raw.macs_frontend / raw.macs,
        "front end % of est. latency (central)": 100 * raw.latency_ms_frontend / raw.latency_ms,
    })  # fmt: skip


def op_table(deployments: Sequence[Deployment]) -> pd.DataFrame:
    """Which ops each model uses, with TFLite Micro's int8 support and the resolver call.

    ``TFLM int8`` is what this package's probe of the installed ``tflite_micro`` found
    (:data:`spoken100.nas.tflite.INT8_OP_SUPPORT`); ``ran here`` says whether every model that
    uses the op ran in TFLite Micro on this machine (a model that converts and runs has each of its
    ops supported, whatever the probe says).
    """

    ops = sorted({op for d in deployments for op in d.ops})
    rows = []
    for op in ops:
        users = [d for d in deployments if op in d.ops]
        row = {"op": op, "TFLM int8 (probe)": INT8_OP_SUPPORT.get(op, "not probed"),
               "ran here": "yes" if all(d.exactness.n > 0 for d in users) else "no",
               "resolver call": _resolver_method(op) + "()"}  # fmt: skip
        row.update({d.name: "✓" if op in d.ops else "" for d in deployments})
        rows.append(row)
    return pd.DataFrame(rows)


def _resolver_method(op: str) -> str:
    if op in _RESOLVER_EXCEPTIONS:
        return _RESOLVER_EXCEPTIONS[op]
    return "Add" + "".join(part if part[:1].isdigit() else part.capitalize() for part in op.split("_"))


def op_resolver_code(ops: Sequence[str] | bytes, variable: str = "resolver") -> str:
    """C++ lines that register exactly the model's ops with a ``tflite::MicroMutableOpResolver``.

    ops: op names (e.g. :attr:`Deployment.ops`) or the ``.tflite`` bytes. A resolver holding only
    the needed ops keeps the other kernels out of the firmware's flash.
    """
    if isinstance(ops, (bytes, bytearray)):
        ops = model_ops(bytes(ops))
    ops = sorted(set(ops))
    lines = [f"static tflite::MicroMutableOpResolver<{len(ops)}> {variable};"]
    lines += [f"{variable}.{_resolver_method(op)}();" for op in ops]
    return "\n".join(lines)


def locate_divergences(
    picks: Sequence[Pick],
    deployments: Sequence[Deployment],
    X_test: np.ndarray,
    representative: Representative | np.ndarray | None,
    n_models: int | None = None,
    max_clips: int = 20,
) -> dict[str, dict[str, Any]]:
    """:func:`first_divergence` for the models that are not bit-exact, smallest model first.

    n_models: locate at most this many (each costs a few conversions); ``None``: all.
    max_clips: run each check on at most this many of the model's differing test clips.
    """
    by_name = {p.name: p for p in picks}
    todo = sorted((d for d in deployments if not d.exactness.bit_exact), key=lambda d: d.costs.model_bytes)
    found = {}
    for d in todo[: len(todo) if n_models is None else max(int(n_models), 0)]:
        pick = by_name[d.name]
        clips = model_inputs(np.asarray(X_test, dtype=np.float32)[d.differing_clips()[:max_clips]], pick.normalize)
        calibration = model_inputs(representative, pick.normalize)
        cacheable = calibration is None or isinstance(calibration, np.ndarray)
        key = hashlib.sha256(json.dumps([code_fingerprint(locate_divergences), _tool_versions(), model_fingerprint(pick.model),
                                         _array_digest(clips, calibration)]).encode()).hexdigest()  # fmt: skip
        path = _cache_file("divergences", d.name, key, ".json")
        if cacheable and path.is_file():
            found[d.name] = json.loads(path.read_text())["first_divergence"]
            continue
        result = first_divergence(pick.model, clips, calibration)
        # numpy scalars become plain numbers, so the cached and the fresh result are the same values
        found[d.name] = json.loads(json.dumps(result, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
        if cacheable:
            atomic.write_json(path, {"first_divergence": found[d.name]})
    return found


def exactness_table(deployments: Sequence[Deployment], divergences: dict[str, Any] | None = None) -> pd.DataFrame:
    """Per model: clips compared, identical clips, the largest difference, class agreement, first differing layer."""
    rows = []
    for d in deployments:
        e = d.exactness
        where = (divergences or {}).get(d.name)
        rows.append({
            "model": d.name,
            "clips compared": e.n,
            "identical clips": e.n_identical,
            "largest difference (int8 steps)": e.max_abs_diff,
            "same class %": 100 * e.argmax_agreement,
            "first differing layer": "-" if e.bit_exact else
            (f"{where['name']} ({where['op']})" if where else "not located"),
        })  # fmt: skip
    return pd.DataFrame(rows)


def findings(deployments: Sequence[Deployment], divergences: dict[str, Any] | None = None) -> dict[str, Any]:
    """The numbers the chapter's closing prose quotes, computed from the reports (for ``glue``).

    Accuracies and shares are percentages; best models are chosen by TFLite Micro accuracy per task.
    """
    rows = pd.DataFrame([d.row() for d in deployments])
    out: dict[str, Any] = {
        "n_models": len(rows),
        "n_test_clips": int(rows.test_clips.max()),
        "n_bit_exact": int(rows.bit_exact.sum()),
        "max_differing_pct": float(max(100 * (d.exactness.n - d.exactness.n_identical) / max(d.exactness.n, 1)
                                       for d in deployments)),
        "max_diff_steps": int(rows.max_int8_diff.max()),
        "min_class_agreement_pct": float(min(100 * d.exactness.argmax_agreement for d in deployments)),
        "max_int8_change_pp": float((100 * (rows.int8_accuracy - rows.float_accuracy)).abs().max()),
        "n_fit": int(rows.fits.sum()),
        "max_flash_pct": float(100 * rows.flash_fraction.max()),
        "max_ram_pct": float(100 * rows.ram_fraction.max()),
        "latency_low_ms": float(rows.latency_ms_low.min()),
        "latency_high_ms": float(rows.latency_ms_high.max()),
        "max_frontend_latency_pct": float((100 * rows.latency_ms_frontend / rows.latency_ms).max()),
    }  # fmt: skip
    est = paper_fittest_estimate("number")
    out.update({"paper_fittest_est_ms": est.central, "paper_fittest_est_ms_low": est.low,
                "paper_fittest_est_ms_high": est.high,
                "paper_fittest_est_text": f"{est.central:.0f} ({est.low:.0f}–{est.high:.0f})"})  # fmt: skip
    ops = sorted({v["op"] for v in (divergences or {}).values() if v})
    out["divergence_ops"] = ", ".join(ops) if ops else "none located"
    for task in ("language", "number"):
        part = rows[rows.task == task]
        best = part.loc[part.tflm_accuracy.idxmax()] if len(part) else None
        out[f"best_{task}_model"] = best.model if best is not None else "none"
        out[f"best_{task}_tflm_pct"] = float(100 * best.tflm_accuracy) if best is not None else float("nan")
    return out


def export_firmware_bundle(
    deployment: Deployment, out_dir: str | Path, clip: np.ndarray | None = None, isolated: bool = True
) -> dict[str, Path]:
    """Everything a firmware build needs for one model, written to ``out_dir``.

    * ``model.tflite`` -- the int8 model (for ``spoken100 predict`` and other tools);
    * ``model_data.cc`` / ``model_data.h`` -- the model as the C array ``g_model`` (:func:`export_c_array`);
    * ``op_resolver.inc`` -- the resolver lines for exactly its ops (:func:`op_resolver_code`);
    * ``model.json`` -- what ``spoken100 predict`` and the firmware must know beyond the bytes: the
      task and whether clips are peak-normalised before quantisation (``peak_normalize``);
    * with ``clip`` (a float waveform of the model's input length): ``clip_data.cc`` / ``clip_data.h``
      -- the clip quantised with the model's input scale and zero point as ``g_clip`` -- and
      ``expected_output.txt`` -- TFLite Micro's int8 output for it on this machine, so that the board
      can check that it computes the same.

    Returns ``{what: path}``.
    """

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {"model": out / "model.tflite"}
    atomic.write_bytes(paths["model"], deployment.tflite)
    paths["model_cc"], paths["model_h"] = export_c_array(deployment.tflite, out)
    paths["resolver"] = out / "op_resolver.inc"
    atomic.write_text(paths["resolver"], op_resolver_code(deployment.ops) + "\n")
    paths["metadata"] = out / "model.json"
    atomic.write_json(paths["metadata"], {"name": deployment.name, "task": deployment.task,
                                          "peak_normalize": bool(deployment.normalize)})  # fmt: skip
    if clip is not None:
        inp = deployment.io["input"]
        x = model_inputs(np.asarray(clip, dtype=np.float32).reshape(1, -1), deployment.normalize)
        q = tflite.quantize_input(x.reshape(-1), inp["scale"], inp["zero_point"])
        paths["clip_cc"], paths["clip_h"] = export_c_array(q.tobytes(), out, name="g_clip", stem="clip_data")
        expected = tflite.run_tflm(deployment.tflite, q[None], dequantize=False, isolated=isolated)[0]
        paths["expected"] = out / "expected_output.txt"
        atomic.write_text(paths["expected"], " ".join(str(int(v)) for v in expected) + "\n")
    return paths


# ---- figures -----------------------------------------------------------------------------------
def _names(deployments: Sequence[Deployment]) -> list[str]:
    return [d.name for d in deployments]


def memory_figure(deployments: Sequence[Deployment]) -> plt.Figure:
    """Flash and RAM of each model against the nRF52840's flash and RAM (the :mod:`~spoken100.nas.costs` limits).

    Flash = int8 model + firmware code (Zephyr, TFLM, CMSIS-NN, console); RAM = tensor arena
    (host-measured) + the clip's 16-bit audio buffer + the firmware's other RAM. The overheads are
    the :mod:`spoken100.nas.costs` constants, taken from the lab's nRF52840 build.
    """

    kib = 1024.0
    names = _names(deployments)
    y = np.arange(len(names))
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(names) + 1.6), sharey=True)
    stacks = (
        ("flash", cost_model.FLASH_LIMIT_BYTES,
         [("int8 model", [d.costs.model_bytes for d in deployments], "C0"),
          ("firmware code", [d.costs.flash_overhead for d in deployments], "0.75")]),
        ("RAM", cost_model.RAM_LIMIT_BYTES,
         [("tensor arena (host)", [d.costs.arena_bytes for d in deployments], "C1"),
          ("audio buffer", [d.costs.io_bytes for d in deployments], "C2"),
          ("other firmware RAM", [d.costs.ram_overhead for d in deployments], "0.75")]),
    )  # fmt: skip
    for ax, (what, limit, parts) in zip(axes, stacks, strict=True):
        left = np.zeros(len(names))
        for label, values, colour in parts:
            values = np.asarray(values, dtype=float) / kib
            ax.barh(y, values, left=left, color=colour, label=label, height=0.6)
            left += values
        ax.axvline(limit / kib, color="k", linestyle="--", linewidth=1, label=f"nRF52840 limit, {limit / kib:.0f} KiB")
        ax.set(xlabel=f"{what} (KiB)", xlim=(0, max(limit, left.max() * kib) / kib * 1.05))
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
        ax.set_title(f"{what}: model and firmware against the chip's", fontsize=10)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


def cost_band_figure(deployments: Sequence[Deployment]) -> plt.Figure:
    """Latency and energy per inference as a band (low-high, central marked): an estimate, not a measurement.

    The band is the calibrated one of :mod:`spoken100.nas.calibration` (a vendor-optimised engine to
    TFLM's reference kernels, the front end at its fitted rate); energy counts the CPU only
    (:mod:`spoken100.nas.costs`).
    """

    names = _names(deployments)
    y = np.arange(len(names))
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(names) + 1.6), sharey=True)
    panels = (
        ("estimated latency per inference (ms; band low–high)", [1e3 * d.costs.latency_s for d in deployments]),
        ("estimated CPU energy per inference (mJ; band low–high)", [d.costs.energy_mj for d in deployments]),
    )
    for ax, (label, bands) in zip(axes, panels, strict=True):
        low = np.array([b.low for b in bands])
        high = np.array([b.high for b in bands])
        central = np.array([b.central for b in bands])
        ax.hlines(y, low, high, color="C0", linewidth=6, alpha=0.35, label="estimate band")
        ax.plot(central, y, "|", color="C0", markersize=14, markeredgewidth=2, label="central (CMSIS-NN, calibrated)")
        ax.set(xlabel=label, xlim=(0, high.max() * 1.15 if len(high) else 1))
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    fig.suptitle(f"nRF52840 @ {cost_model.CLOCK_HZ / 1e6:.0f} MHz: estimated from MACs per class with calibrated "
                 "cycles per MAC (not measured on a board)", fontsize=10)  # fmt: skip
    fig.tight_layout()
    return fig


# ---- C array export ----------------------------------------------------------------------------
def c_array_source(data: bytes, name: str = "g_model", header: str = "model_data.h",
                   alignment: int = C_ARRAY_ALIGNMENT) -> str:  # fmt: skip
    """The ``.cc`` text of :func:`export_c_array` (the bytes as an aligned ``const unsigned char`` array)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a C identifier")
    data = bytes(data)
    body = ",\n".join(
        "  " + ", ".join(f"0x{b:02x}" for b in data[i : i + C_ARRAY_BYTES_PER_LINE])
        for i in range(0, len(data), C_ARRAY_BYTES_PER_LINE)
    )
    return (
        f"// {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}.\n"
        "// Written by spoken100.nas.deploy.export_c_array (like `xxd -i`, with alignment).\n"
        f'#include "{header}"\n\n'
        f"alignas({alignment}) const unsigned char {name}[] = {{\n{body}\n}};\n"
        f"const unsigned int {name}_len = {len(data)};\n"
    )


def c_array_header(data: bytes, name: str = "g_model", header: str = "model_data.h") -> str:
    """The ``.h`` text of :func:`export_c_array`: the array's and its length's declarations."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a C identifier")
    guard = re.sub(r"[^A-Za-z0-9]", "_", header).upper() + "_"
    return (
        f"// {len(bytes(data))} bytes. Written by spoken100.nas.deploy.export_c_array.\n"
        f"#ifndef {guard}\n#define {guard}\n\n"
        f"extern const unsigned char {name}[];\n"
        f"extern const unsigned int {name}_len;\n\n"
        f"#endif  // {guard}\n"
    )


def export_c_array(
    model_bytes: bytes, out_dir: str | Path, name: str = "g_model", stem: str = "model_data"
) -> tuple[Path, Path]:
    """Write ``<stem>.cc`` and ``<stem>.h``: the bytes as a C array for the firmware, as ``xxd -i`` would.

    The ``.cc`` defines ``alignas(16) const unsigned char <name>[]`` (TFLM reads the flatbuffer in
    place from flash, so the array must be aligned) and ``const unsigned int <name>_len``; the
    ``.h`` declares both. Both files are written atomically.

    model_bytes: the ``.tflite`` bytes (or any bytes: e.g. an int8 test input, with ``name="g_clip",
        stem="clip_data"``).
    out_dir: created if missing.
    name: the C identifier of the array.

    Returns ``(cc_path, h_path)``. :func:`read_c_array` reads the bytes back.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cc, h = out / f"{stem}.cc", out / f"{stem}.h"
    atomic.write_text(h, c_array_header(model_bytes, name, h.name))
    atomic.write_text(cc, c_array_source(model_bytes, name, h.name))
    return cc, h


def read_c_array(cc_path: str | Path) -> bytes:
    """The bytes of a C array written by :func:`export_c_array` (or ``xxd -i``), checked against its length."""
    text = Path(cc_path).read_text()
    match = re.search(r"\[\]\s*=\s*\{(.*?)\};", text, flags=re.S)
    if match is None:
        raise ValueError(f"{cc_path}: no C array initialiser found")
    data = bytes(int(token, 16) for token in re.findall(r"0x([0-9a-fA-F]{2})", match.group(1)))
    length = re.search(r"_len\s*=\s*(\d+)\s*;", text)
    if length is not None and int(length.group(1)) != len(data):
        raise ValueError(f"{cc_path}: the length constant says {length.group(1)} bytes, the array holds {len(data)}")
    return data


__all__ = [
    "KERAS_TO_TFLITE_OP",
    "ROLES",
    "BitExactness",
    "Deployment",
    "Pick",
    "bit_exactness",
    "c_array_header",
    "c_array_source",
    "compare_outputs",
    "cost_band_figure",
    "calibration_set",
    "deployment_report",
    "deployment_split",
    "deployment_table",
    "exactness_table",
    "export_firmware_bundle",
    "findings",
    "export_c_array",
    "first_divergence",
    "locate_divergences",
    "memory_figure",
    "op_resolver_code",
    "op_table",
    "picked_models",
    "picks_table",
    "published_picks",
    "read_c_array",
    "spread_indices",
]
