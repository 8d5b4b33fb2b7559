"""Chapter 4's transfer and pad/crop studies as functions: skipped cases, the FSDD table, the pad/crop table."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch

from spoken100.baselines import fsdd, studies, transfer
from spoken100.baselines.models import BASELINES


@pytest.fixture(autouse=True)
def no_outside_copies(monkeypatch):
    """Tests see only the FSDD copies they make (not the developers' reference folder)."""
    monkeypatch.delenv(fsdd.ENV_FSDD, raising=False)
    monkeypatch.delenv("SPOKEN100_SHARED", raising=False)


def fake_run(model: str, task: str, accuracy: float, fold: int = 1, protocol: str = "honest", tag: str = "base"):
    """Just enough of a RunResult for find_run and the tables."""
    spec = SimpleNamespace(model=model, task=task, protocol=protocol, fold=SimpleNamespace(fold=fold))
    return SimpleNamespace(spec=spec, reported_accuracy=accuracy, tag=tag)


def write_fsdd(folder: Path, speakers=("alice", "jackson"), digits=range(10)) -> Path:
    rec = folder / "recordings"
    rec.mkdir(parents=True)
    t = np.arange(2400) / 8000
    for speaker in speakers:
        for digit in digits:
            clip = np.concatenate([np.zeros(800), 0.4 * np.sin(2 * np.pi * (300 + 40 * digit) * t), np.zeros(800)])
            sf.write(rec / f"{digit}_{speaker}_0.wav", clip, 8000, subtype="PCM_16")
    return folder


class ConstantClass(torch.nn.Module):
    """A 100-class "model" that always answers ``k``."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(len(x), 100)
        out[:, self.k] = 1.0
        return out


# ---- transfer_study -----------------------------------------------------------------------------


def test_transfer_is_skipped_without_an_fsdd_copy():
    results = [fake_run("cnn_2d", "number", 0.5)]
    study = transfer.transfer_study(None, results, "cnn_2d", ["number"])
    assert study.skipped and study.folder is None and study.table.empty and not study.evaluations
    assert study.message.startswith("**Skipped:** no copy of the Free Spoken Digit Dataset was found.")
    assert fsdd.fsdd_status() in study.message


def test_transfer_is_skipped_without_a_number_run(tmp_path, monkeypatch):
    folder = write_fsdd(tmp_path / "fsdd", digits=[1])
    monkeypatch.setenv(fsdd.ENV_FSDD, str(folder))
    language_only = [fake_run("cnn_2d", "language", 0.9)]
    for results, tasks in (
        (language_only, ["language", "number"]),
        ([fake_run("cnn_2d", "number", 0.5)], ["language"]),
    ):
        study = transfer.transfer_study(None, results, "cnn_2d", tasks)
        assert study.skipped and study.table.empty and study.folder == folder
        assert study.message == "**Skipped:** no number-task run of `cnn_2d` in this build."


def test_transfer_scores_the_run_and_its_augmented_retraining(tmp_path, monkeypatch):
    folder = write_fsdd(tmp_path / "fsdd")
    monkeypatch.setenv(fsdd.ENV_FSDD, str(folder))
    base = fake_run("cnn_2d", "number", 0.6, fold=2)
    results = [fake_run("cnn_2d", "number", 0.1, fold=3), base, fake_run("cnn_1d", "number", 0.2, fold=1)]
    calls = []

    def fake_train_augmented(corpus, run, copies, seed):
        calls.append((corpus, run, copies, seed))
        return fake_run("cnn_2d", "number", 0.7, fold=2, tag="augmented")

    monkeypatch.setattr(studies, "train_augmented", fake_train_augmented)
    # the base run always answers 42 (out of range), the augmented one always 7
    monkeypatch.setattr(transfer, "load_model", lambda run: ConstantClass(42 if run.tag == "base" else 7))
    like_for_like = {"base": 0.55, "augmented": 0.65}
    monkeypatch.setattr(transfer, "synthetic_digit_accuracy", lambda corpus, run, model: like_for_like[run.tag])
    monkeypatch.setattr(transfer, "synthetic_digit_clips", lambda corpus, run: 40)

    study = transfer.transfer_study("corpus", results, "cnn_2d", ["language", "number"], copies=3, seed=5, n_jobs=1)

    assert not study.skipped and study.folder == folder
    assert calls == [("corpus", base, 3, 5)]
    assert study.message == f"FSDD copy: `{folder}`, 20 clips, speakers alice, jackson."
    table = study.table
    assert list(table.training) == ["trained on the corpus", "+ 3 augmented cop(ies) of English"]
    assert list(study.evaluations) == list(table.training)
    assert list(table["corpus test fold (honest)"]) == [0.6, 0.7]
    assert list(table[transfer.SYNTHETIC_DIGITS]) == [0.55, 0.65] and (table["chance (restricted)"] == 0.1).all()
    assert list(table[transfer.SYNTHETIC_CLIPS]) == [40, 40]
    # restricted to 0-9, answering 42 leaves the argmax at 0: right on the digit-0 clips only
    assert list(table["FSDD accuracy"]) == pytest.approx([0.1, 0.1])
    assert list(table["FSDD accuracy_unrestricted"]) == pytest.approx([0.0, 0.1])
    assert list(table["FSDD out_of_range"]) == pytest.approx([1.0, 0.0])
    confusion = study.evaluations["+ 3 augmented cop(ies) of English"].confusion
    assert confusion.to_numpy()[:, 7].sum() == 20 and confusion.to_numpy().sum() == 20


def test_synthetic_digits_are_scored_like_fsdd_on_the_runs_english_test_clips(tiny_layout):
    from spoken100.data.corpus import open_corpus

    corpus = open_corpus(str(tiny_layout))
    index = corpus.index
    arnold = np.flatnonzero(index.speaker == "Arnold")
    run = SimpleNamespace(spec=SimpleNamespace(model="cnn_2d"), test_index=arnold)
    # a model that always answers 3: restricted to 0-9 it is right on the clips of 3 only
    assert transfer.synthetic_digit_accuracy(corpus, run, ConstantClass(3)) == pytest.approx(0.1)
    assert transfer.synthetic_digit_clips(corpus, run) == 10  # one speaker, English, digits 0-9
    # answering 42, out of range: restricted, the argmax over 0-9 of its logits is 0
    assert transfer.synthetic_digit_accuracy(corpus, run, ConstantClass(42)) == pytest.approx(0.1)
    no_english_digits = arnold[(index.language.to_numpy()[arnold] != "english") | (index.number.to_numpy()[arnold] > 9)]
    no_digits = SimpleNamespace(spec=run.spec, test_index=no_english_digits)
    assert np.isnan(transfer.synthetic_digit_accuracy(corpus, no_digits, ConstantClass(3)))


# ---- pad_crop_table -----------------------------------------------------------------------------


def test_pad_crop_table_retrains_each_task_that_has_a_run(monkeypatch):
    language, number = fake_run("cnn_2d", "language", 0.8), fake_run("cnn_2d", "number", 0.4)
    results = [language, fake_run("rnn", "number", 0.3), number, fake_run("cnn_2d", "number", 0.9, protocol="paper")]
    retrained = []

    def fake_pad_crop(corpus, run):
        retrained.append((corpus, run))
        return SimpleNamespace(reported_accuracy=run.reported_accuracy / 2)

    monkeypatch.setattr(studies, "train_pad_crop", fake_pad_crop)
    table = transfer.pad_crop_table("corpus", results, "cnn_2d", ["number", "language"])
    assert retrained == [("corpus", number), ("corpus", language)]
    assert list(table.columns) == ["task", "model", "chance", transfer.RESAMPLED, transfer.PADDED]
    assert list(table.chance) == [0.01, 0.25]
    assert list(table.task) == ["number", "language"]
    assert set(table.model) == {BASELINES["cnn_2d"].title}
    assert list(table[transfer.RESAMPLED]) == [0.4, 0.8]
    assert list(table[transfer.PADDED]) == pytest.approx([0.2, 0.4])


def test_pad_crop_table_is_empty_without_runs(monkeypatch):
    monkeypatch.setattr(studies, "train_pad_crop", lambda corpus, run: pytest.fail("nothing to retrain"))
    table = transfer.pad_crop_table("corpus", [fake_run("rnn", "number", 0.3)], "cnn_2d", ["number"])
    assert table.empty and len(table.columns) == 0


def test_digit_chance_is_counted_from_the_numbers(monkeypatch):
    """The 0-9 scoring's chance is one over the corpus's numbers below ten, not a typed tenth."""
    from spoken100.data import tasks

    assert tasks.chance("digit") == 1 / tasks.DIGIT_CLASSES and tasks.chance("digit") > tasks.chance("number")
    monkeypatch.setattr(tasks, "DIGIT_CLASSES", 5)
    assert tasks.chance("digit") == 0.2
