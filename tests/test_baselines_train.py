"""Training runs: deterministic, resumable artefacts; both protocols; bad runs refused up front."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from spoken100.baselines import train
from spoken100.baselines.experiment import plan_runs, results_table, run_all
from spoken100.baselines.train import RunSpec, TrainingError, load_model, predict, train_run
from spoken100.data.splits import Fold

SPEAKERS = ["a", "b", "c", "d", "e", "f"]
GENDERS = dict(zip(SPEAKERS, ["female", "male"] * 3, strict=True))


def _data(n_per_speaker: int = 16):
    rng = np.random.default_rng(0)
    speakers = np.repeat(SPEAKERS, n_per_speaker)
    y = np.tile(np.arange(4), len(speakers) // 4)
    X = rng.normal(size=(len(speakers), 128, 32)).astype(np.float32)
    X[:, :8, :] += y[:, None, None]  # learnable: the label shifts the lowest mel bands
    return X, y, speakers


FOLD = Fold(1, ("a", "b", "c", "d"), ("e", "f"))


def _spec(protocol: str = "honest", epochs: int = 3, **kw) -> RunSpec:
    val = ("a", "b") if protocol == "honest" else ()
    return RunSpec(model="cnn_2d", task="language", protocol=protocol, fold=FOLD, epochs=epochs,
                   data_key="synthetic", val_speakers=val, batch_size=8, max_batches=3, **kw)  # fmt: skip


def test_run_is_deterministic_and_reused(monkeypatch):
    X, y, speakers = _data()
    first = train_run(_spec(), X, y, speakers, progress=False)
    assert set(first.test_accuracy) == {"best_test", "best_val"}
    assert list(first.history.epoch) == [0, 1, 2]
    assert first.test_accuracy["best_test"] >= first.test_accuracy["best_val"]  # selecting on test is optimistic

    calls = []
    monkeypatch.setattr(train, "build_model", lambda *a, **k: calls.append(1))
    again = train_run(_spec(), X, y, speakers, progress=False)  # loaded, not retrained
    assert not calls
    pd.testing.assert_frame_equal(again.history, first.history)


def test_fresh_run_gives_identical_history(tmp_path, monkeypatch):
    X, y, speakers = _data()
    first = train_run(_spec(), X, y, speakers, progress=False)
    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path / "elsewhere"))
    second = train_run(_spec(), X, y, speakers, progress=False)
    assert second.folder != first.folder
    pd.testing.assert_frame_equal(second.history.drop(columns="seconds"), first.history.drop(columns="seconds"))


def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    X, y, speakers = _data()
    reference = train_run(_spec(), X, y, speakers, progress=False)
    reference_weights = torch.load(reference.weights(), weights_only=True)

    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path / "interrupted"))
    real_save = train._save_checkpoint
    saves = []

    def crash_after_second_epoch(path, state):
        real_save(path, state)
        saves.append(state["epoch"])
        if state["epoch"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(train, "_save_checkpoint", crash_after_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        train_run(_spec(), X, y, speakers, progress=False)
    assert (_spec().folder() / "checkpoint.pt").is_file()
    assert not (_spec().folder() / "result.json").exists()

    monkeypatch.setattr(train, "_save_checkpoint", real_save)
    resumed = train_run(_spec(), X, y, speakers, progress=False)
    assert saves == [0, 1]
    pd.testing.assert_frame_equal(resumed.history.drop(columns="seconds"), reference.history.drop(columns="seconds"))
    for name, tensor in torch.load(resumed.weights(), weights_only=True).items():
        assert torch.equal(tensor, reference_weights[name]), name
    assert not (_spec().folder() / "checkpoint.pt").exists()


def test_paper_protocol_reports_best_test_epoch_and_model_reloads():
    X, y, speakers = _data()
    result = train_run(_spec("paper"), X, y, speakers, progress=False)
    assert result.reported_accuracy == max(result.history.test_accuracy)
    model = load_model(result)
    test_rows = result.test_index
    assert np.mean(predict(model, X[test_rows]).argmax(1) == y[test_rows]) == pytest.approx(result.reported_accuracy)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"model": "resnet"}, "unknown model"),
        ({"task": "gender"}, "unknown task"),
        ({"epochs": 0}, "positive"),
        ({"fold": Fold(1, ("a", "b", "c", "zed"), ("e", "f"))}, "missing from the corpus: zed"),
        ({"val_speakers": ("e",)}, "must come from the fold's training speakers"),
    ],
)
def test_impossible_runs_are_refused_before_training(change, message):
    X, y, speakers = _data()
    spec = RunSpec(**{**_spec().__dict__, **change})
    with pytest.raises(TrainingError, match=message):
        train_run(spec, X, y, speakers, progress=False)


def test_plan_and_run_all():
    X, y, speakers = _data()
    specs = plan_runs(["cnn_2d"], ["language"], [FOLD], ["paper", "honest"], epochs=1, genders=GENDERS,
                      corpus_digest="synthetic", n_val_speakers=2, batch_size=8, max_batches=1,
                      speakers_present=SPEAKERS)  # fmt: skip
    assert [s.protocol for s in specs] == ["paper", "honest"]
    assert len(specs[1].val_speakers) == 2 and set(specs[1].val_speakers) <= set(FOLD.train)
    table = results_table(run_all(specs, {"logmel": X}, {"language": y}, speakers, progress=False))
    assert list(table.protocol) == ["paper", "honest"]
    assert table.accuracy.between(0, 1).all()
    with pytest.raises(TrainingError, match="unknown model"):
        plan_runs(["nope"], ["language"], [FOLD], ["paper"], epochs=1, genders=GENDERS, corpus_digest="x")


def test_train_seed_replicates_the_runs_on_the_same_speakers():
    def plan(**seeds):
        return plan_runs(["cnn_2d"], ["language"], [FOLD], ["honest"], epochs=1, genders=GENDERS,
                         corpus_digest="synthetic", n_val_speakers=2, **seeds)[0]  # fmt: skip

    built, replicate = plan(seed=0), plan(seed=0, train_seed=5)
    assert replicate.val_speakers == built.val_speakers and replicate.seed == 5 and built.seed == 0
    assert replicate.key() != built.key()
    # without train_seed, the seed moves the validation speakers along with the training's seed
    moved = [plan(seed=s) for s in range(1, 6)]
    assert all(m.seed == s for m, s in zip(moved, range(1, 6), strict=True))
    assert any(m.val_speakers != built.val_speakers for m in moved)


def test_seed_replicates_retrain_the_builds_runs_with_other_seeds_only():
    from spoken100.baselines.experiment import seed_replicates
    from spoken100.baselines.stats import seed_spread

    X, y, speakers = _data()
    specs = plan_runs(["cnn_2d"], ["language"], [FOLD], ["honest"], epochs=2, genders=GENDERS,
                      corpus_digest="synthetic", n_val_speakers=2, batch_size=8, max_batches=3,
                      schedule="onecycle", learning_rates={("cnn_2d", "language", 1): 3e-3})  # fmt: skip
    context = {"inputs": {"logmel": X}, "labels": {"language": y}, "speakers": speakers, "folds": [FOLD]}
    built = run_all(specs, context["inputs"], context["labels"], speakers, progress=False)
    replicates = seed_replicates(built, ["cnn_2d"], [1, 2], context, progress=False)
    assert [r.spec.seed for r in replicates] == [1, 2]
    for r in replicates:  # only the seed differs: speakers, rate and epochs are the build's
        assert r.spec.val_speakers == built[0].spec.val_speakers and r.spec.learning_rate == 3e-3
        assert r.spec.epochs == 2 and r.folder != built[0].folder
    assert not np.allclose(replicates[0].history.train_loss, built[0].history.train_loss)  # the seed matters

    spread = seed_spread(built, replicates)
    (row,) = spread.to_dict("records")
    accuracies = [r.test_accuracy["best_val"] for r in (built[0], *replicates)]
    assert row["seeds"] == [0, 1, 2] and row["accuracies"] == accuracies
    assert row["spread_points"] == pytest.approx(100 * (max(accuracies) - min(accuracies)))
    assert 0 < row["clip_interval_points"] < 100 and row["ci_low"] <= row["mean"] <= row["ci_high"]

    assert seed_replicates(built, ["cnn_2d"], [], context) == []
    with pytest.raises(TrainingError, match=r"replicate seed\(s\) \[0\] equal the build's seed"):
        seed_replicates(built, ["cnn_2d"], [0, 3], context)
    assert seed_replicates(built, ["rnn"], [1], context) == []  # a model the build did not train: nothing to replicate
    with pytest.raises(ValueError, match="no run of the build"):
        seed_spread([], replicates)


def test_seed_replicates_take_only_the_honest_runs_of_the_first_fold(monkeypatch):
    from spoken100.baselines import experiment

    second = Fold(2, ("a", "b", "e", "f"), ("c", "d"))
    specs = plan_runs(["cnn_2d", "transformer"], ["language"], [FOLD, second], ["paper", "honest"], epochs=1,
                      genders=GENDERS, corpus_digest="synthetic", n_val_speakers=2)  # fmt: skip
    built = [SimpleNamespace(spec=spec) for spec in specs]
    asked = []
    monkeypatch.setattr(experiment, "run_all", lambda todo, *a, **k: asked.extend(todo) or list(todo))
    context = {"inputs": {}, "labels": {}, "speakers": np.array(SPEAKERS), "folds": [FOLD, second]}
    experiment.seed_replicates(built, ["cnn_2d"], [4, 5], context)
    assert [(s.model, s.fold.fold, s.protocol, s.seed) for s in asked] == [("cnn_2d", 1, "honest", 4),
                                                                           ("cnn_2d", 1, "honest", 5)]  # fmt: skip
    with pytest.raises(TrainingError, match="repeat a seed"):
        experiment.seed_replicates(built, ["cnn_2d"], [4, 4], context)
    paper_only = [b for b in built if b.spec.protocol == "paper"]
    asked.clear()
    assert experiment.seed_replicates(paper_only, ["cnn_2d"], [4], context) == [] and not asked


def test_fast_layout_changes_the_memory_layout_not_the_function():
    """Channels-last weights for the 2-D CNNs only; the same weights give the same scores either way."""
    from spoken100.baselines.models import build_model

    plain = build_model("cnn_2d", 4, seed=0).eval()
    fast = train.fast_layout(build_model("cnn_2d", 4, seed=0)).eval()
    conv = fast.features[3].weight  # 16 -> 32 channels (with one input channel both layouts coincide)
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    x = torch.as_tensor(_data(2)[0][:4])
    with torch.no_grad():
        torch.testing.assert_close(fast(x), plain(x), rtol=1e-4, atol=1e-4)
    raw = build_model("cnn_1d", 4, seed=0)
    assert train.fast_layout(raw) is raw and all(p.is_contiguous() for p in raw.parameters())
    other = build_model("cnn_2d", 4, seed=1).eval()  # other weights, contiguous layout
    other.load_state_dict(fast.state_dict())  # as load_model and a resumed checkpoint do
    with torch.no_grad():
        torch.testing.assert_close(other(x), fast(x), rtol=1e-4, atol=1e-4)
