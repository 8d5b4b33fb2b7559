"""Calibrate the latency model's cycles per MAC on measured anchors, per operation class.

The latency of one inference is estimated as ``sum_c MACs_c x cycles_per_MAC_c / f_clock`` over
the operation classes of :mod:`spoken100.nas.macs` (``frontend``, ``dense``, ``depthwise``). The
cycles per MAC are not guessed: they are fitted here on measured latencies (the *anchors*), each
read with its source from :mod:`spoken100.data.paper_facts`, and every clock rate is scaled
explicitly (the cycles per MAC of a Cortex-M4 at 120 MHz are assumed to hold at 64 MHz, i.e. no
extra memory stalls from the clock change).

**Anchors** (:func:`anchors`):

* MLPerf Tiny keyword spotting, DS-CNN (layer list :data:`DS_CNN`, 2.66 M MACs, no front end: the
  MFCCs are computed outside the timed network), on a Cortex-M4F at 120 MHz, with three kernel
  stacks: TFLite Micro's *reference* kernels (181.9 ms), microTVM with *CMSIS-NN* kernels
  (99.8 ms) and a *vendor*-optimised engine (Plumerai, 71.7 ms). Each fits the dense cycles per
  MAC of its stack.
* The paper's ≈368 ms on the nRF52840 at 64 MHz (TFLite Micro with CMSIS-NN kernels, paper-facts
  §6). It fits the front end's cycles per MAC: the DFT front end holds most of that model's MACs.
  **This anchor is uncertain**: only a secondary summary of the paper attributes it to the fittest
  number model (paper-facts §9); the paper's own tables could not be read.
* A check, not fitted: the same DS-CNN with CMSIS-NN on an nRF5340 (Cortex-M33 at 128 MHz). Its
  ratio shows how far the constants carry to another core.

**Fitted constants and fixed priors.** Four anchors fit four constants exactly (the residuals of
the fitted anchors are 1 by construction; only the check has a real residual):

* ``dense`` cycles per MAC of the vendor, CMSIS-NN and reference stacks (fitted on the DS-CNN);
* ``frontend`` cycles per MAC on the board (fitted on the 368 ms, with the network part of that
  model charged at the CMSIS-NN rate);
* ``depthwise`` = :data:`DEPTHWISE_RATIO` x ``dense`` -- a **fixed prior**: the DS-CNN anchors
  all mix depthwise and dense MACs in the same proportion (11 % depthwise), so they cannot
  separate the two; the prior 1 charges them alike;
* float against int8 kernels is **not identified**: every anchor ran an int8 network, and every
  model of this book is full-integer int8. If the paper's front end ran partly in float or in
  reference kernels (kapre's patched STFT, paper-facts §6), that cost is inside the fitted
  ``frontend`` constant.

**The band** (:func:`calibrate`): *central* -- the board's stack (CMSIS-NN) and the fitted front
end; *low* -- the vendor engine, with the front end as cheap per MAC as any int8 convolution (as
if the 368 ms were not this model's, or its front end were slow for reasons ours avoids);
*high* -- the reference kernels, with the fitted front end. So the band covers every anchor.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pandas as pd

from spoken100.data import paper_facts
from spoken100.data.tasks import TASK_CLASSES
from spoken100.nas.macs import MAC_CLASSES, MacClasses, genome_macs
from spoken100.nas.published import published_architecture

#: Fixed prior: depthwise cycles per MAC relative to dense ones of the same stack (not identified).
DEPTHWISE_RATIO = 1.0
#: The MLPerf Tiny keyword-spotting DS-CNN (``mlcommons/tiny``, ``benchmark/training/keyword_spotting/
#: keras_model.py``): a 49 x 10 MFCC input, Conv2D(64, 10x4, stride 2, 'same'), four blocks of a 3x3
#: depthwise and a 1x1 pointwise convolution with 64 channels, average pooling, Dense(12).
DS_CNN = {"input": (49, 10), "filters": 64, "kernel": (10, 4), "stride": 2, "blocks": 4, "dw_kernel": 3,
          "classes": 12}  # fmt: skip
#: Kernel stacks in band order (low, central, high).
STACKS = ("vendor", "cmsis-nn", "reference")


@dataclass(frozen=True)
class Band:
    """An estimate as low / central / high (e.g. seconds or millijoules)."""

    low: float
    central: float
    high: float

    def __mul__(self, factor: float) -> Band:
        return Band(self.low * factor, self.central * factor, self.high * factor)

    __rmul__ = __mul__

    def __add__(self, other: Band) -> Band:
        return Band(self.low + other.low, self.central + other.central, self.high + other.high)

    def __str__(self) -> str:
        return f"{self.central:.3g} ({self.low:.3g}-{self.high:.3g})"


@dataclass(frozen=True)
class CyclesPerMac:
    """Cycles per MAC of each operation class, each a :class:`Band` (low / central / high)."""

    frontend: Band
    dense: Band
    depthwise: Band

    @classmethod
    def uniform(cls, band: Band) -> CyclesPerMac:
        """The same band for every class (the cost model before calibration)."""
        return cls(band, band, band)

    def cycles(self, macs: MacClasses) -> dict[str, Band]:
        """Cycles per class: ``MACs_c x cycles_per_MAC_c``."""
        return {c: getattr(self, c) * getattr(macs, c) for c in MAC_CLASSES}

    def latency_s(self, macs: MacClasses, clock_hz: float) -> Band:
        """Seconds per inference at ``clock_hz``."""
        parts = self.cycles(macs).values()
        return functools.reduce(Band.__add__, parts) * (1.0 / clock_hz)


def clock_hz(key: str) -> float:
    """A published clock rate (``paper_facts`` key, in MHz) in Hz."""
    return paper_facts.figure(key).value * 1e6


def ds_cnn_layers() -> list[tuple[str, str, int]]:
    """``(layer, op class, MACs)`` of the MLPerf Tiny DS-CNN (:data:`DS_CNN`), 'same' padding."""
    h, w = DS_CNN["input"]
    s, f = DS_CNN["stride"], DS_CNN["filters"]
    h, w = -(-h // s), -(-w // s)
    kh, kw = DS_CNN["kernel"]
    rows = [("conv1", "dense", h * w * f * kh * kw)]
    for i in range(1, DS_CNN["blocks"] + 1):
        rows.append((f"dw{i}", "depthwise", h * w * f * DS_CNN["dw_kernel"] ** 2))
        rows.append((f"pw{i}", "dense", h * w * f * f))
    rows.append(("fc", "dense", f * DS_CNN["classes"]))
    return rows


def ds_cnn_macs() -> MacClasses:
    """The DS-CNN's MACs per class (no front end: MLPerf times the network only)."""
    totals = dict.fromkeys(MAC_CLASSES, 0)
    for _, op_class, macs in ds_cnn_layers():
        totals[op_class] += macs
    return MacClasses(**totals)


