"""The EvoNAS genome: validity of random, mutated and crossed genomes, JSON round trip, clear errors."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from spoken100.nas.genome import (
    DEFAULT_SPACE,
    Block,
    DenseLayer,
    Genome,
    GenomeError,
    Head,
    IntRange,
    Preprocessing,
    crossover,
    is_valid,
    mutate,
    random_genome,
    validate,
)

SEEDS = range(20)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_genomes_are_valid_and_round_trip(seed):
    g = random_genome(np.random.default_rng(seed))
    validate(g)
    assert Genome.from_json(g.to_json()) == g
    assert Genome.from_dict(json.loads(json.dumps(g.to_dict()))) == g
    assert g.genome_id() == Genome.from_json(g.to_json()).genome_id()
    assert 1 <= len(g.blocks) <= 8


def test_random_genome_is_reproducible_and_varied():
    a = random_genome(np.random.default_rng(7))
    assert a == random_genome(np.random.default_rng(7))
    ids = {random_genome(np.random.default_rng(s)).genome_id() for s in SEEDS}
    assert len(ids) == len(SEEDS)


@pytest.mark.parametrize("seed", SEEDS)
def test_mutation_keeps_validity_and_changes_something(seed):
    rng = np.random.default_rng(seed)
    g = random_genome(rng)
    for _ in range(5):
        child = mutate(g, rng)
        validate(child)
        assert child != g
        assert child.n_classes == g.n_classes
        g = child


@pytest.mark.parametrize("seed", SEEDS)
def test_crossover_keeps_validity(seed):
    rng = np.random.default_rng(seed)
    a, b = random_genome(rng), random_genome(rng)
    child = crossover(a, b, rng)
    validate(child)
    assert child.preprocessing == a.preprocessing
    assert child.head == b.head
    assert child.blocks[0] == a.blocks[0]
    assert child.blocks[-1] in b.blocks or len(child.blocks) == DEFAULT_SPACE.n_blocks.stop


def test_crossover_refuses_different_tasks():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="different tasks"):
        crossover(random_genome(rng, n_classes=4), random_genome(rng, n_classes=100), rng)


def test_default_genome_and_frames():
    g = Genome()
    validate(g)
    assert g.preprocessing.n_frames == 1 + (8000 - 112) // 256 == 31
    assert g.preprocessing.n_freqs == 57
    assert "STFT 112/256" in g.describe()


def test_lab_ranges_are_inclusive():
    hop = DEFAULT_SPACE.hop_length
    assert 64 in hop and 384 in hop and 396 not in hop and 72 not in hop
    assert DEFAULT_SPACE.n_mels.values()[-1] == 96
    assert 5 in IntRange(1, 5) and True not in IntRange(0, 5)


def test_validation_lists_every_problem():
    bad = Genome(
        preprocessing=Preprocessing(n_fft=9000),
        blocks=(Block(kind="dwconv", filters=8), Block(pool="max", pool_size=0)),
        head=Head(dense=(DenseLayer(units=0),)),
        n_classes=1,
    )
    with pytest.raises(GenomeError) as err:
        validate(bad)
    text = str(err.value)
    for fragment in ("n_fft=9000 exceeds n_samples", "filters must be None", "pool_size=0", "units=0", "n_classes=1"):
        assert fragment in text


def test_space_bounds_are_checked_only_with_a_space():
    g = replace(Genome(), preprocessing=Preprocessing(n_fft=100))  # not on the lab's 16-step grid
    assert is_valid(g, space=None)
    with pytest.raises(GenomeError, match="n_fft=100 outside 64..512 step 16"):
        validate(g)
    too_many = replace(Genome(), blocks=(Block(),) * 9)
    with pytest.raises(GenomeError, match="number of blocks=9"):
        validate(too_many)


def test_from_dict_rejects_garbage():
    with pytest.raises(GenomeError):
        Genome.from_dict({"preprocessing": {}, "blocks": [{"colour": "red"}], "head": {"dense": []}, "n_classes": 4})
    with pytest.raises(GenomeError):
        validate("not a genome")  # type: ignore[arg-type]
