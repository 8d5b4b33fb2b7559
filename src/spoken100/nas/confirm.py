"""The confirmatory test: does the searched model beat the paper's fittest on speakers the search never saw?

The search picks its candidates by their accuracy on the fold's *validation* speakers, after
comparing tens of candidates on the same clips; the best of many is optimistic on the clips it was
picked on. So the search's verdict (:func:`spoken100.nas.report.dominance`) is only a screening.
The claim is decided here, once, with settings fixed in the profile before the search ran:

1. **What is compared.** The search's chosen candidate -- the most accurate candidate that
   dominates the paper's fittest architecture on validation, else the search's own fittest pick --
   and the paper's three published architectures (:func:`confirmation_genomes`).
2. **How.** Each is retrained from scratch on every clip of the fold's fit speakers with one longer,
   fixed schedule (by default the lab's whole ten-epoch candidate schedule, paper-facts §5.1), once
   per seed in ``seeds``, and scored once on the fold's *test* speakers, which neither the search
   nor this retraining ever used (:func:`confirm`; the trainings are
   :func:`~spoken100.nas.retrain.retrain_over_folds` artefacts).
3. **The verdict** (:func:`verdict`). The accuracy difference (chosen minus paper's fittest) gets a
   Welch *t* interval over the seeds. It is "higher" only if the whole interval is above zero,
   "lower" if it is below, otherwise "not distinguishable". The costs (estimated latency, flash) do
   not depend on training and come from the search's records. "Dominates" requires higher accuracy
   and no more estimated latency and flash; the sentence is computed whatever it says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from spoken100.nas.genome import Genome
from spoken100.nas.retrain import (
    INTERVAL_LEVEL,
    RUN_COLUMNS,
    RetrainSettings,
    retrain_over_folds,
    retrain_summary,
    retrained_model,
)
from spoken100.nas.search_config import PUBLISHED_VARIANTS, SearchConfig, published_candidates
from spoken100.nas.train import LAB_SCHEDULE

#: The label of the searched model in the tables; the paper's models are ``"paper <variant>"``.
CHOSEN = "search chosen"
#: The architecture the claim is about.
REFERENCE = "paper fittest"


@dataclass(frozen=True)
class ConfirmSettings:
    """Seeds and length of the confirmatory retraining (every fit clip of the search's fold, batch 32).

    epochs: with the default ``schedule`` (the lab's candidate schedule) 10 runs it to its end.
    """

    seeds: tuple[int, ...] = (1, 2, 3)
    epochs: int = 10
    schedule: tuple[tuple[int, float], ...] = LAB_SCHEDULE

    def retrain_settings(self, fold: int) -> RetrainSettings:
        return RetrainSettings(folds=(int(fold),), seeds=tuple(int(s) for s in self.seeds), epochs=int(self.epochs),
                               schedule=self.schedule)  # fmt: skip


def settings_from(seeds: Sequence[int] | None, epochs: int, search_seed: int | None = None) -> ConfirmSettings:
    """:class:`ConfirmSettings` from chapter 5's parameters (no seeds: no confirmation).

    Refuses, in one line naming the parameter, seeds that are not a list of distinct integers (a
    repeated seed reloads the same training, so its copies would fake agreement), a seed equal to
    the search's ``search_seed`` and epochs below 1. The search trained every candidate with its
    seed: a confirmation with that seed starts from the very weights and batch order the candidate
    was selected on (and, with the search's own settings, reloads that training), so it would not
    be a fresh retraining.
    """
    if seeds is not None and (isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence)):
        raise ValueError(f"confirm_seeds must be a list of integers, not {seeds!r}")
    seeds = tuple(int(s) for s in seeds or ())
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"confirm_seeds must be distinct (a repeated seed repeats the same training): {list(seeds)}")
    if search_seed is not None:
        _refuse_search_seed(seeds, int(search_seed))
    if int(epochs) < 1:
        raise ValueError(f"confirm_epochs must be at least 1, not {epochs!r}")
    return ConfirmSettings(seeds=seeds, epochs=int(epochs))


def chosen_candidate(result, published: pd.DataFrame | None) -> tuple[Genome, str]:
    """The searched genome the claim is about, and why it was chosen.

    The most accurate candidate that dominates the paper's fittest on validation (the search's own
    verdict, :func:`spoken100.nas.report.dominance`); if none does, the search's fittest pick.
    """
    from spoken100.nas.report import dominance  # the screening rule lives with the search's report

    goal = dominance({result.config.task: result}, {result.config.task: published} if published is not None else {})
    row = goal.iloc[0]
    if bool(row.get("reached", False)):
        genome_id = row["best genome"]
        match = result.candidates[result.candidates.genome_id == genome_id]
        return Genome.from_json(match.iloc[0].genome), "the most accurate candidate that dominated on validation"
    return result.pick("fittest"), "the search's fittest pick (no candidate dominated on validation)"


def confirmation_genomes(result, published: pd.DataFrame | None,
                         variants: Sequence[str] = PUBLISHED_VARIANTS) -> dict[str, Genome]:  # fmt: skip
    """Label -> genome: the chosen candidate (:data:`CHOSEN`) and the paper's architectures for the task."""
    chosen, _ = chosen_candidate(result, published)
    return _with_paper(chosen, result.config.task, variants)


def _with_paper(chosen: Genome, task: str, variants: Sequence[str]) -> dict[str, Genome]:
    """``{CHOSEN: chosen, "paper <variant>": genome, ...}`` for ``task``."""
    paper = {f"paper {name.split('_', 1)[1]}": genome
             for name, genome in published_candidates(task, variants).items()}  # fmt: skip
    return {CHOSEN: chosen, **paper}


def _refuse_search_seed(seeds: Sequence[int], search_seed: int) -> None:
    if search_seed in seeds:
        raise ValueError(f"confirm_seeds must not contain the search's seed {search_seed} (the candidates were "
                         f"selected on that seed's trainings): {list(seeds)}")  # fmt: skip


def confirm(corpus, config: SearchConfig, genomes: Mapping[str, Genome], settings: ConfirmSettings,
            progress: bool = True, n_jobs: int = 1) -> pd.DataFrame:  # fmt: skip
    """Retrain ``genomes`` on the search fold's fit speakers, once per seed; score them on its test speakers.

    Returns one row per (model, seed), as :func:`~spoken100.nas.retrain.retrain_over_folds`.
    """
    if not settings.seeds:
        raise ValueError("the confirmation needs at least one seed")
    _refuse_search_seed(settings.seeds, config.seed)
    # every model is also scored in int8, converted and calibrated as the search's candidates were
    retrain = replace(settings.retrain_settings(config.fold), n_calibration=config.n_calibration,
                      calibration_seed=config.seed + 1)  # fmt: skip
    return retrain_over_folds(corpus, config, genomes, retrain, progress=progress, n_jobs=n_jobs)


def difference_interval(a: np.ndarray, b: np.ndarray, level: float = INTERVAL_LEVEL) -> tuple[float, float, float]:
    """Mean of ``a`` minus mean of ``b`` and its Welch *t* interval; NaN bounds with fewer than 2 runs each."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return diff, float("nan"), float("nan")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = float(np.sqrt(va + vb))
    if se == 0:  # identical scores on every seed: no spread to build an interval from
        return diff, float("nan"), float("nan")
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, dof) * se)
    return diff, diff - half, diff + half


def accuracy_reading(low: float, high: float) -> str:
    """``"higher"``, ``"lower"`` or ``"not distinguishable"`` from a difference interval (NaN: undecided)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not distinguishable (no interval: one run per model, or no spread across seeds)"
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    return "not distinguishable"


def verdict(
    runs: pd.DataFrame, costs: Mapping[str, Mapping[str, float]], level: float = INTERVAL_LEVEL,
    column: str = "test_accuracy", what: str = "test accuracy",
) -> dict[str, Any]:  # fmt: skip
    """The confirmed verdict of one task: does :data:`CHOSEN` dominate :data:`REFERENCE` on the test speakers?

    runs: the rows of :func:`confirm` for one task. costs: label -> ``{"latency_ms", "flash_bytes"}``
    for :data:`CHOSEN` and :data:`REFERENCE` (estimated; they do not depend on training).
    column, what: the accuracy compared (``"test_accuracy_int8"``: the int8 models') and its name in
    the sentence. Returns the difference in percentage points with its interval, the three readings
    and ``dominates`` and a one-line ``sentence``.
    """
    scored = runs[runs[column].notna()] if column in runs else runs.iloc[:0].assign(**{column: []})
    ours = scored.loc[scored.model == CHOSEN, column].to_numpy(dtype=float)
    theirs = scored.loc[scored.model == REFERENCE, column].to_numpy(dtype=float)
    if not len(ours) or not len(theirs):
        return {"dominates": None, "sentence": "not confirmed: a model was not retrained", "accuracy": "not run"}
    diff, low, high = difference_interval(ours, theirs, level)
    accuracy = accuracy_reading(low, high)
    latency = "no more" if costs[CHOSEN]["latency_ms"] <= costs[REFERENCE]["latency_ms"] else "more"
    flash = "no more" if costs[CHOSEN]["flash_bytes"] <= costs[REFERENCE]["flash_bytes"] else "more"
    dominates = accuracy == "higher" and latency == "no more" and flash == "no more"
    head = "dominates" if dominates else "does not dominate"
    interval = (f"{100 * level:.0f} % interval {100 * low:+.1f} to {100 * high:+.1f}" if np.isfinite(low)
                else "no interval")  # fmt: skip
    sentence = (f"{head}: {what} {accuracy} ({100 * diff:+.1f} points, {interval}, "
                f"{len(ours)} and {len(theirs)} seeds), {latency} estimated "
                f"latency and {flash} flash than the paper's fittest")  # fmt: skip
    return {"dominates": dominates, "difference_pp": 100 * diff, "difference_low_pp": 100 * low,
            "difference_high_pp": 100 * high, "accuracy": accuracy, "latency": latency, "flash": flash,
            "seeds_chosen": int(len(ours)), "seeds_reference": int(len(theirs)), "sentence": sentence}  # fmt: skip


@dataclass
class Confirmation:
    """One task's confirmation: what was compared, why the searched model, its runs, costs and verdict.

    genomes: label -> genome (:func:`confirmation_genomes`). why: how the searched model was
    chosen. runs: the rows of :func:`confirm`. costs: label -> estimated latency and flash
    (:func:`model_costs`). verdict: :func:`verdict`, the pre-registered one (float accuracy).
    int8_verdict: the same rule on the int8 models' test accuracy, the models a board would run.
    """

    task: str
    genomes: dict[str, Genome]
    why: str
    runs: pd.DataFrame = field(repr=False)
    costs: dict[str, dict[str, float]]
    verdict: dict[str, Any]
    int8_verdict: dict[str, Any] = field(default_factory=dict)


def run_confirmation(corpus, config: SearchConfig, result, published: pd.DataFrame, settings: ConfirmSettings,
                     variants: Sequence[str] = PUBLISHED_VARIANTS, progress: bool = True,
                     n_jobs: int = 1) -> Confirmation:  # fmt: skip
    """The whole confirmation of one task's search: choose, retrain over the seeds, cost, decide.

    result: the task's :class:`~spoken100.nas.search.SearchResult`; published: the paper's
    architectures evaluated like its candidates (:func:`~spoken100.nas.search.evaluate_published`).
    """
    chosen, why = chosen_candidate(result, published)  # the screening verdict, computed once
    genomes = _with_paper(chosen, config.task, variants)
    runs = confirm(corpus, config, genomes, settings, progress=progress, n_jobs=n_jobs)
    costs = model_costs(result, published, genomes)
    int8 = verdict(runs, costs, column="test_accuracy_int8", what="int8 test accuracy")
    return Confirmation(config.task, genomes, why, runs, costs, verdict(runs, costs), int8)


def confirmed_models(data, config: SearchConfig, genomes: Mapping[str, Genome], settings: ConfirmSettings,
                     labels: Sequence[str] = (CHOSEN, REFERENCE)) -> dict[str, Any]:  # fmt: skip
    """Label -> the confirmation's trained model of the first seed (a :class:`~spoken100.nas.train.TrainedCandidate`).

    These are the weights :func:`confirm` trained and scored on the test speakers (loaded from its
    artefacts, trained if missing), so the deployment chapter deploys the models the verdict is about.
    data: the task's :class:`~spoken100.nas.task_data.TaskData` on the search's fold.
    """
    if not settings.seeds:
        raise ValueError("the confirmation has no seeds (confirm_seeds is empty): there is no confirmed model")
    missing = sorted(set(labels) - set(genomes))
    if missing:
        raise ValueError(f"no confirmed model labelled {missing}; the confirmation compared {sorted(genomes)}")
    retrain = settings.retrain_settings(config.fold)
    return {label: retrained_model(genomes[label], data, retrain, settings.seeds[0], config.threads,
                                   config.recalibrate_clips) for label in labels}  # fmt: skip


def model_costs(result, published: pd.DataFrame, genomes: Mapping[str, Genome]) -> dict[str, dict[str, float]]:
    """Estimated latency and flash of every label in ``genomes``, from the search's and the published records."""
    records = pd.concat([result.candidates, published], ignore_index=True).drop_duplicates("genome_id")
    by_id = records.set_index("genome_id")
    return {label: {"latency_ms": float(by_id.loc[g.genome_id(), "latency_ms"]),
                    "flash_bytes": float(by_id.loc[g.genome_id(), "flash_bytes"])}
            for label, g in genomes.items() if g.genome_id() in by_id.index}  # fmt: skip


def confirmation_table(runs: pd.DataFrame, costs: Mapping[str, Mapping[str, Mapping[str, float]]]) -> pd.DataFrame:
    """Per task and model: seeds, mean test accuracy and its interval (%), chance, estimated latency and flash.

    costs: task -> label -> costs (:func:`model_costs`).
    """
    summary = retrain_summary(runs)
    int8 = retrain_summary(runs, column="test_accuracy_int8") if "test_accuracy_int8" in runs else summary.iloc[:0]
    int8_mean = int8.set_index(["task", "model"])["mean"]
    table = pd.DataFrame({
        "task": summary.task, "model": summary.model, "seeds": summary.seeds,
        "test accuracy %": 100 * summary["mean"], "interval low %": 100 * summary.ci_low,
        "interval high %": 100 * summary.ci_high,
        "int8 test accuracy %": [100 * float(int8_mean.get((t, m), np.nan))
                                 for t, m in zip(summary.task, summary.model, strict=True)],
        "chance %": 100 * summary.chance,
    })  # fmt: skip
    table["est. latency ms (central)"] = [costs.get(t, {}).get(m, {}).get("latency_ms", np.nan)
                                          for t, m in zip(table.task, table.model, strict=True)]  # fmt: skip
    table["flash kB"] = [costs.get(t, {}).get(m, {}).get("flash_bytes", np.nan) / 1000
                         for t, m in zip(table.task, table.model, strict=True)]  # fmt: skip
    return table


def statement(confirmations: Mapping[str, Confirmation]) -> str:
    """Markdown: per task, which searched model was confirmed and why, and its computed verdict."""
    if not confirmations:
        return "**Not run in this profile** (`confirm_seeds` is empty)."
    lines = []
    for task, c in confirmations.items():
        chosen = c.genomes[CHOSEN]
        int8 = c.int8_verdict.get("sentence") if c.int8_verdict.get("dominates") is not None else None
        lines.append(f"- **{task}**: the searched model is {c.why} (`{chosen.genome_id()}`, {chosen.describe()}); "
                     f"it {c.verdict['sentence']}."
                     + (f" As int8 models, the ones a board would run, it {int8}." if int8 else ""))  # fmt: skip
    return "\n".join(lines)


def combined_table(confirmations: Mapping[str, Confirmation]) -> pd.DataFrame:
    """:func:`confirmation_table` of every task's confirmation (an empty table when none ran)."""
    if not confirmations:
        return confirmation_table(pd.DataFrame(columns=RUN_COLUMNS), {})
    runs = pd.concat([c.runs for c in confirmations.values()], ignore_index=True)
    return confirmation_table(runs, {task: c.costs for task, c in confirmations.items()})


NOT_CONFIRMED = "was not confirmed in this build"


def _said(v: Mapping[str, Any] | None, ran_only: bool = False) -> str:
    ran = v is not None and v.get("dominates") is not None
    return v["sentence"] if v is not None and (ran or not ran_only) else NOT_CONFIRMED


def _dominates(v: Mapping[str, Any] | None) -> str:
    return ("yes" if v["dominates"] else "no") if v is not None and v.get("dominates") is not None else "not run"


def _mean_of(table: pd.DataFrame, task: str, label: str, column: str) -> float:
    row = table[(table.task == task) & (table.model == label)] if column in table else table.iloc[:0]
    return float(row[column].iloc[0]) if len(row) else float("nan")


def findings(verdicts: Mapping[str, Mapping[str, Any]], table: pd.DataFrame,
             tasks: tuple[str, ...] = ("language", "number"),
             int8_verdicts: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    """Glue values of the confirmation: the verdict sentences and the two models' test accuracies per task.

    ``confirmed_*``: the pre-registered verdict (float accuracy); ``confirmed_int8_*``: the same rule
    on the int8 models' accuracy.
    """
    out: dict[str, Any] = {}
    for task in tasks:
        v, w = verdicts.get(task), (int8_verdicts or {}).get(task)
        out[f"confirmed_{task}"] = _said(v)
        out[f"confirmed_dominates_{task}"] = _dominates(v)
        out[f"confirmed_chosen_{task}"] = _mean_of(table, task, CHOSEN, "test accuracy %")
        out[f"confirmed_reference_{task}"] = _mean_of(table, task, REFERENCE, "test accuracy %")
        out[f"confirmed_int8_{task}"] = _said(w, ran_only=True)
        out[f"confirmed_int8_dominates_{task}"] = _dominates(w)
        out[f"confirmed_chosen_int8_{task}"] = _mean_of(table, task, CHOSEN, "int8 test accuracy %")
        out[f"confirmed_reference_int8_{task}"] = _mean_of(table, task, REFERENCE, "int8 test accuracy %")
    return out


__all__ = [
    "CHOSEN",
    "NOT_CONFIRMED",
    "REFERENCE",
    "Confirmation",
    "ConfirmSettings",
    "accuracy_reading",
    "chosen_candidate",
    "combined_table",
    "confirm",
    "confirmation_genomes",
    "confirmation_table",
    "confirmed_models",
    "difference_interval",
    "findings",
    "model_costs",
    "run_confirmation",
    "settings_from",
    "statement",
    "verdict",
]
