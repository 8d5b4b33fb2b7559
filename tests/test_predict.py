"""``spoken100 predict``: the clip's checks and preprocessing, the model's checks, labels, the command."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from spoken100.data.layout import LANGUAGES
from spoken100.nas.predict import ClipError, ModelError, check_model, class_labels, load_clip_for_model, predict_file
from tests.conftest import tone


def _convert(model, n_samples: int = 8000) -> bytes:
    from spoken100.nas import tflite

    return tflite.to_int8(model, tflite.noise_dataset(n=8, n_samples=n_samples))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny int8 models: a 4-class genome model, a 100-class dense model and two wrongly shaped ones."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("tflite_micro")
    import keras

    from spoken100.nas.build import build_model
    from spoken100.nas.genome import Block, Genome, Head, Preprocessing

    folder = tmp_path_factory.mktemp("models")
    genome = Genome(Preprocessing(n_fft=64, hop_length=256, n_mels=16), (Block("conv", 4, 3, 2),), Head("avg", 0.0, ()))

    def dense(n_in: int, n_out: int):
        keras.utils.set_random_seed(0)
        return keras.Sequential([keras.Input((n_in,)), keras.layers.Dense(n_out, activation="softmax")])

    paths = {}
    for key, data in (
        ("language", _convert(build_model(genome, seed=2))),
        ("number", _convert(dense(8000, 100))),
        ("short_input", _convert(dense(100, 4), n_samples=100)),
        ("ten_classes", _convert(dense(8000, 10))),
    ):
        paths[key] = folder / f"{key}.tflite"
        paths[key].write_bytes(data)
    return paths


@pytest.fixture
def wavs(tmp_path):
    """The same 0.5 s tone as mono 44.1 kHz, stereo 44.1 kHz and mono 16 kHz; a corrupt and a silent file."""
    files = {"mono": tmp_path / "mono.wav", "stereo": tmp_path / "stereo.wav", "16k": tmp_path / "16k.wav",
             "corrupt": tmp_path / "corrupt.wav", "silent": tmp_path / "silent.wav", "4k": tmp_path / "4k.wav"}  # fmt: skip
    sf.write(files["mono"], tone(freq=300.0), 44_100, subtype="PCM_16")
    sf.write(files["stereo"], tone(freq=300.0, channels=2), 44_100, subtype="PCM_16")
    sf.write(files["16k"], tone(freq=300.0, sr=16_000), 16_000, subtype="PCM_16")
    sf.write(files["silent"], np.zeros(22_050), 44_100, subtype="PCM_16")
    sf.write(files["4k"], tone(sr=4_000), 4_000, subtype="PCM_16")
    files["corrupt"].write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk" + bytes(range(200)))
    return files


# ---- the clip ----------------------------------------------------------------------------------
def test_mono_clip_is_preprocessed_as_in_training(wavs):
    from spoken100.data.inputs import clip_input

    waveform, notes = load_clip_for_model(wavs["mono"])
    assert waveform.shape == (8000,) and waveform.dtype == np.float32 and notes == []
    np.testing.assert_array_equal(waveform, clip_input(wavs["mono"], "waveform")["input"])


def test_stereo_and_other_rates_are_converted_with_a_note(wavs):
    mono, _ = load_clip_for_model(wavs["mono"])
    stereo, notes = load_clip_for_model(wavs["stereo"])
    assert len(notes) == 1 and "stereo" in notes[0] and "mono" in notes[0]
    np.testing.assert_allclose(stereo, mono, atol=1e-4)  # equal channels: the mean is the mono clip
    resampled, notes = load_clip_for_model(wavs["16k"])
    assert len(notes) == 1 and "16,000 Hz" in notes[0] and "resampled" in notes[0] and "8 kHz" in notes[0]
    assert resampled.shape == (8000,)


def test_unusable_clips_are_refused_naming_the_file(wavs, tmp_path):
    for key, message in (("corrupt", "not a readable audio file"), ("silent", "silent"), ("4k", "too low")):
        with pytest.raises(ClipError, match=message) as err:
            load_clip_for_model(wavs[key])
        assert str(wavs[key]) in str(err.value)
    with pytest.raises(ClipError, match="no such file"):
        load_clip_for_model(tmp_path / "missing.wav")
    assert issubclass(ClipError, ValueError)


def test_long_clip_gets_a_note(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, tone(seconds=4.0), 44_100)
    _, notes = load_clip_for_model(path)
    assert any("4.0" in n and "8,000 samples" in n for n in notes)


# ---- the model ---------------------------------------------------------------------------------
def test_labels():
    assert class_labels(4) == tuple(LANGUAGES)
    assert class_labels(100)[42] == "42"
    with pytest.raises(ModelError, match="10 outputs"):
        class_labels(10)


def test_wrongly_shaped_models_are_refused(models, tmp_path):
    with pytest.raises(ModelError, match=r"input has shape \(1, 100\).*8,000 samples"):
        check_model(models["short_input"])
    with pytest.raises(ModelError, match="10 outputs"):
        check_model(models["ten_classes"])
    not_a_model = tmp_path / "model.tflite"
    not_a_model.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match="not a TensorFlow Lite model"):
        check_model(not_a_model)
    info = check_model(models["language"])
    assert info.task == "language" and info.input["shape"] == (1, 8000)


# ---- prediction and the command ----------------------------------------------------------------
def test_predict_file(models, wavs):
    result = predict_file(models["language"], wavs["mono"])
    assert result.task == "language" and result.label in LANGUAGES and 0.0 <= result.score <= 1.0
    assert str(result) == f"language: {result.label} ({result.score:.2f})"
    assert result.top(4)[0] == (result.label, result.score) and len(result.top(4)) == 4
    same = predict_file(models["language"], wavs["mono"], interpreter="tflite")
    np.testing.assert_array_equal(same.probabilities, result.probabilities)  # TFLM == TFLite reference kernels
    number = predict_file(models["number"], wavs["stereo"])
    assert number.task == "number" and number.label == str(number.index) and any("stereo" in n for n in number.notes)


def test_predict_follows_the_models_normalisation_note(models, wavs, tmp_path):
    import json
    import shutil

    model = tmp_path / "model.tflite"
    shutil.copy(models["number"], model)  # a dense model: its outputs follow the input level
    plain = predict_file(model, wavs["mono"])
    normalised = predict_file(model, wavs["mono"], normalize=True)
    (tmp_path / "model.json").write_text(json.dumps({"task": "number", "peak_normalize": True}))
    noted = predict_file(model, wavs["mono"])
    np.testing.assert_array_equal(noted.probabilities, normalised.probabilities)
    assert not np.array_equal(plain.probabilities, normalised.probabilities)
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(ModelError, match="model.json"):
        predict_file(model, wavs["mono"])


def test_predict_command(models, wavs):
    from spoken100.cli import main

    runner = CliRunner()
    ok = runner.invoke(main, ["predict", str(models["language"]), str(wavs["16k"]), "--top", "2"])
    assert ok.exit_code == 0, ok.output
    lines = ok.output.splitlines()
    assert lines[0].startswith("language: ") and lines[1].startswith("  next: ")
    assert any(line.startswith("note: sample rate 16,000 Hz") for line in lines)
    for model, clip, message in (
        (models["language"], wavs["corrupt"], "not a readable audio file"),
        (models["short_input"], wavs["mono"], "8,000 samples"),
    ):
        bad = runner.invoke(main, ["predict", str(model), str(clip)])
        assert bad.exit_code == 1 and bad.output.startswith("Error: ") and message in bad.output
        assert "Traceback" not in bad.output
