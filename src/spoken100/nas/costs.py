"""Costs of a candidate on the nRF52840: MACs, flash, RAM, an estimated latency/energy band, fitness.

Nothing here is measured on the board. Flash and RAM add stated runtime overheads to the int8
model size and the host-measured TFLite Micro arena; latency and energy are **order-of-magnitude
estimates** from the MAC count, calibrated on MLPerf Tiny Cortex-M4 results (tinyml-anchors §C.2).

Assumptions (each a module constant, overridable per call):

* **Clock** 64 MHz, Cortex-M4F (:data:`CLOCK_HZ`; tinyml-anchors §C.1, Zephyr nRF52840 DK docs).
* **Cycles per MAC** low 3.2 / central 4.5 / high 8.2 (:data:`CYCLES_PER_MAC`): the DS-CNN (2.66 M
  MACs) measured on Cortex-M4 with Plumerai's engine (3.2), microTVM + CMSIS-NN (4.5) and the TFLM
  2.3.1 reference kernels (8.2) (tinyml-anchors §C.2, MLPerf Tiny v0.5/v1.0). The lab's firmware
  uses TFLM with CMSIS-NN kernels (paper-facts §6), hence the central value. Elementwise ops
  (ABS, MAXIMUM, MUL, ADD), pooling and softmax are not counted: a few operations per element
  against hundreds of MACs per element in the DFT.
* **Energy** = latency x 3.3 mA x 3.0 V (:data:`CPU_CURRENT_A`, :data:`SUPPLY_V`): CPU running from
  flash at ~52 uA/MHz with the DC/DC regulator (tinyml-anchors §C.1, nRF52840 product
  specification [verify]). The lab measured the whole board with a PPK2 at 3.3 V (paper-facts §6),
  which is higher (4.37 mA mean in its example).
* **Flash** = int8 model bytes + :data:`FLASH_OVERHEAD_BYTES` (213,497 B). tinyml-anchors gives no
  firmware code size, so the overhead is the whole-firmware ROM the lab's toolchain reported for an
  nRF52840 build (Zephyr + TFLM + CMSIS-NN + USB console) with a test model inside
  (paper-facts §6; ankilab/EdgeVolution ``tools/test_models_pool/results.json``). That model's size
  is unknown, so the overhead is overstated by it -- conservative for :func:`fits`. The lab's own
  ROM is also the whole firmware (``rom.json`` total), so this is the quantity its fitness uses.
* **RAM** = arena + audio buffer + :data:`RAM_OVERHEAD_BYTES` (19,428 B). The audio buffer holds
  the clip as 16-bit PCM before it is quantised into the input tensor (``2 x n_samples`` bytes);
  the input and output tensors themselves live in the arena. The overhead is the same firmware's
  RAM total (178,148 B) minus its 155 KiB tensor arena (paper-facts §6) [derived]: stack, kernel
  and USB buffers.
* **Limits** 1 MiB flash and 256 KiB RAM (:func:`fits`; tinyml-anchors §C.1).

The fitness is the lab's ``0.6 acc + 0.2 min(1, ROM_min / ROM) + 0.2 min(1, E_min / E)`` with
ROM_min = 100,000 B and E_min = 1 mJ (paper-facts §5.1, EdgeVolution ``spoken_100.yaml``; the
paper's own weights were not found).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from spoken100.nas.build import FRONTEND

if TYPE_CHECKING:  # pragma: no cover
    import keras

CLOCK_HZ = 64e6
CPU_CURRENT_A = 3.3e-3
SUPPLY_V = 3.0
FLASH_LIMIT_BYTES = 1024 * 1024
RAM_LIMIT_BYTES = 256 * 1024
FLASH_OVERHEAD_BYTES = 213_497
RAM_OVERHEAD_BYTES = 178_148 - 155 * 1024
#: Bytes per input sample held by the firmware before quantisation (16-bit PCM).
AUDIO_BYTES_PER_SAMPLE = 2
#: The lab's fitness (paper-facts §5.1): weights (accuracy, ROM, energy), ROM_min, E_min.
FITNESS_WEIGHTS = (0.6, 0.2, 0.2)
ROM_MIN_BYTES = 100_000
ENERGY_MIN_MJ = 1.0


@dataclass(frozen=True)
class Band:
    """An estimate as low / central / high (e.g. seconds or millijoules)."""

    low: float
    central: float
    high: float

    def __mul__(self, factor: float) -> Band:
        return Band(self.low * factor, self.central * factor, self.high * factor)

    __rmul__ = __mul__

    def __str__(self) -> str:
        return f"{self.central:.3g} ({self.low:.3g}-{self.high:.3g})"


#: Cortex-M4 cycles per int8 MAC (tinyml-anchors §C.2): vendor-optimised, CMSIS-NN, TFLM reference.
CYCLES_PER_MAC = Band(3.2, 4.5, 8.2)


# ---- MACs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerMACs:
    """Multiply-accumulates of one Keras layer (biases and elementwise ops not counted)."""

    name: str
    kind: str
    stage: str  # "frontend", "features" or "head"
    macs: int
    params: int
    output_shape: tuple[int, ...]


def _stage(name: str) -> str:
    if name.startswith(FRONTEND):
        return "frontend"
    if name.startswith("head"):
        return "head"
    return "features"


def _shape(tensor) -> tuple[int, ...]:
    return tuple(int(d) if d is not None else 1 for d in tensor.shape[1:])


def layer_macs(model: keras.Model) -> list[LayerMACs]:
    """MACs per layer of a Keras model (batch of one).

    * ``Conv2D``: ``H_out W_out C_out k_h k_w C_in / groups`` -- this includes the fixed DFT,
      mel and log convolutions of the front end;
    * ``DepthwiseConv2D``: ``H_out W_out C_in m k_h k_w`` (``m`` the depth multiplier);
    * ``Dense``: ``units x inputs`` per position of any leading axes;
    * every other layer: 0 (pooling, activations, batch norm -- folded into the conv when
      converted --, elementwise ops).
    """
    import keras  # deferred: Keras loads TensorFlow; only model building needs it

    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        macs = 0
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)):
            out = _shape(layer.output)
            inp = _shape(layer.input)
            if isinstance(layer, keras.layers.DepthwiseConv2D):
                kh, kw = layer.kernel_size
                macs = int(np.prod(out)) * kh * kw
            elif isinstance(layer, keras.layers.Conv2D):
                kh, kw = layer.kernel_size
                macs = int(np.prod(out)) * kh * kw * inp[-1] // layer.groups
            else:
                macs = int(np.prod(out)) * inp[-1]
        out_shape = _shape(layer.output) if hasattr(layer, "output") else ()
        rows.append(LayerMACs(layer.name, kind, _stage(layer.name), int(macs), int(layer.count_params()), out_shape))
    return rows


def count_macs(model: keras.Model) -> dict[str, int]:
    """Total MACs per stage: ``{"frontend", "features", "head", "total"}``."""
    totals = {"frontend": 0, "features": 0, "head": 0}
    for row in layer_macs(model):
        totals[row.stage] += row.macs
    totals["total"] = sum(totals.values())
    return totals


# ---- latency, energy, memory --------------------------------------------------------------------
def estimate_latency(macs: int, cycles_per_mac: Band = CYCLES_PER_MAC, clock_hz: float = CLOCK_HZ) -> Band:
    """Seconds per inference: ``macs x cycles_per_mac / clock_hz`` (an estimate, see the module docstring)."""
    return Band(*(macs * c / clock_hz for c in (cycles_per_mac.low, cycles_per_mac.central, cycles_per_mac.high)))


def estimate_energy_mj(latency_s: Band, current_a: float = CPU_CURRENT_A, voltage: float = SUPPLY_V) -> Band:
    """Millijoules per inference: ``latency x current x voltage x 1000`` (CPU only)."""
    return latency_s * (current_a * voltage * 1000.0)


@dataclass(frozen=True)
class Costs:
    """Flash, RAM, MACs, latency and energy of one int8 candidate on the nRF52840.

    flash_bytes = model_bytes + flash_overhead; ram_bytes = arena_bytes + io_bytes + ram_overhead.
    latency_s and energy_mj are estimates (:class:`Band`), not measurements.
    """

    model_bytes: int
    flash_overhead: int
    flash_bytes: int
    arena_bytes: int
    io_bytes: int
    ram_overhead: int
    ram_bytes: int
    macs: int
    latency_s: Band
    energy_mj: Band

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def estimate_costs(
    model_bytes: bytes | int,
    arena_bytes: int,
    macs: int,
    n_samples: int = 8000,
    flash_overhead: int = FLASH_OVERHEAD_BYTES,
    ram_overhead: int = RAM_OVERHEAD_BYTES,
    cycles_per_mac: Band = CYCLES_PER_MAC,
    clock_hz: float = CLOCK_HZ,
    current_a: float = CPU_CURRENT_A,
    voltage: float = SUPPLY_V,
) -> Costs:
    """Combine the int8 model size, the measured arena and the MAC count into :class:`Costs`.

    model_bytes: the ``.tflite`` bytes or their length.
    arena_bytes: from :func:`spoken100.nas.tflite.arena_bytes`.
    macs: total MACs, e.g. ``count_macs(model)["total"]`` (front end included).
    n_samples: input length; sets the audio buffer (``2 x n_samples`` bytes).
    """
    size = len(model_bytes) if isinstance(model_bytes, (bytes, bytearray)) else int(model_bytes)
    io = AUDIO_BYTES_PER_SAMPLE * int(n_samples)
    latency = estimate_latency(macs, cycles_per_mac, clock_hz)
    return Costs(
        model_bytes=size,
        flash_overhead=int(flash_overhead),
        flash_bytes=size + int(flash_overhead),
        arena_bytes=int(arena_bytes),
        io_bytes=io,
        ram_overhead=int(ram_overhead),
        ram_bytes=int(arena_bytes) + io + int(ram_overhead),
        macs=int(macs),
        latency_s=latency,
        energy_mj=estimate_energy_mj(latency, current_a, voltage),
    )


def fits(costs: Costs, flash_limit: int = FLASH_LIMIT_BYTES, ram_limit: int = RAM_LIMIT_BYTES) -> bool:
    """``True`` when flash <= 1 MiB and RAM <= 256 KiB (the nRF52840's memories) or the given limits."""
    return costs.flash_bytes <= flash_limit and costs.ram_bytes <= ram_limit


def fitness(
    accuracy: float,
    rom_bytes: float,
    energy_mj: float,
    weights: tuple[float, float, float] = FITNESS_WEIGHTS,
    rom_min_bytes: float = ROM_MIN_BYTES,
    energy_min_mj: float = ENERGY_MIN_MJ,
) -> float:
    """The lab's weighted fitness: ``w_acc acc + w_rom min(1, ROM_min/ROM) + w_E min(1, E_min/E)``.

    As in EdgeVolution's ``fitness.py`` the energy term is 0 when ``energy_mj`` is 0 (no measurement).
    accuracy is a fraction in [0, 1]; rom_bytes the whole firmware ROM (e.g. ``Costs.flash_bytes``).
    """
    if not 0 <= accuracy <= 1:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy}")
    if rom_bytes <= 0:
        raise ValueError(f"rom_bytes must be positive, got {rom_bytes}")
    w_acc, w_rom, w_e = weights
    rom_term = min(1.0, rom_min_bytes / rom_bytes)
    energy_term = min(1.0, energy_min_mj / energy_mj) if energy_mj > 0 else 0.0
    return w_acc * accuracy + w_rom * rom_term + w_e * energy_term


def candidate_fitness(accuracy: float, costs: Costs, estimate: str = "central", **kwargs: Any) -> float:
    """:func:`fitness` with the ROM and (estimated) energy of ``costs``; ``estimate`` picks the band edge."""
    return fitness(accuracy, costs.flash_bytes, getattr(costs.energy_mj, estimate), **kwargs)