def paper_fittest_macs() -> MacClasses:
    """MACs per class of the paper's fittest number model (100 classes), as this package builds it."""
    return genome_macs(published_architecture("fittest", TASK_CLASSES["number"]))


@dataclass(frozen=True)
class Anchor:
    """One measured latency: what ran, where, and which constant it fits (``role`` ``"fit"``) or checks."""

    key: str
    label: str
    stack: str
    clock_key: str
    macs: MacClasses
    role: str
    fits: str
    caveat: str = ""

    @property
    def measured_ms(self) -> float:
        return float(paper_facts.figure(self.key).value)

    @property
    def cycles(self) -> float:
        """Measured cycles per inference: latency x clock."""
        return self.measured_ms * 1e-3 * clock_hz(self.clock_key)


def anchors() -> tuple[Anchor, ...]:
    """The anchors of the calibration (see the module docstring), in table order."""
    ds = ds_cnn_macs()
    m4 = "mlperf_kws_l4r5zi_clock_mhz"
    return (
        Anchor("mlperf_kws_vendor_ms", "MLPerf Tiny DS-CNN, vendor engine (Plumerai), Cortex-M4F", "vendor", m4, ds,
               "fit", "dense, vendor"),
        Anchor("mlperf_kws_cmsis_nn_ms", "MLPerf Tiny DS-CNN, CMSIS-NN (microTVM), Cortex-M4F", "cmsis-nn", m4, ds,
               "fit", "dense, CMSIS-NN"),
        Anchor("mlperf_kws_reference_ms", "MLPerf Tiny DS-CNN, TFLite Micro reference kernels, Cortex-M4F",
               "reference", m4, ds, "fit", "dense, reference"),
        Anchor("evonas_fittest_latency_ms", "the paper's fittest number model, nRF52840 (TFLM + CMSIS-NN)",
               "cmsis-nn", "nrf52840_clock_mhz", paper_fittest_macs(), "fit", "front end, board",
               "uncertain: only a secondary summary attributes the 368 ms to this model"),
        Anchor("mlperf_kws_nrf5340_cmsis_nn_ms", "MLPerf Tiny DS-CNN, CMSIS-NN (microTVM), nRF5340 Cortex-M33",
               "cmsis-nn", "mlperf_kws_nrf5340_clock_mhz", ds, "check", "none (a check on another core)"),
    )  # fmt: skip


