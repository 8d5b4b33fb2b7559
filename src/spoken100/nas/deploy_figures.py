"""Chapter 6's figures: flash and RAM against the nRF52840's, and the estimated latency and energy band."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from spoken100.nas import costs as cost_model

if TYPE_CHECKING:  # pragma: no cover
    from spoken100.nas.deployment import Deployment


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
