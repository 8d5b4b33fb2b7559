"""A genome for EvoNAS on SpokeN-100: plain, JSON-serialisable data, with its search space.

A genome fully specifies one candidate network, from the raw 8,000-sample waveform to the class
probabilities (paper-facts §5.1: EvoNAS searches preprocessing and architecture together):

* :class:`Preprocessing` -- the STFT (``n_fft``, ``hop_length``, periodic Hann window of length
  ``n_fft``, no padding, as kapre's ``STFT`` in the published models), the spectrum (magnitude or
  power), the mel filter bank (``n_mels``, ``f_min``, ``f_max``, slaney norm) and an optional log
  compression. Every clip is 8,000 samples treated as 8 kHz (paper-facts §4.1).
* a tuple of :class:`Block` -- feature blocks, each ``Conv2D`` or ``DepthwiseConv2D`` ('same'
  padding, square kernel) followed by optional batch norm, optional ReLU and optional pooling, in
  that order.
* :class:`Head` -- global pooling, an optional dropout on the pooled features, then ``Dense`` + ReLU
  layers each followed by a dropout; the ``Dense(n_classes)`` softmax output is added by the builder.

The lab's EvoNAS genome is a flat list of layers with a rule set (paper-facts §5.1). Blocks are a
coarser grammar; all six published models fit it (see :mod:`spoken100.nas.published` for the one
reordering it needs).

Bounds (:class:`SearchSpace`, defaults = :data:`DEFAULT_SPACE`) come from the lab's search space
closest to the shipped models (paper-facts §5.1, ``search_space.json`` of ankilab/EdgeVolution; its
integer ranges are inclusive, its float ranges exclusive of the stop):

=================  =====================================  =====================================
gene               bounds here                            source
=================  =====================================  =====================================
``n_fft``          64..512 step 16                        lab: [64, 512] step 16
``hop_length``     64..384 step 16                        lab: [64, 396] step 16 (384 is the
                                                          largest value that step reaches)
``n_mels``         32..96 step 4                          lab: [32, 96] step 4
``f_max``          8000 Hz                                every shipped model (above the 4 kHz
                                                          Nyquist: the top mel bands are empty)
``spectrum``       magnitude, power                       kapre ``Magnitude`` in every shipped
                                                          model; power is this project's option
``compression``    none, log                              lab: ``MagnitudeToDecibel`` allowed,
                                                          unused by the shipped models
blocks             1..8                                   the "accurate" model needs 8 blocks
                                                          (17 layers); the later config caps
                                                          layers at 6
``filters``        4..32                                  lab: Conv2D filters [4, 32]
``kernel``         1..5                                   lab: kernel [1, 5]
``stride``         1..2                                   lab: stride [1, 2]
``pool``           none, max, avg; size 2..4              lab: Max/AveragePool, pool [2, 4]
global pooling     avg, max                               lab: GAP, GMP (Flatten is left out:
                                                          it makes flash explode)
dense layers       0..4, units 8..128 step 8              lab: <= 4 classification layers,
                                                          units [8, 128] step 8
dropout            0.0..0.4 step 0.1                      lab: [0, 0.5) step 0.1
=================  =====================================  =====================================

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> g = random_genome(rng)
>>> validate(g)
>>> Genome.from_json(g.to_json()) == g
True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from spoken100.data.tasks import N_SAMPLES

#: Samples per clip and the rate the paper treats them at (paper-facts §4.1).
SAMPLE_RATE = 8000

SPECTRA = ("magnitude", "power")
COMPRESSIONS = ("none", "log")
BLOCK_KINDS = ("conv", "dwconv")
POOLS = ("none", "max", "avg")
GLOBAL_POOLS = ("avg", "max")


class GenomeError(ValueError):
    """A genome breaks a structural rule or a bound of its search space; the message lists every problem."""


@dataclass(frozen=True)
class IntRange:
    """Integers ``start, start + step, ..., <= stop`` (inclusive, as the lab's gene pool)."""

    start: int
    stop: int
    step: int = 1

    def values(self) -> list[int]:
        return list(range(self.start, self.stop + 1, self.step))

    def __contains__(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.start <= value <= self.stop
            and (value - self.start) % self.step == 0
        )

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.choice(self.values()))

    def __str__(self) -> str:
        return f"{self.start}..{self.stop}" + (f" step {self.step}" if self.step != 1 else "")


