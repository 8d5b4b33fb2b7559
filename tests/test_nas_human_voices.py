"""Chapter 6 on human voices: int8 models in TFLite Micro on the assembled prompts, and ``predict`` on them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture(scope="module")
def number_model(tmp_path_factory):
    """A tiny int8 100-class model (dense softmax on the 8,000 samples), untrained."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("tflite_micro")
    import keras

    from spoken100.nas import tflite

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8000,)), keras.layers.Dense(100, activation="softmax")])
    path = tmp_path_factory.mktemp("model") / "model.tflite"
    path.write_bytes(tflite.to_int8(model, tflite.noise_dataset(n=8, n_samples=8000)))
    return path


def test_deployed_models_are_scored_in_tflm_per_language(human_corpus, number_model):
    from spoken100.nas import human_voices, tflite

    deployment = SimpleNamespace(name="tiny", task="number", tflite=number_model.read_bytes(), normalize=True,
                                 tflm_accuracy=0.5)  # fmt: skip
    table = human_voices.human_tflm_table([deployment], human_corpus, isolated=False)
    assert list(table.language) == ["english", "french"] and list(table.clips) == [100, 100]
    assert (table.chance == 0.01).all() and (table[human_voices.SYNTHETIC_TFLM] == 0.5).all()
    # the same accuracy as the interpreter's own argmax, clip by clip
    from spoken100.data.audio import peak_normalize
    from spoken100.data.inputs import corpus_inputs

    X = peak_normalize(corpus_inputs(human_corpus.root, human_corpus.index, "waveform", progress=False))
    hits = tflite.run_tflm(deployment.tflite, X, isolated=False).argmax(1) == human_corpus.index.number.to_numpy()
    english = human_corpus.index.language.to_numpy() == "english"
    assert table[human_voices.HUMAN_TFLM].iloc[0] == pytest.approx(hits[english].mean())


def test_predict_runs_on_one_human_clip_per_language(human_corpus, number_model):
    from spoken100.nas import human_voices

    examples = human_voices.predict_examples(number_model, human_corpus, number=71)
    assert [e.language for e in examples] == ["english", "french"]
    french = examples[1]
    assert french.text == "soixante et onze" and french.clip.is_file()
    assert french.command == f"spoken100 predict {number_model} {french.clip}"
    assert french.prediction.task == "number" and 0 <= french.prediction.index < 100
