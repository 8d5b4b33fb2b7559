"""Tables and figures of the baselines chapter, built from finished training runs.

Three ways of reading a fold's accuracy appear side by side, always named:

``paper protocol``
    runs trained on all the fold's training speakers, epoch chosen on the test fold (the paper).
``honest``
    runs trained without their validation speakers, epoch chosen on those, test fold used once.
``honest runs, epoch chosen on test``
    the same honest runs read with the paper's rule: the difference to ``honest`` is the optimism
    of choosing the epoch on the test fold, measured on identical models.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import stats as sps

from spoken100.baselines.experiment import epochs_for
from spoken100.baselines.fsdd import FSDD_SAMPLE_RATE, N_DIGITS
from spoken100.baselines.human import TELEPHONE_CUTOFF_HZ
from spoken100.baselines.models import BASELINES, build_model
from spoken100.baselines.stats import (
    CONFIDENCE,
    accuracy_by,
    mean_sd_ci,
    one_reading,
    paired_comparison,
    prediction_table,
    wilson_interval,
)
from spoken100.baselines.train import ONECYCLE_WEIGHT_DECAY, RunSpec
from spoken100.data import paper_facts
from spoken100.data.assemble import PROMPT_SAMPLE_RATE
from spoken100.data.inputs import MEL_PARAMS
from spoken100.data.layout import SAMPLE_RATE
from spoken100.data.tasks import N_SAMPLES, TASK_CLASSES, TASK_TITLES, chance

PAPER = "paper protocol"
HONEST = "honest"
HONEST_TEST_RULE = "honest runs, epoch chosen on test"
SETTINGS = (PAPER, HONEST, HONEST_TEST_RULE)
#: Where the paper's baseline accuracies come from (the same for every model).
PAPER_SOURCE = paper_facts.figure("baseline_number_rnn").source


def long_results(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, task, fold, setting) with the accuracy that setting reports."""
    parts = []
    paper = table[table.protocol == "paper"]
    honest = table[table.protocol == "honest"]
    for setting, rows, column in (
        (PAPER, paper, "accuracy"),
        (HONEST, honest, "val_selected_accuracy"),
        (HONEST_TEST_RULE, honest, "test_selected_accuracy"),
    ):
        if len(rows):
            columns = ["model", "title", "task", "fold", column, "chance", *(["n_test"] if "n_test" in rows else [])]
            part = rows[columns].rename(columns={column: "accuracy"})
            parts.append(part.assign(setting=setting))
    if not parts:
        return pd.DataFrame(columns=["model", "title", "task", "fold", "accuracy", "chance", "setting"])
    return pd.concat(parts, ignore_index=True)