@dataclass(frozen=True)
class SearchSpace:
    """Bounds of every gene (see the module docstring for their sources)."""

    n_fft: IntRange = IntRange(64, 512, 16)
    hop_length: IntRange = IntRange(64, 384, 16)
    n_mels: IntRange = IntRange(32, 96, 4)
    f_max: tuple[float, ...] = (8000.0,)
    spectrum: tuple[str, ...] = SPECTRA
    compression: tuple[str, ...] = COMPRESSIONS
    n_blocks: IntRange = IntRange(1, 8)
    block_kinds: tuple[str, ...] = BLOCK_KINDS
    filters: IntRange = IntRange(4, 32)
    kernel: IntRange = IntRange(1, 5)
    stride: IntRange = IntRange(1, 2)
    pools: tuple[str, ...] = POOLS
    pool_size: IntRange = IntRange(2, 4)
    global_pools: tuple[str, ...] = GLOBAL_POOLS
    n_dense: IntRange = IntRange(0, 4)
    units: IntRange = IntRange(8, 128, 8)
    dropout: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4)


#: The lab's search space (paper-facts §5.1), as used by default everywhere.
DEFAULT_SPACE = SearchSpace()


@dataclass(frozen=True)
class Preprocessing:
    """STFT -> spectrum -> mel filter bank -> optional log, all inside the model.

    n_samples, sample_rate: the input clip (the paper: 8,000 samples treated as 8 kHz).
    n_fft: frame and DFT length; the window is a periodic Hann of the same length (kapre's default).
    hop_length: frame step. Frames are not padded: ``1 + (n_samples - n_fft) // hop_length`` frames.
    n_mels, f_min, f_max: the mel filter bank (slaney scale and norm, as librosa's and kapre's defaults).
    spectrum: ``"magnitude"`` (kapre's ``Magnitude``, the published models) or ``"power"``.
    compression: ``"none"`` (the published models) or ``"log"`` (a piecewise-linear natural log that
        runs in int8; see :mod:`spoken100.nas.build`).
    """

    n_fft: int = 112
    hop_length: int = 256
    n_mels: int = 44
    f_min: float = 0.0
    f_max: float = 8000.0
    spectrum: str = "magnitude"
    compression: str = "none"
    n_samples: int = N_SAMPLES
    sample_rate: int = SAMPLE_RATE

    @property
    def n_freqs(self) -> int:
        """DFT bins kept: ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def n_frames(self) -> int:
        """STFT frames without padding: ``1 + (n_samples - n_fft) // hop_length``."""
        return 1 + (self.n_samples - self.n_fft) // self.hop_length


@dataclass(frozen=True)
class Block:
    """One feature block: conv -> [batch norm] -> [ReLU] -> [pooling].

    kind: ``"conv"`` (Conv2D with ``filters`` outputs) or ``"dwconv"`` (DepthwiseConv2D, depth
        multiplier 1; ``filters`` must be ``None``: the channel count is kept).
    kernel, stride: square kernel and stride of the convolution ('same' padding).
    pool: ``"none"``, ``"max"`` or ``"avg"``; ``pool_size`` is the square window and stride
        (0 when ``pool == "none"``).
    """

    kind: str = "conv"
    filters: int | None = 8
    kernel: int = 3
    stride: int = 1
    batch_norm: bool = False
    relu: bool = True
    pool: str = "none"
    pool_size: int = 0


@dataclass(frozen=True)
class DenseLayer:
    """``Dense(units)`` + ReLU, then ``Dropout(dropout)`` (inactive at inference)."""

    units: int = 32
    dropout: float = 0.0


@dataclass(frozen=True)
class Head:
    """Global pooling (``"avg"`` or ``"max"``), ``Dropout(input_dropout)``, then the dense layers."""

    pooling: str = "avg"
    input_dropout: float = 0.0
    dense: tuple[DenseLayer, ...] = (DenseLayer(),)


