"""Chapter 4's tables: the three readings of a fold, the optimism of test-fold selection, deviations."""

import numpy as np
import pandas as pd
import pytest

from spoken100.baselines import report


def _table():
    rows = []
    for fold, (val_sel, test_sel) in enumerate([(0.50, 0.60), (0.40, 0.45), (0.70, 0.70)], start=1):
        rows.append({"model": "cnn_2d", "title": "CNN-2D", "task": "number", "fold": fold, "protocol": "honest",
                     "accuracy": val_sel, "val_selected_accuracy": val_sel, "test_selected_accuracy": test_sel,
                     "chance": 0.01})  # fmt: skip
        rows.append({"model": "cnn_2d", "title": "CNN-2D", "task": "number", "fold": fold, "protocol": "paper",
                     "accuracy": test_sel + 0.05, "val_selected_accuracy": None,
                     "test_selected_accuracy": test_sel + 0.05, "chance": 0.01})  # fmt: skip
    return pd.DataFrame(rows)


def test_long_results_and_summary():
    long = report.long_results(_table())
    assert sorted(long.setting.unique()) == sorted(report.SETTINGS)
    summary = report.summary(long)
    honest = summary[summary.setting == report.HONEST].iloc[0]
    assert honest["mean"] == pytest.approx(0.5333333)
    assert honest["n"] == 3 and honest["chance"] == 0.01  # the number task's 100 classes


def test_protocol_gap_is_the_paired_difference_on_identical_runs():
    gap = report.protocol_gap(report.long_results(_table())).iloc[0]
    assert gap["optimism"] == pytest.approx((0.10 + 0.05 + 0.0) / 3)
    assert gap["folds"] == 3


def test_paper_comparison_labels_corpus_and_folds():
    summary = report.summary(report.long_results(_table()))
    table = report.paper_comparison(summary, "the stand-in", 8)
    row = table.iloc[0]
    assert row["paper (SpokeN-100, 8 folds, paper protocol)"] == "56.51 ± 5.38 %"
    assert row["this build: honest"].endswith(", 3/8 folds") and "95 % CI over folds" in row["this build: honest"]
    assert "the stand-in" in table.attrs["note"]


def test_one_fold_is_never_printed_as_certain():
    """One fold has no spread across folds: its interval is the one over its test clips, never "± 0.00"."""
    one = _table().query("fold == 1").assign(n_test=400)
    summary = report.summary(report.long_results(one))
    honest = summary[summary.setting == report.HONEST].iloc[0]
    assert honest.n == 1 and honest.n_clips == 400 and honest.clip_low < 0.5 < honest.clip_high
    for setting in (report.PAPER, report.HONEST_TEST_RULE):  # epochs chosen on these clips: no interval around them
        assert pd.isna(summary[summary.setting == setting].iloc[0].clip_low)
    text = report.paper_comparison(summary, "the stand-in", 8).iloc[0]["this build: honest"]
    assert "± 0.00" not in text and "over 400 test clips" in text
    more_clips = report.summary(report.long_results(one.assign(n_test=4000)))
    narrow = more_clips[more_clips.setting == report.HONEST].iloc[0]
    assert narrow.clip_high - narrow.clip_low < honest.clip_high - honest.clip_low


def test_protocol_gap_has_a_clip_interval_on_one_fold():
    from types import SimpleNamespace

    import numpy as np

    index = pd.DataFrame({"language": ["english"] * 200, "number": np.arange(200) % 100, "speaker": "a"})
    y = index.number.to_numpy()
    better = y.copy()
    worse = np.where(np.arange(200) < 40, (y + 1) % 100, y)  # 40 clips wrong under the validation rule
    spec = SimpleNamespace(model="cnn_2d", task="number", protocol="honest", fold=SimpleNamespace(fold=1))
    run = SimpleNamespace(
        spec=spec, test_index=np.arange(200), test_predictions={"best_test": better, "best_val": worse}
    )
    long = report.long_results(_table().query("fold == 1"))
    gap = report.protocol_gap(long, [run], index).iloc[0]
    assert gap.clip_ci_low < 0.2 < gap.clip_ci_high and gap.clip_ci_low > 0  # 20 % of clips flip, an interval around it
    assert gap.clips == 200


class _Corpus:
    kind, subset, speakers = "standin", False, list(range(32))