def summary(long: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per model, task and setting: chance, the fold statistics and an interval over the test clips.

    Fold statistics: mean, population SD (as the paper printed), sample SD and a t interval across
    folds (``ci_low``, ``ci_high``; NaN with one fold). Clip interval: a Wilson interval of the
    accuracy over all test clips of the folds run (``clip_low``, ``clip_high``, ``n_clips``), so a
    single fold still shows its uncertainty. It is conditional on these test speakers: clips of one
    speaker are not independent, and the variation between speaker folds needs more folds. It is
    left out (NaN) for the settings that choose the epoch on the test clips themselves, where an
    interval around the maximum over epochs would be biased upwards.
    """
    rows = []
    for (task, setting, model), group in long.groupby(["task", "setting", "model"], sort=False):
        stats = mean_sd_ci(group.accuracy, confidence)
        clips = {}
        if "n_test" in group and setting == HONEST:
            n = int(group.n_test.sum())
            correct = int(round(float((group.accuracy * group.n_test).sum())))
            low, high = wilson_interval(correct, n, confidence)
            clips = {"n_clips": n, "clip_low": low, "clip_high": high}
        rows.append({"task": task, "setting": setting, "model": model, "title": BASELINES[model].title,
                     "chance": chance(task), **stats.drop("confidence").to_dict(), **clips})  # fmt: skip
    out = pd.DataFrame(rows)
    if len(out):
        out["n"] = out["n"].astype(int)
    return out


def protocol_gap(
    long: pd.DataFrame,
    results: Sequence | None = None,
    index: pd.DataFrame | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Per model and task: how much choosing the epoch on the test fold inflates the same runs' accuracy.

    ``ci_low``/``ci_high``: a paired t interval across folds (NaN with one fold). With ``results``
    and the corpus ``index``, also ``clip_ci_low``/``clip_ci_high``: a paired interval over the test
    clips (each clip scored under both rules by the same run; normal approximation of the mean of
    the per-clip differences), which exists for a single fold too. It is conditional on the epochs
    the two rules chose and on these test speakers: it says how precisely these clips measure the
    gap, not how large the selection bias would be on other speakers (the gap is never negative
    by construction, and it is exactly 0 when both rules choose the same epoch).
    """
    rows = []
    honest = long[long.setting.isin([HONEST, HONEST_TEST_RULE])]
    clips = _clip_gaps(results, index, confidence) if results is not None and index is not None else {}
    for (task, model), group in honest.groupby(["task", "model"], sort=False):
        if set(group.setting) != {HONEST, HONEST_TEST_RULE}:
            continue
        result = paired_comparison(group, HONEST_TEST_RULE, HONEST, by="setting")
        rows.append({"task": task, "model": model, "title": BASELINES[model].title, "folds": int(result["n"]),
                     "epoch chosen on test": result["mean_a"], "epoch chosen on validation": result["mean_b"],
                     "optimism": result["mean_difference"], "ci_low": result["ci_low"],
                     "ci_high": result["ci_high"], **clips.get((task, model), {})})  # fmt: skip
    return pd.DataFrame(rows)


def optimism_sentence(gap: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """The findings' sentence on the paper's selection rule: the largest inflation in :func:`protocol_gap`,
    with its interval over the test clips. When the two rules' epochs scored alike in every run
    (the same epoch, or two epochs equally accurate) every per-clip difference is 0, and the
    sentence says so instead of printing a zero-width interval."""
    if gap.empty:
        return "The paper's selection rule was not read from this build's runs."
    worst = gap.loc[gap.optimism.idxmax()]
    if not worst.optimism > 0:
        return ("Choosing the epoch on the test fold instead changed no accuracy: in every run the epochs the two "
                "rules chose scored alike on the test clips, so these runs say nothing about how large the selection "
                "bias is.")  # fmt: skip
    interval = ""
    if np.isfinite(worst.get("clip_ci_low", np.nan)):
        interval = (f" ({100 * confidence:g} % interval over its {int(worst.clips):,} test clips, given the epochs "
                    f"chosen: {100 * worst.clip_ci_low:.2f} to {100 * worst.clip_ci_high:.2f})")  # fmt: skip
    return (f"Choosing the epoch on the test fold instead inflated the {worst.title}'s {worst.task}-task accuracy by "
            f"{100 * worst.optimism:.2f} percentage points on identical runs, the most of any model{interval}.")  # fmt: skip


def _clip_gaps(results: Sequence, index: pd.DataFrame, confidence: float) -> dict:
    honest = [r for r in results if r.spec.protocol == "honest"]
    if not honest:
        return {}
    by_test = prediction_table(honest, index, "best_test")
    by_val = prediction_table(honest, index, "best_val")
    difference = by_test["correct"].astype(float) - by_val["correct"].astype(float)
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    out = {}
    for (task, model), d in difference.groupby([by_test.task, by_test.model], sort=False):
        half = z * float(d.std(ddof=1)) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        out[(task, model)] = {"clip_ci_low": float(d.mean()) - half, "clip_ci_high": float(d.mean()) + half,
                              "clips": len(d)}  # fmt: skip
    return out


def _fmt(row: pd.Series) -> str:
    """A summary row as text: mean ± SD across folds when there are several, and always an interval.

    One fold, or folds that all scored the same, have no spread across folds, so they are never
    printed "± 0.00": their interval is the Wilson interval over the test clips (or, where the
    epoch was chosen on those clips, a statement that there is none).
    """
    mean = row["mean"]
    if np.isnan(mean):
        return "–"
    text = f"{100 * mean:.2f} %"
    spread = row["n"] > 1 and row.get("sd_population", 0) > 0
    if spread:
        text = f"{100 * mean:.2f} ± {100 * row['sd_population']:.2f} % ({100 * CONFIDENCE:g} % CI over folds {100 * row['ci_low']:.1f}-{100 * row['ci_high']:.1f})"
    elif not np.isnan(row.get("clip_low", np.nan)):
        text += f" ({100 * CONFIDENCE:g} % CI over {int(row['n_clips']):,} test clips {100 * row['clip_low']:.1f}-{100 * row['clip_high']:.1f})"
    elif row["n"] > 1:
        text += f" (the same on all {int(row['n'])} folds; no interval over clips for this setting)"
    return text


def paper_cv_text() -> str:
    """The paper's cross-validation in words, from the published facts (``cv_folds``, ``cv_test_speakers``).

    >>> paper_cv_text()
    '8-fold cross-validation over speakers: 28 train and 4 test'
    """
    folds = int(paper_facts.figure("cv_folds").value)
    test = int(paper_facts.figure("cv_test_speakers").value)
    train = int(paper_facts.figure("n_speakers").value) - test
    return f"{folds}-fold cross-validation over speakers: {train} train and {test} test"


def prose_values() -> dict[str, int | float | str]:
    """The counts and rates chapter 4's prose quotes, from the constants that decide them (for ``glue``).

    The paper's protocol comes from the published facts (:func:`paper_cv_text`, ``cv_folds``,
    ``baseline_epochs``); classes, chance levels, the input length and the sample rates come from the
    data layer and the FSDD and human-voice studies, so the text cannot drift from what runs.
    """
    values: dict[str, int | float | str] = {
        "paper_cv_text": paper_cv_text(),
        "paper_folds": int(paper_facts.figure("cv_folds").value),
        "paper_epochs": int(paper_facts.figure("baseline_epochs").value),
        "n_digits": N_DIGITS,
        "chance_digits_pct": 100 * chance("digit"),
        "n_samples": N_SAMPLES,
        "model_khz": MEL_PARAMS["sr"] / 1000,  # one second of model input
        "corpus_khz": SAMPLE_RATE / 1000,
        "fsdd_khz": FSDD_SAMPLE_RATE / 1000,
        "prompt_khz": PROMPT_SAMPLE_RATE / 1000,  # the Asterisk prompts of the human-voice study
        "telephone_band_khz": TELEPHONE_CUTOFF_HZ / 1000,
    }
    for task, n_classes in TASK_CLASSES.items():
        values[f"n_classes_{task}"] = n_classes
        values[f"chance_{task}_pct"] = 100 * chance(task)
    return values


def paper_comparison(summary_table: pd.DataFrame, corpus_label: str, n_folds_total: int) -> pd.DataFrame:
    """The paper's published accuracies beside this build's, one row per model and task.

    Every column name says what it holds: the paper's numbers (real voices, its folds, epoch chosen on
    the test fold) and ours under each setting on this build's corpus.
    """
    paper_folds = int(paper_facts.figure("cv_folds").value)
    rows = []
    for model, spec in BASELINES.items():
        for task in ("number", "language"):
            mine = summary_table[(summary_table.model == model) & (summary_table.task == task)]
            if mine.empty:
                continue
            published = spec.number_accuracy.display() if task == "number" else "not published"
            row = {"model": spec.title, "task": task, "chance": f"{100 * chance(task):g} %",
                   f"paper (SpokeN-100, {paper_folds} folds, paper protocol)": published}  # fmt: skip
            for setting in SETTINGS:
                hit = mine[mine.setting == setting]
                label = f"this build: {setting}"
                if len(hit):
                    h = hit.iloc[0]
                    row[label] = _fmt(h) + f", {int(h['n'])}/{n_folds_total} folds"
            rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["note"] = f"Ours: {corpus_label}. Paper: {PAPER_SOURCE}."
    return table


# ---- figures ----------------------------------------------------------------------------------


def training_noise_sentence(spread: pd.DataFrame) -> str:
    """The findings' sentence on the seed replicates: how far the first replicated model moved per task.

    spread: :func:`spoken100.baselines.stats.seed_spread`'s table. Without replicates, a sentence that
    says none were trained (so the findings never print a model called "nan").
    """
    if spread.empty:
        return ("No model was retrained with other seeds in this build (`replicate_models` or `replicate_seeds` is "
                "empty), so the training's own noise is not measured here.")  # fmt: skip
    model = spread.model.iloc[0]
    rows = spread[spread.model == model]
    parts = [f"{100 * row.min:.1f}-{100 * row.max:.1f} % on the {row.task} task ({row.spread_points:.1f} points, "
             f"against a {row.clip_interval_points:.1f}-point interval over its test clips)"
             for row in rows.itertuples()]  # fmt: skip
    return (f"Retrained with other seeds on the same speakers at the same rate ({len(rows.seeds.iloc[0])} seeds in "
            f"all), the {BASELINES[model].title} scored {'; '.join(parts)}. Differences between models smaller than "
            "that are not evidence that one is better.")  # fmt: skip


def replicate_spreads(spread: pd.DataFrame, tasks: Sequence[str]) -> dict[str, float]:
    """Per task, the first replicated model's spread over seeds in points (NaN without one), for the summary page."""
    first = spread[spread.model == spread.model.iloc[0]] if len(spread) else spread
    points = dict(zip(first.task, first.spread_points, strict=True))
    return {task: float(points.get(task, float("nan"))) for task in tasks}


def accuracy_by_gender(predictions: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per task and model, each gender's accuracy as text with its Wilson interval over the pooled
    test clips, and the task's chance level beside them (a pivot of :func:`stats.accuracy_by`).
    Only the honest runs' predictions count when there are any, so that a profile training both
    protocols neither counts a test clip twice nor mixes in epochs chosen on the test clips."""
    by = accuracy_by(one_reading(predictions), ["task", "model", "gender"], confidence)
    by["text"] = [f"{100 * r.accuracy:.1f} % ({100 * r.ci_low:.1f}-{100 * r.ci_high:.1f}, {int(r.n):,} clips)"
                  for r in by.itertuples()]  # fmt: skip
    wide = by.pivot_table(index=["task", "model"], columns="gender", values="text", aggfunc="first")
    wide.columns = [f"{gender} ({100 * confidence:g} % CI)" for gender in wide.columns]
    wide.insert(0, "chance", [f"{100 * chance(task):g} %" for task, _ in wide.index])
    return wide


def noise_table(noise: pd.DataFrame) -> pd.DataFrame:
    """:func:`studies.noise_study` rows as one line per task, model and noise colour, the SNRs as
    columns, and the task's chance level beside them."""
    wide = noise.pivot_table(index=["task", "model", "noise"], columns="snr_db", values="accuracy", sort=False)
    wide.insert(0, "chance", [chance(task) for task, _, _ in wide.index])
    return wide


def replicated_model(spread: pd.DataFrame) -> str:
    """Which model :func:`replicate_spreads` speaks of, and with which seeds (the comparison page names it)."""
    if spread.empty:
        return ""  # nothing to name: the row's value already reads "not computed"
    first = spread.iloc[0]
    return f"{BASELINES[first.model].title}, seeds {', '.join(map(str, first.seeds))}, fold {first.fold}"


def fold_accuracies(long: pd.DataFrame) -> plt.Figure:
    """Accuracy of every fold per model, one panel per task, coloured by setting; chance as a line."""
    tasks = [t for t in ("language", "number") if t in set(long.task)]
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4), squeeze=False)
    order = [BASELINES[m].title for m in BASELINES if m in set(long.model)]
    for ax, task in zip(axes[0], tasks, strict=True):
        part = long[long.task == task]
        sns.stripplot(data=part, x="title", y="accuracy", hue="setting", order=order, dodge=True, ax=ax,
                      hue_order=[s for s in SETTINGS if s in set(part.setting)], size=6, jitter=0.1)  # fmt: skip
        ax.axhline(part.chance.iloc[0], color="grey", ls=":", lw=1, label="chance")
        ax.set(title=TASK_TITLES[task], xlabel="", ylabel="test accuracy", ylim=(0, 1.02))
        ax.tick_params(axis="x", rotation=20)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def learning_curves(results: Sequence) -> plt.Figure:
    """Training, validation and test accuracy per epoch (mean over folds), one panel per model and task."""
    frames = []
    for r in results:
        h = r.history.assign(model=BASELINES[r.spec.model].title, task=r.spec.task, protocol=r.spec.protocol,
                             fold=r.spec.fold.fold)  # fmt: skip
        frames.append(h)
    data = pd.concat(frames, ignore_index=True)
    value_columns = [c for c in ("train_accuracy", "val_accuracy", "test_accuracy") if c in data.columns]
    data = data.melt(id_vars=["model", "task", "protocol", "fold", "epoch"], value_vars=value_columns,
                     var_name="split", value_name="accuracy").dropna()  # fmt: skip
    data["split"] = data["split"].str.replace("_accuracy", "") + " (" + data["protocol"] + ")"
    grid = sns.relplot(data=data, x="epoch", y="accuracy", hue="split", row="task", col="model", kind="line",
                       height=2.4, aspect=1.1, errorbar=None, facet_kws={"ylim": (0, 1.02)})  # fmt: skip
    grid.set_titles("{col_name} · {row_name}")
    for (task, _), ax in grid.axes_dict.items():  # chance, so a curve that never left it is seen as such
        ax.axhline(chance(task), color="grey", ls=":", lw=1)
    grid.figure.suptitle("dotted: chance", y=1.0, fontsize=9)
    return grid.figure


def confusion_heatmap(cm: pd.DataFrame, title: str, annotate: bool | None = None) -> plt.Figure:
    """Row-normalised confusion matrix (each true class sums to 1)."""
    norm = cm.div(cm.sum(axis=1).replace(0, np.nan), axis=0)
    size = len(cm)
    annotate = size <= 12 if annotate is None else annotate
    side = 3.5 if size <= 12 else 9
    fig, ax = plt.subplots(figsize=(side + 1, side))
    sns.heatmap(norm, ax=ax, cmap="viridis", vmin=0, vmax=1, annot=annotate, fmt=".2f", square=True,
                cbar_kws={"label": "share of the true class"},
                xticklabels=1 if size <= 12 else 10, yticklabels=1 if size <= 12 else 10)  # fmt: skip
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def accuracy_bars(table: pd.DataFrame, column: str, title: str, chance: float | None = None) -> plt.Figure:
    """Accuracy with its Wilson interval per group (the output of :func:`stats.accuracy_by`), and the
    task's ``chance`` level as a dotted line when given."""
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * len(table) + 2), 3))
    x = np.arange(len(table))
    ax.bar(x, table.accuracy, color=sns.color_palette("colorblind")[0])
    ax.errorbar(x, table.accuracy, yerr=[table.accuracy - table.ci_low, table.ci_high - table.accuracy],
                fmt="none", color="black", capsize=3)  # fmt: skip
    ax.set_xticks(x, table[column].astype(str), rotation=30 if len(table) > 5 else 0)
    if chance is not None:
        ax.axhline(chance, color="grey", ls=":", lw=1, label="chance")
        ax.legend(fontsize=8)
    ax.set(ylim=(0, 1.02), ylabel="accuracy", title=title)
    fig.tight_layout()
    return fig


