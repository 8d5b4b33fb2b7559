"""Chapter 6's export step as functions: which model is exported, and the bundle's dequantisation check."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from spoken100.nas import export
from spoken100.nas.predict import Prediction, class_labels


def deployment(name: str, task: str | None, scale: float = 1 / 256, zero_point: int = -128):
    return SimpleNamespace(name=name, task=task, io={"output": {"scale": scale, "zero_point": zero_point}})


DEPLOYMENTS = [
    deployment("number-fittest", "number"),
    deployment("language-accurate", "language"),
    deployment("language-fittest", "language"),
    deployment("language-fittest-2", "language"),
]


# ---- choose_export ------------------------------------------------------------------------------


def test_an_explicit_export_model_is_taken_by_name():
    for d in DEPLOYMENTS:
        assert export.choose_export(DEPLOYMENTS, d.name) is d


def test_the_default_is_the_first_fittest_language_model_else_the_first():
    assert export.choose_export(DEPLOYMENTS, None) is DEPLOYMENTS[2]
    assert export.choose_export(DEPLOYMENTS[::-1]) is DEPLOYMENTS[2]
    no_fittest_language = [DEPLOYMENTS[1], DEPLOYMENTS[0]]
    assert export.choose_export(no_fittest_language, None) is DEPLOYMENTS[1]
    with pytest.raises(IndexError):
        export.choose_export([], None)


def test_an_unknown_export_model_names_the_known_ones():
    with pytest.raises(ValueError) as err:
        export.choose_export(DEPLOYMENTS, "tiny")
    names = sorted(d.name for d in DEPLOYMENTS)
    assert str(err.value) == f"export_model 'tiny' is not one of {names}"


# ---- check_bundle_prediction ---------------------------------------------------------------------


def test_dequantize_uses_scale_and_zero_point():
    q = np.array([-128, -3, 0, 127])
    out = export.dequantize(q, {"scale": 0.5, "zero_point": -4})
    assert out.tolist() == [-62.0, 0.5, 2.0, 65.5]


def fake_bundle(tmp_path: Path, expected_int8) -> dict[str, Path]:
    expected = tmp_path / "expected_output.txt"
    expected.write_text(" ".join(str(int(v)) for v in expected_int8) + "\n")
    return {"model": tmp_path / "model.tflite", "expected": expected}


def fake_predict(probabilities):
    """A stand-in for predict_file that returns ``probabilities`` and records what it was asked."""
    calls = []

    def predict(model_path, clip_path):
        calls.append((model_path, clip_path))
        labels = class_labels(len(probabilities))
        index = int(np.argmax(probabilities))
        return Prediction(task="language", label=labels[index], index=index, score=float(probabilities[index]),
                          probabilities=np.asarray(probabilities, dtype=float), labels=labels)  # fmt: skip

    return predict, calls


def test_consistent_outputs_agree(tmp_path, monkeypatch):
    target = deployment("language-fittest", "language", scale=1 / 256, zero_point=-128)
    q = np.array([-128, 64, -64, -128])  # (q + 128) / 256 = 0, 0.75, 0.25, 0
    predict, calls = fake_predict([0.0, 0.75, 0.25, 0.0])
    monkeypatch.setattr(export, "predict_file", predict)
    bundle = fake_bundle(tmp_path, q)
    check = export.check_bundle_prediction(bundle, target, tmp_path / "clip.wav", "mandarin")
    assert calls == [(bundle["model"], tmp_path / "clip.wav")]
    assert check.same is True
    assert check.expected.tolist() == [0.0, 0.75, 0.25, 0.0]
    assert check.prediction.label == class_labels(4)[1] == "mandarin" and check.truth == "mandarin"
    assert check.message == (
        "`spoken100 predict model.tflite clip.wav` prints **language: mandarin (0.75)**; the clip's language "
        "is mandarin. Its outputs equal the exported expected output."
    )


def test_inconsistent_outputs_disagree(tmp_path, monkeypatch):
    target = deployment("language-fittest", "language", scale=1 / 256, zero_point=-128)
    bundle = fake_bundle(tmp_path, [-128, 64, -64, -128])
    predict, _ = fake_predict([0.0, 0.25, 0.75, 0.0])  # the classes swapped
    monkeypatch.setattr(export, "predict_file", predict)
    check = export.check_bundle_prediction(bundle, target, str(tmp_path / "clip.wav"), "german")
    assert check.same is False
    assert check.message.endswith("Its outputs differ from the exported expected output.")
    # the same outputs read with the wrong zero point disagree too
    predict, _ = fake_predict([0.0, 0.75, 0.25, 0.0])
    monkeypatch.setattr(export, "predict_file", predict)
    assert (
        export.check_bundle_prediction(bundle, deployment("x", "language", zero_point=0), tmp_path / "c.wav", 1).same
        is False
    )
