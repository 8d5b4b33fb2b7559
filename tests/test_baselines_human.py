"""Chapter 4's human-voice test: every run on the assembled prompts, the matched synthetic score, the decades."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from spoken100.baselines import human
from spoken100.baselines.models import build_model


class ConstantClass(torch.nn.Module):
    """A "model" of ``n`` classes that always answers ``k``."""

    def __init__(self, k: int, n: int = 100):
        super().__init__()
        self.k, self.n = k, n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(len(x), self.n)
        out[:, self.k] = 1.0
        return out


def fake_run(corpus, task: str, protocol: str = "honest", fold: int = 1, model: str = "cnn_2d", answer=None):
    """A run tested on Arnold's clips whose stored test predictions are ``answer(index rows)``."""
    test = np.flatnonzero(corpus.index.speaker == "Arnold")
    rows = corpus.index.iloc[test]
    stored = answer(rows) if answer is not None else rows.number.to_numpy()
    spec = SimpleNamespace(model=model, task=task, protocol=protocol, fold=SimpleNamespace(fold=fold))
    key = "best_test" if protocol == "paper" else "best_val"
    return SimpleNamespace(spec=spec, test_index=test, test_predictions={key: np.asarray(stored)})


def test_every_run_is_scored_per_language_beside_its_synthetic_score(tiny_layout, human_corpus, monkeypatch):
    from spoken100.data.corpus import open_corpus

    corpus = open_corpus(str(tiny_layout))
    # stored synthetic predictions: right on English, always 0 elsewhere
    english_right = lambda rows: np.where(rows.language == "english", rows.number, 0)  # noqa: E731
    runs = [fake_run(corpus, "number", answer=english_right), fake_run(corpus, "number", "paper", 2),
            fake_run(corpus, "language")]  # fmt: skip
    networks = {("number", "honest"): ConstantClass(42), ("number", "paper"): ConstantClass(71),
                ("language", "honest"): ConstantClass(3, 4)}  # fmt: skip
    monkeypatch.setattr(human, "load_model", lambda run, chosen=None: networks[(run.spec.task, run.spec.protocol)])

    study = human.human_study(corpus, human_corpus, runs, n_jobs=1)

    numbers = study.numbers
    assert list(zip(numbers.protocol, numbers.fold, numbers.language, strict=True)) == [
        ("honest", 1, "english"), ("honest", 1, "french"), ("paper", 2, "english"), ("paper", 2, "french")]  # fmt: skip
    assert (numbers["human clips"] == 100).all() and (numbers["synthetic clips"] == 100).all()
    assert list(numbers[human.HUMAN]) == pytest.approx([0.01] * 4)  # one clip of 42 (or 71) per language
    assert list(numbers[human.SYNTHETIC]) == pytest.approx([1.0, 0.01, 1.0, 1.0])  # the paper run: always right
    assert list(numbers[human.BAND_LIMITED]) == pytest.approx([0.01] * 4)
    assert study.predictions[("cnn_2d", "honest", 1)].shape == (200,)
    languages = study.languages
    assert list(languages.language) == ["english", "french"] and list(languages["called french"]) == [1.0, 1.0]
    assert list(languages[human.LANGUAGE_ACCURACY]) == [0.0, 1.0]

    values = study.glue_values(best="cnn_2d")
    assert values["human_number_english_cnn_2d_honest"] == pytest.approx(1.0)
    assert values["human_synthetic_english_cnn_2d_honest"] == pytest.approx(100.0)
    assert values["human_best_french"] == pytest.approx(1.0) and values["human_best_synthetic_french"] == pytest.approx(
        1.0
    )
    assert "human_number_french_cnn_2d_paper" in values