def parameter_count(model: str, n_classes: int, options: dict | None = None) -> int:
    """Trainable parameters of ``model`` built with ``options`` (e.g. a narrower BiLSTM)."""
    built = build_model(model, n_classes, **(options or {}))
    return sum(p.numel() for p in built.parameters() if p.requires_grad)


def model_recipe(
    model: str,
    *,
    epochs: int | dict[str, int],
    schedule: str,
    model_options: dict[str, dict] | None = None,
    max_batches: dict[str, int | None] | None = None,
    n_classes: int = 100,
) -> str:
    """One line: how this build trains ``model`` where it differs from the paper (epochs, schedule,
    a batch cap, a changed network with its parameter count at ``n_classes`` outputs), for the
    comparison page's row of that model and task, so a gap to the paper's figure is not read as
    the protocol's or the corpus's alone. The paper's own recipe gives an empty string."""
    paper_epochs = int(paper_facts.figure("baseline_epochs").value)
    n = epochs_for(epochs, model)
    parts = []
    if schedule != "paper" or n != paper_epochs:
        how = "one-cycle AdamW at a range-tested peak rate" if schedule == "onecycle" else "the paper's Adam steps"
        parts.append(
            f"{n} epoch{'s' if n != 1 else ''} of {how} (paper: {paper_epochs} epochs of Adam at stepped rates)"
        )
    cap = (max_batches or {}).get(model)
    if cap:
        parts.append(f"at most {cap} batches of {RunSpec.batch_size} per epoch (paper: every clip)")
    options = (model_options or {}).get(model) or {}
    if options:
        changed = ", ".join(f"{option}={value}" for option, value in options.items())
        published = paper_facts.figure(f"params_{model}_{n_classes}").value
        count = parameter_count(model, n_classes, options)
        parts.append(f"{changed}: {count:,} parameters at {n_classes} classes (paper: {published:,.0f})")
    return "; ".join(parts)