def test_deviations_are_computed_from_the_settings():
    text = report.deviations(models=["cnn_effnet", "rnn"], protocols=["honest"], folds_run=1, n_folds_total=8,
                             epochs=6, max_batches={"rnn": 60}, model_options={"rnn": {"width": 0.25}},
                             corpus=_Corpus())  # fmt: skip
    assert "1 of 8 folds" in text and "6 epochs" in text and "`width=0.25`" in text
    narrow = report.parameter_count("rnn", 100, {"width": 0.25})
    assert f"{narrow:,} parameters" in text and narrow < report.parameter_count("rnn", 100) / 10
    assert "at most 60 training batches" in text and "from scratch" in text and "no paper-protocol runs" in text
    paper_like = report.deviations(models=["cnn_2d"], protocols=["paper", "honest"], folds_run=8, n_folds_total=8,
                                   epochs=75, max_batches={}, model_options={}, corpus=_Corpus())  # fmt: skip
    assert "folds" not in paper_like and "epochs" not in paper_like


def test_training_noise_sentence_reads_the_spread_table():
    spread = pd.DataFrame([
        {"model": "cnn_2d", "task": "language", "seeds": [0, 1, 2], "min": 0.941, "max": 0.963,
         "spread_points": 2.2, "clip_interval_points": 2.3},
        {"model": "cnn_2d", "task": "number", "seeds": [0, 1, 2], "min": 0.357, "max": 0.732,
         "spread_points": 37.5, "clip_interval_points": 4.7},
    ])  # fmt: skip
    sentence = report.training_noise_sentence(spread)
    assert sentence.startswith("Retrained with other seeds on the same speakers at the same rate (3 seeds in all), "
                               "the CNN-2D scored 94.1-96.3 % on the language task (2.2 points")  # fmt: skip
    assert "; 35.7-73.2 % on the number task (37.5 points, against a 4.7-point interval" in sentence
    assert "nan" not in report.training_noise_sentence(spread.iloc[0:0]).lower()
    other = pd.DataFrame([{"model": "rnn", "task": "number", "spread_points": 9.0}])
    assert report.replicate_spreads(pd.concat([spread, other]), ["language", "number"]) == {
        "language": 2.2,
        "number": 37.5,
    }
    empty = report.replicate_spreads(spread.iloc[0:0], ["number"])
    assert list(empty) == ["number"] and np.isnan(empty["number"])
    # the comparison page names the model the spread is of (the first replicated one), with its seeds
    named = pd.concat([other.assign(seeds=[[0, 5]], fold=2), spread.assign(fold=1)], ignore_index=True)
    assert report.replicated_model(named) == "RNN (BiLSTM), seeds 0, 5, fold 2"
    assert report.replicated_model(spread.iloc[0:0]) == ""


def test_learning_rate_steps_are_named_only_under_the_papers_schedule():
    """The paper's stepped rates exist only under its schedule, and only the steps a run stops before are named."""
    settings = dict(models=["cnn_2d"], protocols=["honest"], folds_run=1, n_folds_total=8, max_batches={},
                    model_options={}, corpus=_Corpus())  # fmt: skip
    firsts = [first for first, _ in report.BASELINES["cnn_2d"].learning_rates if first > 0]
    cut = firsts[0] + 1  # past the first step, before the later ones
    paper = report.deviations(epochs=cut, schedule="paper", **settings)
    assert f"{cut} epochs per run" in paper and "are not reached" in paper
    assert str(firsts[-1]) in paper.split("not reached")[0] and f" {firsts[0]}," not in paper.split("steps at")[1]
    onecycle = report.deviations(epochs=cut, schedule="onecycle", **settings)
    assert f"{cut} epochs per run" in onecycle and "not reached" not in onecycle


def test_model_recipe_says_epochs_schedule_and_a_narrowed_network():
    full = report.model_recipe("rnn", epochs=2, schedule="onecycle")
    assert full.startswith("2 epochs of one-cycle AdamW") and "parameters" not in full
    narrow = report.model_recipe("rnn", epochs={"rnn": 3, "default": 2}, schedule="onecycle",
                                 model_options={"rnn": {"width": 0.25}}, max_batches={"rnn": 40})  # fmt: skip
    count = report.parameter_count("rnn", 100, {"width": 0.25})
    assert narrow.startswith("3 epochs") and f"width=0.25: {count:,} parameters at 100 classes" in narrow
    assert "at most 40 batches" in narrow
    four = report.model_recipe(
        "rnn", epochs=2, schedule="onecycle", model_options={"rnn": {"width": 0.25}}, n_classes=4
    )
    assert f"{report.parameter_count('rnn', 4, {'width': 0.25}):,} parameters at 4 classes" in four
    assert report.model_recipe("cnn_2d", epochs=75, schedule="paper") == ""  # the paper's own recipe: nothing differs
    assert "Adam steps" in report.model_recipe("cnn_2d", epochs=40, schedule="paper")
    assert report.epochs_text(2, ["cnn_2d", "rnn"]) == "2 epochs"
    assert (
        report.epochs_text({"rnn": 3, "default": 1}, ["cnn_2d", "rnn"]) == "epochs per model: CNN-2D 1, RNN (BiLSTM) 3"
    )