def test_an_honest_run_is_also_read_with_the_papers_rule_from_its_test_epochs_weights(
    tiny_layout, human_corpus, monkeypatch, tmp_path
):
    from spoken100.data.corpus import open_corpus

    corpus = open_corpus(str(tiny_layout))
    run = fake_run(corpus, "number")
    truth = corpus.index.number.to_numpy()[run.test_index]
    run.test_predictions["best_test"] = np.zeros_like(truth)  # the test epoch's stored predictions: always 0
    run.weights = lambda chosen: tmp_path / f"weights-{chosen}.pt"
    networks = {"best_val": ConstantClass(42), "best_test": ConstantClass(0)}
    monkeypatch.setattr(human, "load_model", lambda r, chosen=None: networks[chosen])

    (tmp_path / "weights-best_val.pt").touch()
    assert human.readings(run) == [("honest", "best_val")]  # no test-epoch weights kept: one reading
    (tmp_path / "weights-best_test.pt").touch()
    assert human.readings(run) == [("honest", "best_val"), (human.HONEST_ON_TEST, "best_test")]

    numbers = human.human_study(corpus, human_corpus, [run], band_limited=False, n_jobs=1).numbers
    on_test = numbers[numbers.protocol == human.HONEST_ON_TEST]
    assert list(on_test.language) == ["english", "french"]
    assert list(on_test[human.HUMAN]) == pytest.approx([0.01, 0.01])  # the clip of 0, from the test epoch's network
    expected = [float(np.mean(truth[corpus.index.language.to_numpy()[run.test_index] == lang] == 0))
                for lang in ("english", "french")]  # fmt: skip
    assert list(on_test[human.SYNTHETIC]) == pytest.approx(expected)
    assert list(numbers[numbers.protocol == "honest"][human.SYNTHETIC]) == pytest.approx([1.0, 1.0])


def test_an_untrained_network_runs_through_the_scoring_path(tiny_layout, human_corpus, monkeypatch):
    from spoken100.data.corpus import open_corpus

    corpus = open_corpus(str(tiny_layout))
    torch.manual_seed(0)
    network = build_model("cnn_2d", 100)
    monkeypatch.setattr(human, "load_model", lambda run, chosen=None: network)
    study = human.human_study(corpus, human_corpus, [fake_run(corpus, "number")], band_limited=False, n_jobs=1)
    assert len(study.numbers) == 2 and study.numbers[human.HUMAN].between(0, 1).all()
    assert study.numbers[human.BAND_LIMITED].isna().all()
    assert len(study.mean_numbers()) == 2


def test_error_kinds_per_decade():
    cases = {(42, 42): "correct", (42, 40): "the bare tens (40 for 42)", (42, 14): "the teen (14 for 40-49)",
             (40, 14): "the teen (14 for 40-49)", (42, 45): "same decade, other unit", (42, 71): "another decade",
             (40, 40): "correct", (5, 7): "same decade, other unit", (15, 10): "the bare tens (40 for 42)"}  # fmt: skip
    for (true, predicted), kind in cases.items():
        assert human.error_kind(true, predicted) == kind, (true, predicted)
    table = human.decade_errors([42, 42, 43, 5], [40, 42, 14, 5], ["english", "english", "english", "french"])
    forty = table[(table.language == "english") & (table.decade == "40-49")].iloc[0]
    assert forty.clips == 3 and forty["correct"] == pytest.approx(1 / 3)
    assert forty["the bare tens (40 for 42)"] == pytest.approx(1 / 3) and forty[
        "the teen (14 for 40-49)"
    ] == pytest.approx(1 / 3)
    cm = human.decade_confusion([42, 43, 5], [40, 14, 5])
    assert cm.shape == (10, 10) and cm.iloc[4, 4] == 1 and cm.iloc[4, 1] == 1 and cm.iloc[0, 0] == 1


def test_a_reading_is_scored_once_and_then_read_from_the_cache(tiny_layout, human_corpus, monkeypatch, tmp_path):
    """The forward passes are the study's cost: a rerun with the same weights loads no network."""
    from spoken100.data.corpus import open_corpus

    corpus = open_corpus(str(tiny_layout))
    run = fake_run(corpus, "number")
    run.weights = lambda chosen: tmp_path / f"weights-{chosen}.pt"
    (tmp_path / "weights-best_val.pt").write_bytes(b"trained once")
    loaded = []
    answers = iter([42, 7])  # the first network, then the retrained one

    def load(r, chosen=None):
        loaded.append(chosen)
        return ConstantClass(next(answers))

    monkeypatch.setattr(human, "load_model", load)
    first = human.human_study(corpus, human_corpus, [run], n_jobs=1)
    again = human.human_study(corpus, human_corpus, [run], n_jobs=1)
    assert loaded == ["best_val"]  # the second study read the first one's scores
    assert first.numbers.equals(again.numbers)
    np.testing.assert_array_equal(
        first.predictions[("cnn_2d", "honest", 1)], again.predictions[("cnn_2d", "honest", 1)]
    )
    (tmp_path / "weights-best_val.pt").write_bytes(b"trained again")  # other weights: scored again
    retrained = human.human_study(corpus, human_corpus, [run], n_jobs=1)
    assert loaded == ["best_val", "best_val"]
    assert (first.predictions[("cnn_2d", "honest", 1)] == 42).all()
    assert (retrained.predictions[("cnn_2d", "honest", 1)] == 7).all()  # the new network's answers, not the cache's