def epochs_text(epochs: int | dict[str, int], models: Sequence[str]) -> str:
    """This build's epochs per run as prose: ``"2 epochs"``, or per model when they differ."""
    counts = {model: epochs_for(epochs, model) for model in models}
    if len(set(counts.values())) <= 1:
        n = next(iter(counts.values()), epochs_for(epochs, "default") if isinstance(epochs, dict) else epochs)
        return f"{n} epoch{'s' if n != 1 else ''}"
    return "epochs per model: " + ", ".join(f"{BASELINES[m].title} {n}" for m, n in counts.items())


def model_accuracy(summary_table: pd.DataFrame, model: str, task: str) -> float:
    """``model``'s mean accuracy on ``task`` in a :func:`summary` table: under the honest protocol's
    validation rule when the build trained honest runs, else under the first setting it has (a
    paper-only profile); NaN when the model has no row."""
    rows = summary_table[(summary_table.task == task) & (summary_table.model == model)]
    if rows.empty:
        return float("nan")
    honest = rows[rows.setting == HONEST]
    return float((honest if len(honest) else rows).iloc[0]["mean"])


def accuracy_text(row: pd.Series | dict, n_classes: int) -> str:
    """A :func:`summary` row as the comparison page prints it: the accuracy with its interval (see
    :func:`_fmt`: across folds, else over the test clips; never "± 0.00") and chance beside it."""
    return f"{_fmt(pd.Series(dict(row)))} (chance {100 / n_classes:g} %)"