@dataclass(frozen=True)
class Calibration:
    """The fitted constants, the board's band and the anchors it was fitted on.

    dense: cycles per dense MAC of each stack (:data:`STACKS`); frontend: cycles per front-end
    MAC on the board; depthwise_ratio: the fixed prior; cycles: the board's band per class.
    """

    dense: dict[str, float]
    frontend: float
    depthwise_ratio: float
    cycles: CyclesPerMac
    anchors: tuple[Anchor, ...] = field(repr=False)

    def stack_cycles(self, stack: str) -> CyclesPerMac:
        """Point constants of one stack (low = central = high), the front end at the fitted rate."""
        d = self.dense[stack]
        one = Band(d, d, d)
        return CyclesPerMac(Band(self.frontend, self.frontend, self.frontend), one, one * self.depthwise_ratio)


def _network_cycles_per_dense_mac(macs: MacClasses, ratio: float) -> float:
    """Dense-equivalent MACs of the network part: ``dense + ratio x depthwise``."""
    return macs.dense + ratio * macs.depthwise


def calibrate(depthwise_ratio: float = DEPTHWISE_RATIO) -> Calibration:
    """Fit the cycles per MAC on :func:`anchors` (see the module docstring for what is fitted).

    depthwise_ratio: the fixed prior (depthwise cycles per MAC / dense ones); try 2 or 3 to see how
        a depthwise-heavy model's estimate moves.
    """
    if depthwise_ratio <= 0:
        raise ValueError(f"depthwise_ratio must be positive, got {depthwise_ratio}")
    fitted = [a for a in anchors() if a.role == "fit"]
    dense: dict[str, float] = {}
    for a in fitted:
        if a.macs.frontend == 0:
            dense[a.stack] = a.cycles / _network_cycles_per_dense_mac(a.macs, depthwise_ratio)
    missing = sorted(set(STACKS) - set(dense))
    if missing:
        raise ValueError(f"no network-only anchor for the stack(s) {missing}")
    board = [a for a in fitted if a.macs.frontend > 0]
    if len(board) != 1:
        raise ValueError("exactly one anchor with a front end is needed to fit the front end's constant")
    b = board[0]
    network = dense[b.stack] * _network_cycles_per_dense_mac(b.macs, depthwise_ratio)
    frontend = (b.cycles - network) / b.macs.frontend
    if frontend <= 0:
        raise ValueError(f"the network alone explains more than the {b.key} anchor; no front-end cost left")
    low, central, high = (dense[s] for s in STACKS)
    cycles = CyclesPerMac(
        frontend=Band(low, frontend, max(frontend, high)),
        dense=Band(low, central, high),
        depthwise=Band(low, central, high) * depthwise_ratio,
    )
    return Calibration(dense, frontend, depthwise_ratio, cycles, anchors())


@functools.cache
def board_calibration() -> Calibration:
    """:func:`calibrate` with the default prior: the one calibration the search and the chapters use."""
    return calibrate()


def estimate_ms(macs: MacClasses, clock_key: str, cycles: CyclesPerMac | None = None) -> Band:
    """Estimated milliseconds of ``macs`` at a published clock (default: the board's calibrated band)."""
    cycles = cycles or board_calibration().cycles
    return cycles.latency_s(macs, clock_hz(clock_key)) * 1e3