@dataclass(frozen=True)
class Genome:
    """A full candidate: preprocessing, feature blocks, head and the number of classes.

    ``n_classes`` is fixed by the task (4 languages or 100 numbers) and is never mutated.
    """

    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    blocks: tuple[Block, ...] = (Block(),)
    head: Head = field(default_factory=Head)
    n_classes: int = 4

    # ---- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        d = asdict(self)
        d["blocks"] = [dict(b) for b in d["blocks"]]
        d["head"]["dense"] = [dict(x) for x in d["head"]["dense"]]
        return d

    def to_json(self, indent: int | None = None) -> str:
        """Canonical JSON (sorted keys): equal genomes give equal strings."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Genome:
        """Inverse of :meth:`to_dict`; unknown or missing keys raise :class:`GenomeError`."""
        try:
            pre = Preprocessing(**d["preprocessing"])
            blocks = tuple(Block(**b) for b in d["blocks"])
            head_d = dict(d["head"])
            dense = tuple(DenseLayer(**x) for x in head_d.pop("dense"))
            head = Head(dense=dense, **head_d)
            return cls(preprocessing=pre, blocks=blocks, head=head, n_classes=d["n_classes"])
        except (KeyError, TypeError) as err:
            raise GenomeError(f"not a genome dict: {err}") from err

    @classmethod
    def from_json(cls, text: str) -> Genome:
        return cls.from_dict(json.loads(text))

    def genome_id(self) -> str:
        """A short stable id (sha256 of the canonical JSON), handy for caches and file names."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]

    def describe(self) -> str:
        """One line, e.g. ``STFT 112/256 mag mel44 | DW5s2 C8k3 MP3 | GAP D40 -> 4``."""
        p = self.preprocessing
        pre = f"STFT {p.n_fft}/{p.hop_length} {p.spectrum[:3]} mel{p.n_mels}" + (
            " log" if p.compression == "log" else ""
        )
        parts = []
        for b in self.blocks:
            s = ("C" + str(b.filters) if b.kind == "conv" else "DW") + f"k{b.kernel}" + ("s2" if b.stride == 2 else "")
            s += "+BN" * b.batch_norm + "+R" * b.relu
            if b.pool != "none":
                s += f"+{'MP' if b.pool == 'max' else 'AP'}{b.pool_size}"
            parts.append(s)
        head = ("GAP" if self.head.pooling == "avg" else "GMP") + "".join(f" D{x.units}" for x in self.head.dense)
        return f"{pre} | {' '.join(parts)} | {head} -> {self.n_classes}"


# ---- validation ---------------------------------------------------------------------------------
def _check_choice(problems: list[str], where: str, value: object, choices: tuple) -> None:
    if value not in choices:
        problems.append(f"{where}={value!r} not in {choices}")


