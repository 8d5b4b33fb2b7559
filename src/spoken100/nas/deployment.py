"""Deploy one model to the nRF52840 with TensorFlow Lite Micro: the report, its cached artefact, the tables.

* :func:`deployment_report` -- one model, one test set: the float accuracy, the int8 accuracy in
  TensorFlow's TFLite interpreter with its *reference* kernels, the accuracy of the TFLM interpreter
  on the host, whether TFLM's int8 outputs are bit-identical to the reference ones
  (:mod:`spoken100.nas.exactness`), the host-measured tensor arena, flash and RAM with the
  firmware's overheads against the chip's limits, the latency/energy *estimate* (the calibrated
  band, :mod:`spoken100.nas.costs`) and the ops with their TFLM int8 support;
* :func:`cached_deployment_report` / :func:`deploy_picks` -- the same, kept as artefacts;
* :func:`deployment_table`, :func:`op_table`, :func:`findings` -- the reports side by side and the
  numbers the chapter's prose quotes.

**What is measured and what is estimated.** Accuracies, the bit-exactness, the model size and the
arena are measured on this machine (the arena with TFLM's host reference kernels; a Cortex-M build
with CMSIS-NN kernels needs different scratch buffers, tinyml-anchors §C.4). Flash and RAM add the
firmware overheads of :mod:`spoken100.nas.costs`; latency and energy are estimates from MACs and
are always shown as a band.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from spoken100.data import atomic
from spoken100.data.codehash import code_fingerprint
from spoken100.data.inputs import targets
from spoken100.nas import costs as cost_model
from spoken100.nas import tflite
from spoken100.nas.calibration import paper_fittest_estimate
from spoken100.nas.carray import resolver_method
from spoken100.nas.costs import Costs, estimate_costs, fits, mac_classes
from spoken100.nas.deploy_cache import array_digest, cache_file, model_fingerprint, tool_versions
from spoken100.nas.deploy_inputs import model_inputs, spread_indices
from spoken100.nas.exactness import BitExactness, compare_outputs
from spoken100.nas.tflite import INT8_OP_SUPPORT, quiet_tensorflow

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from spoken100.nas.picks import Pick
    from spoken100.nas.tflite import Representative


# ---- one model's deployment ------------------------------------------------------------------
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
    with quiet_tensorflow():
        # Direct calls rather than model.predict: predict builds a tf.data pipeline, whose C++
        # layer logs a spurious op-definition error when op determinism is on (as after training).
        float_probs = np.concatenate(
            [np.asarray(keras_model(X_test[i : i + batch_size], training=False))
             for i in range(0, len(X_test), batch_size)] or [np.zeros((0, int(keras_model.output_shape[-1])))]
        )  # fmt: skip
    seconds["float"] = time.perf_counter() - start

    start = time.perf_counter()
    with quiet_tensorflow():
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


# ---- cached reports --------------------------------------------------------------------------
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
        code_fingerprint(cached_deployment_report), tool_versions(), model_fingerprint(keras_model), array_digest(X_test, y_test, representative),
        name, sorted(options.items()),
    ], default=str).encode()).hexdigest()  # fmt: skip
    path = cache_file("reports", name, key, ".pkl")
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


# ---- tables ----------------------------------------------------------------------------------
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
               "resolver call": resolver_method(op) + "()"}  # fmt: skip
        row.update({d.name: "✓" if op in d.ops else "" for d in deployments})
        rows.append(row)
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
