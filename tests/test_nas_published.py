"""The six published EvoNAS models: located, verified, summarised and translated into genomes.

The files are not bundled (no licence); these tests use the developers' reference copy and skip
when it is absent. The lookup and checksum tests need no copy.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from spoken100.nas import published
from spoken100.nas.genome import validate

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPOKEN100_SHARED", ROOT.parent / "shared"))
MODELS = SHARED / "reference" / "evonas_models"
needs_models = pytest.mark.skipif(not MODELS.is_dir(), reason="reference copy of the published models absent")

#: Parameter counts of the published files (paper-facts §5.2, from their model.summary()).
PARAMS = {
    "languages_accurate": 18_264,
    "languages_fastest": 6_495,
    "languages_fittest": 5_379,
    "numbers_accurate": 22_968,
    "numbers_fastest": 18_111,
    "numbers_fittest": 9_315,
}


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setenv("SPOKEN100_SHARED", str(SHARED))


def test_missing_file_says_how_to_download(monkeypatch, tmp_path):
    monkeypatch.setenv("SPOKEN100_SHARED", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        published.published_model_path("numbers_fittest")
    text = str(err.value)
    assert published.MODELS_COMMIT in text and "curl" in text and "evonas_numbers_fittest.h5" in text
    with pytest.raises(KeyError):
        published.published_model_path("numbers_best")


def test_a_wrong_file_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("SPOKEN100_SHARED", str(tmp_path))
    target = published.user_models_dir() / "evonas_languages_fastest.h5"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not the model")
    with pytest.raises(ValueError, match="sha256"):
        published.published_model_path("languages_fastest")


@needs_models
def test_user_copy_is_found_first(monkeypatch, tmp_path):
    monkeypatch.setenv("SPOKEN100_SHARED", str(tmp_path))
    target = published.user_models_dir() / "evonas_languages_fittest.h5"
    target.parent.mkdir(parents=True)
    shutil.copy(MODELS / target.name, target)
    assert published.published_model_path("evonas_languages_fittest.h5") == target


@needs_models
def test_six_published_genomes(shared):
    genomes = published.published_genomes()
    assert list(genomes) == list(published.PUBLISHED_NAMES)
    for name, pg in genomes.items():
        validate(pg.genome)
        assert pg.summary.n_params == PARAMS[name]
        assert pg.genome.n_classes == (4 if pg.task == "languages" else 100)
        assert pg.summary.stft["win_length"] == pg.genome.preprocessing.n_fft
        assert pg.summary.mel["f_max"] == 8000 and pg.summary.mel["norm"] == "slaney"
        assert any("Magnitude" in note for note in pg.notes)
    for variant in ("accurate", "fastest", "fittest"):  # searched once, reused for both tasks
        a, b = genomes[f"languages_{variant}"].genome, genomes[f"numbers_{variant}"].genome
        assert a.blocks == b.blocks and a.preprocessing == b.preprocessing and a.head == b.head
        assert a == published.published_architecture(variant, 4)  # the written-out copy agrees
        assert b == published.published_architecture(variant, 100)
    acc = genomes["languages_accurate"]
    assert (acc.genome.preprocessing.n_fft, acc.genome.preprocessing.hop_length) == (96, 144)
    assert len(acc.genome.blocks) == 8 and acc.moved_batch_norms
    assert genomes["languages_fittest"].genome.describe().startswith("STFT 112/256 mag mel44 | DWk5s2 C8k3+MP3")


@needs_models
def test_published_macs_match_the_paper_facts(shared):
    pytest.importorskip("keras")
    from spoken100.nas.build import build_model
    from spoken100.nas.costs import count_macs

    # paper-facts §5.2 (derived): about 0.70 / 0.07 / 0.13 M MACs for the network with the mel
    # filter bank but without the STFT.
    for name, expected in (
        ("languages_accurate", 0.70e6),
        ("languages_fastest", 0.07e6),
        ("languages_fittest", 0.13e6),
    ):
        pg = published.published_genome(name)
        model = build_model(pg.genome)
        macs = count_macs(model)
        p = pg.genome.preprocessing
        mel = p.n_frames * p.n_freqs * p.n_mels
        assert macs["features"] + macs["head"] + mel == pytest.approx(expected, rel=0.05)
        assert model.count_params() - macs_frontend_constants(p) == PARAMS[name]


def macs_frontend_constants(p) -> int:
    return 2 * p.n_fft * p.n_freqs + p.n_freqs * p.n_mels


@needs_models
def test_trained_weights_load(shared):
    pytest.importorskip("keras")
    model, pg, notes = published.published_keras_model("languages_fittest")
    weights = published.read_weights(published.published_model_path("languages_fittest"))
    original, ours = pg.layer_map[0]
    kernel = model.get_layer(ours).get_weights()[0]
    assert (kernel == weights[original]["depthwise_kernel"]).all()
    _, acc, acc_notes = published.published_keras_model("numbers_accurate")
    assert any("moved before max-pooling" in n for n in acc_notes)