def deviations(
    *,
    models: Sequence[str],
    protocols: Sequence[str],
    folds_run: int,
    n_folds_total: int,
    epochs: int | dict[str, int],
    max_batches: dict[str, int | None],
    model_options: dict[str, dict],
    corpus,
    schedule: str = "paper",
    learning_rate: str | float | dict[str, float] = "range-test",
    range_test_task: str | None = None,
) -> str:
    """A Markdown list of every way this build's settings differ from the paper's protocol.

    learning_rate, range_test_task: as for :func:`~spoken100.baselines.experiment.cross_validate`
    (they say how the one-cycle peak was chosen).
    """
    items = []
    if schedule == "onecycle":
        if learning_rate != "range-test":
            peak = "a rate set in the profile"
        elif range_test_task:
            peak = f"a rate chosen per model by a range test on the fit speakers' {range_test_task} task, used for both tasks"
        else:
            peak = "a rate chosen per model and task by a range test on the fit speakers"
        items.append(
            f"a short-budget schedule: AdamW (weight decay {ONECYCLE_WEIGHT_DECAY:g}) with a one-cycle learning rate "
            f"(30 % warm-up, then cosine annealing) peaking at {peak} "
            f"(paper: Adam at stepped rates chosen for {paper_facts.figure('baseline_epochs').value:g} epochs)"
        )
    if corpus.kind == "standin":
        items.append("the corpus is the espeak-ng stand-in, not the paper's ElevenLabs voices")
    if corpus.subset:
        items.append(f"a subset of {len(corpus.speakers)} speakers is used")
    paper_folds = int(paper_facts.figure("cv_folds").value)
    if folds_run < paper_folds or n_folds_total != paper_folds:
        items.append(f"{folds_run} of {n_folds_total} folds are run (paper: all {paper_folds} folds)")
    paper_epochs = int(paper_facts.figure("baseline_epochs").value)
    for model in models if isinstance(epochs, dict) else models[:1]:
        n = epochs_for(epochs, model)
        if n == paper_epochs:
            continue
        who = f"{BASELINES[model].title}: " if isinstance(epochs, dict) else ""
        unreached = sorted({first for m in (models if who == "" else [model])
                            for first, _ in BASELINES[m].learning_rates if first >= n})  # fmt: skip
        steps = (f"; the paper's learning-rate steps at epochs {', '.join(map(str, unreached))} are not reached"
                 if schedule == "paper" and unreached else "")  # fmt: skip
        items.append(f"{who}{n} epochs per run (paper: {paper_epochs}{steps})")
    for model in models:
        cap = (max_batches or {}).get(model)
        if cap:
            items.append(
                f"{BASELINES[model].title}: at most {cap} training batches of {RunSpec.batch_size} per epoch (paper: every clip)"
            )
        options = (model_options or {}).get(model) or {}
        if options:
            changed = ", ".join(f"`{option}={value}`" for option, value in options.items())
            n_classes = TASK_CLASSES["number"]
            published = paper_facts.figure(f"params_{model}_{n_classes}").value
            items.append(
                f"{BASELINES[model].title}: {changed}, {parameter_count(model, n_classes, options):,} parameters at "
                f"{n_classes} classes (paper: the published architecture, {published:,.0f})"
            )
    if "cnn_effnet" in models:
        items.append(
            "EfficientNet-B0 is trained from scratch (paper: ImageNet weights, which cannot be downloaded here)"
        )
    if "paper" not in protocols:
        items.append(
            "no paper-protocol runs: the paper's selection rule is read from the honest runs, which train on "
            "the fold's training speakers minus the validation speakers"
        )
    same = "schedules" if schedule == "paper" else "initialisation"
    items.append(f"PyTorch instead of Keras (same layers, parameter counts and {same}; see the cost table)")
    return "\n".join(f"- {item}" for item in items)