def test_accuracy_text_has_its_interval_and_chance():
    one = _table().query("fold == 1").assign(n_test=400)
    summary = report.summary(report.long_results(one))
    honest = summary[summary.setting == report.HONEST].iloc[0]
    text = report.accuracy_text(honest, 100)
    assert text.startswith("50.00 %") and "over 400 test clips" in text and text.endswith("(chance 1 %)")
    three = report.summary(report.long_results(_table()))
    text = report.accuracy_text(three[three.setting == report.HONEST].iloc[0], 4)
    assert "CI over folds" in text and text.endswith("(chance 25 %)") and "± 0.00" not in text
    # folds that all scored the same: no "± 0.00", the clip interval instead
    alike = _table().assign(accuracy=0.5, val_selected_accuracy=0.5, n_test=400)
    same = report.summary(report.long_results(alike))
    text = report.accuracy_text(same[same.setting == report.HONEST].iloc[0], 100)
    assert "± 0.00" not in text and "over 1,200 test clips" in text


def test_optimism_sentence_names_the_worst_and_never_prints_a_zero_width_interval():
    gap = report.protocol_gap(report.long_results(_table()))
    sentence = report.optimism_sentence(gap)
    assert "the CNN-2D's number-task accuracy by 5.00 percentage points" in sentence  # (0.10 + 0.05 + 0) / 3
    with_clips = gap.assign(clip_ci_low=0.01, clip_ci_high=0.09, clips=400)
    assert "interval over its 400 test clips, given the epochs chosen: 1.00 to 9.00" in report.optimism_sentence(
        with_clips
    )
    same = gap.assign(optimism=0.0, clip_ci_low=0.0, clip_ci_high=0.0, clips=400)
    said = report.optimism_sentence(same)
    assert "scored alike on the test clips" in said and "0.00 to 0.00" not in said
    assert "not read" in report.optimism_sentence(gap.iloc[0:0])


def test_accuracy_by_gender_keeps_the_interval_and_chance():
    predictions = pd.DataFrame({"task": "number", "model": "cnn_2d", "gender": ["female"] * 40 + ["male"] * 10,
                                "y_true": 0, "y_pred": [0] * 30 + [1] * 10 + [0] * 5 + [1] * 5})  # fmt: skip
    table = report.accuracy_by_gender(predictions)
    row = table.loc[("number", "cnn_2d")]
    assert row["chance"] == "1 %"
    assert row["female (95 % CI)"].startswith("75.0 % (") and row["female (95 % CI)"].endswith(", 40 clips)")
    assert row["male (95 % CI)"].startswith("50.0 % (") and row["male (95 % CI)"].endswith(", 10 clips)")


def test_learning_curves_and_bars_draw_chance():
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    history = pd.DataFrame({"epoch": [0, 1], "train_accuracy": [0.3, 0.5], "val_accuracy": [0.3, 0.4],
                            "test_accuracy": [0.3, 0.4]})  # fmt: skip
    runs = [SimpleNamespace(history=history, spec=SimpleNamespace(model="cnn_2d", task=task, protocol="honest",
                                                                  fold=SimpleNamespace(fold=1)))
            for task in ("language", "number")]  # fmt: skip
    fig = report.learning_curves(runs)
    levels = sorted(
        {round(line.get_ydata()[0], 4) for ax in fig.axes for line in ax.lines if line.get_linestyle() == ":"}
    )
    assert levels == [0.01, 0.25]
    bars = report.accuracy_bars(pd.DataFrame({"g": ["a"], "accuracy": [0.5], "ci_low": [0.4], "ci_high": [0.6]}),
                                "g", "t", chance=0.01)  # fmt: skip
    assert any(line.get_ydata()[0] == 0.01 for line in bars.axes[0].lines)
    plt.close("all")