def paper_fittest_estimate(task: str = "number", cal: Calibration | None = None) -> Band:
    """The calibrated latency estimate (ms) of the paper's fittest architecture for ``task`` on the board.

    From the architecture's MACs per class alone (no training). For the number task it is the
    architecture the paper's ≈368 ms is attributed to -- the anchor the front end is fitted on.
    """
    macs = genome_macs(published_architecture("fittest", TASK_CLASSES[task]))
    return estimate_ms(macs, "nrf52840_clock_mhz", (cal or board_calibration()).cycles)


def calibration_table(cal: Calibration | None = None) -> pd.DataFrame:
    """The residuals: one row per anchor with its source, the measurement and the estimate.

    ``estimated ms, its stack`` uses the point constants of the anchor's own stack (the CMSIS-NN
    stack for the board), ``ratio`` is that estimate over the measurement, and the band columns
    give the board's calibrated band at the anchor's clock. Fitted anchors have ratio 1 by
    construction; the check anchor's ratio is a real residual.
    """
    cal = cal or board_calibration()
    rows = []
    for a in cal.anchors:
        fig = paper_facts.figure(a.key)
        own = estimate_ms(a.macs, a.clock_key, cal.stack_cycles(a.stack)).central
        band = estimate_ms(a.macs, a.clock_key, cal.cycles)
        rows.append({
            "anchor": a.label,
            "source": fig.cite(),
            "clock MHz": clock_hz(a.clock_key) / 1e6,
            "MACs (M)": a.macs.total / 1e6,
            "front end % of MACs": 100 * a.macs.frontend / a.macs.total,
            "measured ms": a.measured_ms,
            "estimated ms, its stack": own,
            "ratio estimated / measured": own / a.measured_ms,
            "estimated ms, band low": band.low,
            "estimated ms, band central": band.central,
            "estimated ms, band high": band.high,
            "in band": band.low <= a.measured_ms <= band.high,
            "role": "fitted" if a.role == "fit" else "check",
            "constant": a.fits,
            "caveat": a.caveat,
        })  # fmt: skip
    return pd.DataFrame(rows)


def constants_table(cal: Calibration | None = None) -> pd.DataFrame:
    """The board's cycles per MAC per class (low / central / high) and how each edge was obtained."""
    cal = cal or board_calibration()
    how = {
        "frontend": ("= dense, vendor (prior: as cheap as any int8 conv)", "fitted on the paper's 368 ms",
                     "fitted on the paper's 368 ms (or dense, reference if larger)"),
        "dense": ("fitted: DS-CNN, vendor engine", "fitted: DS-CNN, CMSIS-NN", "fitted: DS-CNN, reference kernels"),
        "depthwise": (f"prior: {cal.depthwise_ratio:g} x dense",) * 3,
    }  # fmt: skip
    rows = []
    for c in MAC_CLASSES:
        b = getattr(cal.cycles, c)
        rows.append({"class": c, "low": b.low, "central": b.central, "high": b.high,
                     "low from": how[c][0], "central from": how[c][1], "high from": how[c][2]})  # fmt: skip
    return pd.DataFrame(rows)


def latency_breakdown(macs: MacClasses, clock_key: str = "nrf52840_clock_mhz",
                      cal: Calibration | None = None) -> dict[str, float]:  # fmt: skip
    """The front end's share of MACs and of the estimated latency (central), with the band, for one model."""
    cal = cal or board_calibration()
    cycles = cal.cycles.cycles(macs)
    total = functools.reduce(Band.__add__, cycles.values())
    band = estimate_ms(macs, clock_key, cal.cycles)
    return {
        "MACs": macs.total,
        "front end % of MACs": 100 * macs.frontend / macs.total if macs.total else float("nan"),
        "front end % of est. latency (central)": 100 * cycles["frontend"].central / total.central
        if total.central
        else float("nan"),
        "est. latency ms, low": band.low,
        "est. latency ms, central": band.central,
        "est. latency ms, high": band.high,
    }


__all__ = [
    "DEPTHWISE_RATIO",
    "DS_CNN",
    "STACKS",
    "Anchor",
    "Band",
    "Calibration",
    "CyclesPerMac",
    "anchors",
    "board_calibration",
    "calibrate",
    "calibration_table",
    "constants_table",
    "ds_cnn_layers",
    "ds_cnn_macs",
    "estimate_ms",
    "latency_breakdown",
    "paper_fittest_estimate",
    "paper_fittest_macs",
]