def _check_range(problems: list[str], where: str, value: object, bounds: IntRange) -> None:
    if value not in bounds:
        problems.append(f"{where}={value!r} outside {bounds}")


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def validate(genome: Genome, space: SearchSpace | None = DEFAULT_SPACE) -> None:
    """Raise :class:`GenomeError` listing every problem of ``genome``; return ``None`` if it is valid.

    Structural rules always apply (types, ``n_fft <= n_samples``, at least one frame, depthwise
    blocks without ``filters``, ``pool_size == 0`` without pooling, ``n_classes >= 2``, ...). With a
    ``space`` (default: the lab's bounds) every gene must also lie inside its bounds; pass
    ``space=None`` to check structure only.
    """
    problems: list[str] = []
    if not isinstance(genome, Genome):
        raise GenomeError(f"expected a Genome, got {type(genome).__name__}")
    p = genome.preprocessing
    for name in ("n_fft", "hop_length", "n_mels", "n_samples", "sample_rate"):
        if not _is_int(getattr(p, name)) or getattr(p, name) <= 0:
            problems.append(f"preprocessing.{name}={getattr(p, name)!r} must be a positive int")
    if not problems:
        if p.n_fft > p.n_samples:
            problems.append(f"preprocessing.n_fft={p.n_fft} exceeds n_samples={p.n_samples}")
        if p.n_fft < 4:
            problems.append(f"preprocessing.n_fft={p.n_fft} is too short for a spectrum")
    if not isinstance(p.f_min, (int, float)) or not isinstance(p.f_max, (int, float)):
        problems.append("preprocessing.f_min and f_max must be numbers")
    elif not 0 <= p.f_min < p.f_max:
        problems.append(f"preprocessing needs 0 <= f_min < f_max, got {p.f_min}, {p.f_max}")
    elif _is_int(p.sample_rate) and p.f_min >= p.sample_rate / 2:
        problems.append(f"preprocessing.f_min={p.f_min} is at or above Nyquist ({p.sample_rate / 2} Hz)")
    _check_choice(problems, "preprocessing.spectrum", p.spectrum, SPECTRA)
    _check_choice(problems, "preprocessing.compression", p.compression, COMPRESSIONS)

    if not isinstance(genome.blocks, tuple) or not genome.blocks:
        problems.append("blocks must be a non-empty tuple")
    for i, b in enumerate(genome.blocks if isinstance(genome.blocks, tuple) else ()):
        w = f"blocks[{i}]"
        if not isinstance(b, Block):
            problems.append(f"{w} is not a Block")
            continue
        _check_choice(problems, f"{w}.kind", b.kind, BLOCK_KINDS)
        if b.kind == "conv" and (not _is_int(b.filters) or b.filters <= 0):
            problems.append(f"{w}.filters={b.filters!r} must be a positive int for a conv block")
        if b.kind == "dwconv" and b.filters is not None:
            problems.append(f"{w}.filters must be None for a depthwise block (depth multiplier 1)")
        for name in ("kernel", "stride"):
            if not _is_int(getattr(b, name)) or getattr(b, name) <= 0:
                problems.append(f"{w}.{name}={getattr(b, name)!r} must be a positive int")
        for name in ("batch_norm", "relu"):
            if not isinstance(getattr(b, name), bool):
                problems.append(f"{w}.{name} must be a bool")
        _check_choice(problems, f"{w}.pool", b.pool, POOLS)
        if b.pool == "none" and b.pool_size != 0:
            problems.append(f"{w}.pool_size must be 0 without pooling, got {b.pool_size!r}")
        if b.pool in ("max", "avg") and (not _is_int(b.pool_size) or b.pool_size < 2):
            problems.append(f"{w}.pool_size={b.pool_size!r} must be an int >= 2 with pooling")

    h = genome.head
    if not isinstance(h, Head):
        problems.append("head is not a Head")
    else:
        _check_choice(problems, "head.pooling", h.pooling, GLOBAL_POOLS)
        if not isinstance(h.input_dropout, (int, float)) or not 0 <= h.input_dropout < 1:
            problems.append(f"head.input_dropout={h.input_dropout!r} must be in [0, 1)")
        if not isinstance(h.dense, tuple):
            problems.append("head.dense must be a tuple")
        for j, d in enumerate(h.dense if isinstance(h.dense, tuple) else ()):
            if not isinstance(d, DenseLayer):
                problems.append(f"head.dense[{j}] is not a DenseLayer")
                continue
            if not _is_int(d.units) or d.units <= 0:
                problems.append(f"head.dense[{j}].units={d.units!r} must be a positive int")
            if not isinstance(d.dropout, (int, float)) or not 0 <= d.dropout < 1:
                problems.append(f"head.dense[{j}].dropout={d.dropout!r} must be in [0, 1)")
    if not _is_int(genome.n_classes) or genome.n_classes < 2:
        problems.append(f"n_classes={genome.n_classes!r} must be an int >= 2")

    if space is not None and not problems:
        _check_range(problems, "preprocessing.n_fft", p.n_fft, space.n_fft)
        _check_range(problems, "preprocessing.hop_length", p.hop_length, space.hop_length)
        _check_range(problems, "preprocessing.n_mels", p.n_mels, space.n_mels)
        _check_choice(problems, "preprocessing.f_max", float(p.f_max), tuple(float(f) for f in space.f_max))
        _check_choice(problems, "preprocessing.spectrum", p.spectrum, space.spectrum)
        _check_choice(problems, "preprocessing.compression", p.compression, space.compression)
        _check_range(problems, "number of blocks", len(genome.blocks), space.n_blocks)
        for i, b in enumerate(genome.blocks):
            w = f"blocks[{i}]"
            _check_choice(problems, f"{w}.kind", b.kind, space.block_kinds)
            if b.kind == "conv":
                _check_range(problems, f"{w}.filters", b.filters, space.filters)
            _check_range(problems, f"{w}.kernel", b.kernel, space.kernel)
            _check_range(problems, f"{w}.stride", b.stride, space.stride)
            _check_choice(problems, f"{w}.pool", b.pool, space.pools)
            if b.pool != "none":
                _check_range(problems, f"{w}.pool_size", b.pool_size, space.pool_size)
        _check_choice(problems, "head.pooling", h.pooling, space.global_pools)
        _check_range(problems, "number of dense layers", len(h.dense), space.n_dense)
        _check_choice(problems, "head.input_dropout", float(h.input_dropout), space.dropout)
        for j, d in enumerate(h.dense):
            _check_range(problems, f"head.dense[{j}].units", d.units, space.units)
            _check_choice(problems, f"head.dense[{j}].dropout", float(d.dropout), space.dropout)
    if problems:
        raise GenomeError("invalid genome:\n  - " + "\n  - ".join(problems))