def test_the_best_models_accuracy_and_its_rule_follow_the_protocols_trained():
    from spoken100.baselines import studies

    table = pd.DataFrame({"model": ["cnn_2d", "rnn"], "task": "number", "protocol": "honest",
                          "val_accuracy": [0.2, 0.3], "accuracy": [0.5, 0.1]})  # fmt: skip
    assert studies.best_model(table, "number") == "rnn" and studies.selection_rule(table, "number").startswith(
        "validation"
    )
    paper_only = table.assign(protocol="paper", val_accuracy=np.nan)
    assert studies.best_model(paper_only, "number") == "cnn_2d"
    assert studies.selection_rule(paper_only, "number").startswith("test accuracy (the paper's rule")
    summary = report.summary(report.long_results(_table()))
    assert report.model_accuracy(summary, "cnn_2d", "number") == pytest.approx(0.5333333)  # the honest setting
    paper = report.summary(report.long_results(_table().query("protocol == 'paper'")))
    assert report.model_accuracy(paper, "cnn_2d", "number") == pytest.approx((0.65 + 0.50 + 0.75) / 3)
    assert np.isnan(report.model_accuracy(summary, "rnn", "number"))


def test_noise_table_sets_chance_beside_the_snrs():
    noise = pd.DataFrame({"task": ["number", "number", "language"], "model": "CNN-2D", "noise": "white",
                          "snr_db": [20, 0, 20], "accuracy": [0.5, 0.1, 0.9]})  # fmt: skip
    table = report.noise_table(noise)
    assert table.loc[("number", "CNN-2D", "white"), "chance"] == 0.01
    assert table.loc[("language", "CNN-2D", "white"), "chance"] == 0.25
    assert table.loc[("number", "CNN-2D", "white"), 0] == 0.1


def test_the_papers_protocol_is_described_from_the_published_facts(monkeypatch):
    """The fold count and speaker split in the prose and headers follow the facts table, not typed text."""
    real = report.paper_facts.figure
    changed = {"cv_folds": 4, "cv_test_speakers": 8}

    def figure(key):
        fact = real(key)
        return type(fact)(**{**vars(fact), "value": changed[key]}) if key in changed else fact

    monkeypatch.setattr(report.paper_facts, "figure", figure)
    assert report.paper_cv_text() == "4-fold cross-validation over speakers: 24 train and 8 test"
    table = report.paper_comparison(report.summary(report.long_results(_table())), "the stand-in", 8)
    assert "paper (SpokeN-100, 4 folds, paper protocol)" in table.columns
    all_paper_folds = report.deviations(models=["cnn_2d"], protocols=["paper", "honest"], folds_run=4, n_folds_total=4,
                                        epochs=75, max_batches={}, model_options={}, corpus=_Corpus())  # fmt: skip
    assert "folds" not in all_paper_folds  # 4 of 4 is all of the (changed) paper's folds
    assert "4 of 8 folds are run (paper: all 4 folds)" in report.deviations(
        models=["cnn_2d"], protocols=["paper", "honest"], folds_run=4, n_folds_total=8, epochs=75, max_batches={},
        model_options={}, corpus=_Corpus())  # fmt: skip


def test_the_counts_the_prose_quotes_follow_the_constants_that_decide_them(monkeypatch):
    """Classes and chance come from the task table, the paper's protocol from the facts: nothing typed."""
    from spoken100.baselines import human as report_human
    from spoken100.data import tasks

    monkeypatch.setitem(tasks.TASK_CLASSES, "number", 50)
    values = report.prose_values()
    assert values["n_classes_number"] == 50 and values["chance_number_pct"] == 2.0
    assert values["n_classes_language"] == len(tasks.LANGUAGES)
    assert values["chance_language_pct"] * values["n_classes_language"] == 100
    assert values["chance_digits_pct"] == 100 / values["n_digits"]
    # the band the prose quotes is the one the human-voice table's column is labelled with
    assert f"band-limited to {values['telephone_band_khz']:g} kHz" in report_human.BAND_LIMITED


def test_the_deviation_says_how_the_one_cycle_peak_was_chosen():
    """One range test per model on one task, one per model and task, or a rate typed in the profile."""
    settings = dict(models=["cnn_2d"], protocols=["honest"], folds_run=1, n_folds_total=8, max_batches={},
                    model_options={}, corpus=_Corpus(), epochs=3, schedule="onecycle")  # fmt: skip
    shared = report.deviations(range_test_task="language", **settings)
    assert "range test on the fit speakers' language task, used for both tasks" in shared
    assert "per model and task" in report.deviations(range_test_task=None, **settings)
    assert "range test" not in report.deviations(learning_rate=1e-3, **settings)
    assert f"weight decay {report.ONECYCLE_WEIGHT_DECAY:g}" in shared
