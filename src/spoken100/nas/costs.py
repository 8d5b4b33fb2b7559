"""Costs of a candidate on the nRF52840: MACs, flash, RAM, an estimated latency/energy band, fitness.

Nothing here is measured on the board. Flash and RAM add stated runtime overheads to the int8
model size and the host-measured TFLite Micro arena; latency and energy are **estimates** from the
MAC count of each operation class (front end, dense, depthwise; :mod:`spoken100.nas.macs`) with
cycles per MAC **calibrated** on measured anchors (:mod:`spoken100.nas.calibration`: MLPerf Tiny's
DS-CNN on a Cortex-M4F with three kernel stacks, and the paper's ≈368 ms on the board). This one
calibrated model is used by the search, its latency budget, chapter 5 and chapter 6.

Assumptions (each a module constant, overridable per call):

* **Clock** 64 MHz, Cortex-M4F (:data:`CLOCK_HZ`, read from :mod:`spoken100.data.paper_facts`).
* **Cycles per MAC** per class, a band low / central / high (:data:`CYCLES_PER_MAC`, a
  :class:`~spoken100.nas.calibration.CyclesPerMac`): central = the board's stack (TFLM with
  CMSIS-NN kernels, paper-facts §6) with the front end's constant fitted on the paper's 368 ms;
  low = a vendor-optimised engine with the front end as cheap as any int8 convolution; high = the
  TFLM reference kernels. Elementwise ops (ABS, MAXIMUM, MUL, ADD), pooling and softmax are not
  counted: a few operations per element against hundreds of MACs per element in the DFT.
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

from dataclasses import asdict, dataclass, field
from typing import Any

from spoken100.nas.calibration import Band, CyclesPerMac, board_calibration, clock_hz
from spoken100.nas.macs import LayerMACs, MacClasses, count_macs, layer_macs, mac_classes

#: The nRF52840's CPU clock (paper_facts ``nrf52840_clock_mhz``).
CLOCK_HZ = clock_hz("nrf52840_clock_mhz")
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


#: Cortex-M4 cycles per MAC of each operation class on the board: the calibrated band
#: (:func:`spoken100.nas.calibration.board_calibration`).
CYCLES_PER_MAC: CyclesPerMac = board_calibration().cycles


def _classes(macs: MacClasses | int) -> MacClasses:
    """An int counts as dense int8 MACs (a network without front end or depthwise layers)."""
    return macs if isinstance(macs, MacClasses) else MacClasses(dense=int(macs))


# ---- latency, energy, memory --------------------------------------------------------------------
def estimate_latency(
    macs: MacClasses | int, cycles_per_mac: CyclesPerMac | Band = CYCLES_PER_MAC, clock_hz: float = CLOCK_HZ
) -> Band:
    """Seconds per inference: ``sum_c MACs_c x cycles_per_MAC_c / clock_hz`` (an estimate, see the module docstring).

    macs: MACs per class (:func:`spoken100.nas.macs.mac_classes` or :func:`~spoken100.nas.macs.genome_macs`);
        an int counts as dense MACs. cycles_per_mac: per class, or one :class:`Band` for every class.
    """
    cycles = cycles_per_mac if isinstance(cycles_per_mac, CyclesPerMac) else CyclesPerMac.uniform(cycles_per_mac)
    return cycles.latency_s(_classes(macs), clock_hz)


def frontend_latency(
    macs: MacClasses | int, cycles_per_mac: CyclesPerMac | Band = CYCLES_PER_MAC, clock_hz: float = CLOCK_HZ
) -> Band:
    """The front end's part of :func:`estimate_latency` (seconds)."""
    only = MacClasses(frontend=_classes(macs).frontend)
    return estimate_latency(only, cycles_per_mac, clock_hz)


def estimate_energy_mj(latency_s: Band, current_a: float = CPU_CURRENT_A, voltage: float = SUPPLY_V) -> Band:
    """Millijoules per inference: ``latency x current x voltage x 1000`` (CPU only)."""
    return latency_s * (current_a * voltage * 1000.0)


@dataclass(frozen=True)
class Costs:
    """Flash, RAM, MACs, latency and energy of one int8 candidate on the nRF52840.

    flash_bytes = model_bytes + flash_overhead; ram_bytes = arena_bytes + io_bytes + ram_overhead.
    latency_s and energy_mj are estimates (:class:`Band`), not measurements; frontend_latency_s is
    the front end's part of latency_s, and mac_classes the MACs per operation class.
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
    frontend_latency_s: Band = Band(0.0, 0.0, 0.0)
    mac_classes: MacClasses = field(default_factory=MacClasses)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def estimate_costs(
    model_bytes: bytes | int,
    arena_bytes: int,
    macs: MacClasses | int,
    n_samples: int = 8000,
    flash_overhead: int = FLASH_OVERHEAD_BYTES,
    ram_overhead: int = RAM_OVERHEAD_BYTES,
    cycles_per_mac: CyclesPerMac | Band = CYCLES_PER_MAC,
    clock_hz: float = CLOCK_HZ,
    current_a: float = CPU_CURRENT_A,
    voltage: float = SUPPLY_V,
) -> Costs:
    """Combine the int8 model size, the measured arena and the MAC count into :class:`Costs`.

    model_bytes: the ``.tflite`` bytes or their length.
    arena_bytes: from :func:`spoken100.nas.tflite.arena_bytes`.
    macs: MACs per class, e.g. ``mac_classes(model)`` (front end included); an int counts as dense MACs.
    n_samples: input length; sets the audio buffer (``2 x n_samples`` bytes).
    """
    size = len(model_bytes) if isinstance(model_bytes, (bytes, bytearray)) else int(model_bytes)
    io = AUDIO_BYTES_PER_SAMPLE * int(n_samples)
    classes = _classes(macs)
    latency = estimate_latency(classes, cycles_per_mac, clock_hz)
    return Costs(
        model_bytes=size,
        flash_overhead=int(flash_overhead),
        flash_bytes=size + int(flash_overhead),
        arena_bytes=int(arena_bytes),
        io_bytes=io,
        ram_overhead=int(ram_overhead),
        ram_bytes=int(arena_bytes) + io + int(ram_overhead),
        macs=classes.total,
        latency_s=latency,
        energy_mj=estimate_energy_mj(latency, current_a, voltage),
        frontend_latency_s=frontend_latency(classes, cycles_per_mac, clock_hz),
        mac_classes=classes,
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


__all__ = [
    "CLOCK_HZ",
    "CYCLES_PER_MAC",
    "Band",
    "Costs",
    "CyclesPerMac",
    "LayerMACs",
    "MacClasses",
    "candidate_fitness",
    "count_macs",
    "estimate_costs",
    "estimate_energy_mj",
    "estimate_latency",
    "fitness",
    "fits",
    "frontend_latency",
    "layer_macs",
    "mac_classes",
]