def is_valid(genome: Genome, space: SearchSpace | None = DEFAULT_SPACE) -> bool:
    """``True`` when :func:`validate` passes."""
    try:
        validate(genome, space)
    except GenomeError:
        return False
    return True


# ---- sampling -----------------------------------------------------------------------------------
def _choice(rng: np.random.Generator, options: tuple) -> Any:
    value = options[int(rng.integers(len(options)))]
    return float(value) if isinstance(value, float) else value


def random_preprocessing(rng: np.random.Generator, space: SearchSpace = DEFAULT_SPACE) -> Preprocessing:
    """Uniform draw of every preprocessing gene inside ``space``."""
    return Preprocessing(
        n_fft=space.n_fft.sample(rng),
        hop_length=space.hop_length.sample(rng),
        n_mels=space.n_mels.sample(rng),
        f_max=_choice(rng, space.f_max),
        spectrum=_choice(rng, space.spectrum),
        compression=_choice(rng, space.compression),
    )


def random_block(rng: np.random.Generator, space: SearchSpace = DEFAULT_SPACE) -> Block:
    """A random feature block: kind, kernel, stride and pooling uniform; BN and ReLU each with p = 0.5."""
    kind = _choice(rng, space.block_kinds)
    pool = _choice(rng, space.pools)
    return Block(
        kind=kind,
        filters=space.filters.sample(rng) if kind == "conv" else None,
        kernel=space.kernel.sample(rng),
        stride=space.stride.sample(rng),
        batch_norm=bool(rng.random() < 0.5),
        relu=bool(rng.random() < 0.5),
        pool=pool,
        pool_size=space.pool_size.sample(rng) if pool != "none" else 0,
    )


def random_dense(rng: np.random.Generator, space: SearchSpace = DEFAULT_SPACE) -> DenseLayer:
    return DenseLayer(units=space.units.sample(rng), dropout=_choice(rng, space.dropout))


def random_head(rng: np.random.Generator, space: SearchSpace = DEFAULT_SPACE) -> Head:
    n = space.n_dense.sample(rng)
    return Head(
        pooling=_choice(rng, space.global_pools),
        input_dropout=_choice(rng, space.dropout),
        dense=tuple(random_dense(rng, space) for _ in range(n)),
    )


def random_genome(rng: np.random.Generator, space: SearchSpace = DEFAULT_SPACE, n_classes: int = 4) -> Genome:
    """A random valid genome: every gene drawn uniformly inside ``space`` (as EvoNAS's generation 1).

    rng: a ``numpy.random.Generator`` (e.g. ``np.random.default_rng(seed)``); the draw is reproducible.
    n_classes: 4 for the language task, 100 for numbers.
    """
    n_blocks = space.n_blocks.sample(rng)
    genome = Genome(
        preprocessing=random_preprocessing(rng, space),
        blocks=tuple(random_block(rng, space) for _ in range(n_blocks)),
        head=random_head(rng, space),
        n_classes=n_classes,
    )
    validate(genome, space)
    return genome


# ---- variation ----------------------------------------------------------------------------------
def _mutate_block(block: Block, rng: np.random.Generator, space: SearchSpace) -> Block:
    """Change one field of ``block`` (or redraw it whole, as EvoNAS's 'params' mutation)."""
    what = rng.choice(["redraw", "kind", "filters", "kernel", "stride", "batch_norm", "relu", "pool"])
    if what == "redraw":
        return random_block(rng, space)
    if what == "kind":
        kind = _choice(rng, space.block_kinds)
        return replace(block, kind=kind, filters=space.filters.sample(rng) if kind == "conv" else None)
    if what == "filters" and block.kind == "conv":
        return replace(block, filters=space.filters.sample(rng))
    if what == "kernel":
        return replace(block, kernel=space.kernel.sample(rng))
    if what == "stride":
        return replace(block, stride=space.stride.sample(rng))
    if what == "batch_norm":
        return replace(block, batch_norm=not block.batch_norm)
    if what == "relu":
        return replace(block, relu=not block.relu)
    pool = _choice(rng, space.pools)
    return replace(block, pool=pool, pool_size=space.pool_size.sample(rng) if pool != "none" else 0)


def _mutate_preprocessing(p: Preprocessing, rng: np.random.Generator, space: SearchSpace) -> Preprocessing:
    what = rng.choice(["n_fft", "hop_length", "n_mels", "f_max", "spectrum", "compression"])
    if what == "n_fft":
        return replace(p, n_fft=space.n_fft.sample(rng))
    if what == "hop_length":
        return replace(p, hop_length=space.hop_length.sample(rng))
    if what == "n_mels":
        return replace(p, n_mels=space.n_mels.sample(rng))
    if what == "f_max":
        return replace(p, f_max=_choice(rng, space.f_max))
    if what == "spectrum":
        return replace(p, spectrum=_choice(rng, space.spectrum))
    return replace(p, compression=_choice(rng, space.compression))


def _mutate_head(h: Head, rng: np.random.Generator, space: SearchSpace) -> Head:
    dense = list(h.dense)
    what = rng.choice(["pooling", "input_dropout", "add", "drop", "layer"])
    if what == "pooling":
        return replace(h, pooling=_choice(rng, space.global_pools))
    if what == "input_dropout":
        return replace(h, input_dropout=_choice(rng, space.dropout))
    if what == "add" and len(dense) < space.n_dense.stop:
        dense.insert(int(rng.integers(len(dense) + 1)), random_dense(rng, space))
    elif what == "drop" and len(dense) > space.n_dense.start:
        del dense[int(rng.integers(len(dense)))]
    elif dense:
        dense[int(rng.integers(len(dense)))] = random_dense(rng, space)
    return replace(h, dense=tuple(dense))


def _mutate_once(genome: Genome, rng: np.random.Generator, space: SearchSpace, rate: float) -> Genome:
    pre = _mutate_preprocessing(genome.preprocessing, rng, space) if rng.random() < rate else genome.preprocessing
    blocks: list[Block] = []
    for b in genome.blocks:
        if rng.random() >= rate:
            blocks.append(b)
            continue
        op = rng.choice(["drop", "add", "params"])  # EvoNAS's three mutations
        if op == "drop":
            continue
        if op == "add":
            blocks.extend([b, random_block(rng, space)])
        else:
            blocks.append(_mutate_block(b, rng, space))
    if not blocks:  # dropped everything: keep one of the old blocks
        blocks = [genome.blocks[int(rng.integers(len(genome.blocks)))]]
    blocks = blocks[: space.n_blocks.stop]
    head = _mutate_head(genome.head, rng, space) if rng.random() < rate else genome.head
    return replace(genome, preprocessing=pre, blocks=tuple(blocks), head=head)


def mutate(genome: Genome, rng: np.random.Generator, rate: float = 0.2, space: SearchSpace = DEFAULT_SPACE) -> Genome:
    """A mutated copy of ``genome``, always valid in ``space`` and always different from it.

    Each gene (the preprocessing, every block, the head) mutates with probability ``rate``. A block
    mutation is, uniformly, EvoNAS's *drop*, *add* (a random block after it) or *params* (one field
    changed or the whole block redrawn); see paper-facts §5.1. If nothing changed, the draw is
    repeated, so the child always differs from its parent.
    """
    validate(genome, space)
    if not 0 < rate <= 1:
        raise ValueError(f"rate must be in (0, 1], got {rate}")
    for _ in range(100):
        child = _mutate_once(genome, rng, space, rate)
        if child != genome and is_valid(child, space):
            return child
    # Practically unreachable: force a change on the block list.
    child = replace(genome, blocks=(*genome.blocks[: space.n_blocks.stop - 1], random_block(rng, space)))
    validate(child, space)
    return child


def crossover(a: Genome, b: Genome, rng: np.random.Generator, space: SearchSpace = DEFAULT_SPACE) -> Genome:
    """One child of ``a`` and ``b`` by EvoNAS's one-point crossover on the feature layers.

    The child takes ``a``'s preprocessing and first ``i >= 1`` blocks, then ``b``'s blocks from a
    cut ``j`` on, and ``b``'s head (paper-facts §5.1: one cut per parent between the first conv and
    the global pooling). Too many blocks are cut from the end. Both parents must solve the same task.
    Call it as ``crossover(b, a, rng)`` for the second child.
    """
    validate(a, space)
    validate(b, space)
    if a.n_classes != b.n_classes:
        raise ValueError(f"parents solve different tasks: n_classes {a.n_classes} vs {b.n_classes}")
    i = int(rng.integers(1, len(a.blocks) + 1))
    j = int(rng.integers(0, len(b.blocks)))
    blocks = (a.blocks[:i] + b.blocks[j:])[: space.n_blocks.stop]
    child = Genome(preprocessing=a.preprocessing, blocks=blocks, head=b.head, n_classes=a.n_classes)
    validate(child, space)
    return child
