"""Tables and figures of the EvoNAS chapter: search progress, Pareto fronts, picks, the paper beside us.

Everything here reads finished :class:`~spoken100.nas.search.SearchResult` objects and the tables of
:func:`~spoken100.nas.search.evaluate_published`; nothing trains and nothing imports TensorFlow.

The paper's own EvoNAS figures are the constants in :data:`PAPER_FIGURES`, each with its source and
the corpus it was measured on. They come from the real recordings and the paper's protocol (8-fold
cross-validation, epoch chosen on the test fold, latency measured on the board); this build's
numbers come from the corpus named on the page and a short training proxy, and the two are never
mixed in one column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from spoken100.data import paper_facts
from spoken100.data.tasks import TASK_CLASSES, TASK_TITLES
from spoken100.nas.calibration import paper_fittest_estimate
from spoken100.nas.costs import ENERGY_MIN_MJ, FITNESS_WEIGHTS, ROM_MIN_BYTES
from spoken100.nas.search import ROLE_VARIANTS, ROLES, SearchResult
from spoken100.nas.train import LAB_SCHEDULE, learning_rate

PAPER_CORPUS = (f"SpokeN-100 recordings (ElevenLabs voices), the paper's "
                f"{paper_facts.figure('cv_folds').value:g}-fold cross-validation")  # fmt: skip
#: Column labels of estimated costs: every latency and energy of this build is an estimate with a band.
LATENCY_LABEL = "est. latency ms, central (band low–high)"
ENERGY_LABEL = "est. energy mJ, central (band low–high)"


def _paper_row(key: str, task: str, role: str, latency_key: str | None = None) -> dict[str, Any]:
    fig = paper_facts.figure(key)
    latency = paper_facts.figure(latency_key).value if latency_key else None
    return {"task": task, "role": role, "accuracy_pct": fig.percent,
            "sd_pct": None if fig.sd is None else 100 * fig.sd, "latency_ms": latency,
            "source": fig.source, "corpus": PAPER_CORPUS}  # fmt: skip


#: The paper's published EvoNAS figures (accuracy in %, latency in ms measured on the nRF52840), read
#: from :mod:`spoken100.data.paper_facts`. ``role`` is ``"not stated"`` where the source does not say
#: which model a figure belongs to.
PAPER_FIGURES: tuple[dict[str, Any], ...] = (
    _paper_row("evonas_number_accurate", "number", "most accurate"),
    _paper_row("evonas_number_fastest", "number", "fastest"),
    _paper_row("evonas_number_fittest", "number", "fittest"),
    _paper_row("evonas_number_fittest_summary", "number", "fittest", latency_key="evonas_fittest_latency_ms"),
    _paper_row("evonas_language_deployable", "language", "not stated"),
)

_ROLE_MARKERS = {"most accurate": "^", "fastest": ">", "fittest": "D"}
_ROLE_COLOURS = {"most accurate": "#0072B2", "fastest": "#009E73", "fittest": "#D55E00"}


def paper_figures() -> pd.DataFrame:
    """:data:`PAPER_FIGURES` as a table."""
    return pd.DataFrame(list(PAPER_FIGURES))


# ---- tables ---------------------------------------------------------------------------------------
def _cost_columns(table: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=table.index)
    out["architecture"] = table["description"]
    out["val. accuracy %"] = 100 * table["val_accuracy"].astype(float)
    if "val_accuracy_int8" in table and table["val_accuracy_int8"].notna().any():
        out["val. accuracy int8 %"] = 100 * table["val_accuracy_int8"].astype(float)
    out[LATENCY_LABEL] = [
        band_text(c, lo, hi, "{:.0f}")
        for c, lo, hi in zip(table["latency_ms"], table["latency_ms_low"], table["latency_ms_high"], strict=True)
    ]
    out[ENERGY_LABEL] = [
        band_text(c, lo, hi, "{:.2f}")
        for c, lo, hi in zip(table["energy_mj"], table["energy_mj_low"], table["energy_mj_high"], strict=True)
    ]
    if "macs_frontend" in table:
        out["front end % of MACs"] = 100 * table["macs_frontend"].astype(float) / table["macs"].astype(float)
        out["front end % of est. latency (central)"] = (
            100 * table["latency_ms_frontend"].astype(float) / table["latency_ms"].astype(float)
        )
    out["flash kB"] = table["flash_bytes"].astype(float) / 1000
    out["RAM kB"] = table["ram_bytes"].astype(float) / 1000
    out["MACs (M)"] = table["macs"].astype(float) / 1e6
    out["params"] = table["n_params"].astype("Int64")
    out["fitness"] = table["fitness"].astype(float)
    return out


def band_text(central: Any, low: Any, high: Any, fmt: str = "{:.0f}") -> str:
    """``"368 (27–371)"``: a central estimate with its band, or ``"–"`` when it was not computed."""
    if not all(_finite(v) for v in (central, low, high)):
        return "–"
    return f"{fmt.format(float(central))} ({fmt.format(float(low))}–{fmt.format(float(high))})"


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def picks_table(results: Mapping[str, SearchResult]) -> pd.DataFrame:
    """The most accurate, fastest and fittest pick of every task, with their costs and architecture."""
    parts = []
    for task, result in results.items():
        if result.picks.empty:
            continue
        picks = result.picks.reset_index()
        table = _cost_columns(picks)
        table.insert(0, "task", task)
        table.insert(1, "pick", picks["role"])
        table.insert(2, "genome", picks["genome_id"])
        parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def published_table(published: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The paper's architectures as evaluated in this build (one row per published model)."""
    parts = []
    for task, table in published.items():
        t = _cost_columns(table)
        t.insert(0, "task", task)
        t.insert(1, "paper model", table["model"])
        t["feasible"] = table["feasible"]
        t["reason"] = table["reason"].fillna("")
        parts.append(t)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def infeasible_table(results: Mapping[str, SearchResult]) -> pd.DataFrame:
    """Every infeasible candidate with the stage that failed and why."""
    parts = []
    for task, result in results.items():
        bad = result.candidates[~result.candidates.feasible.astype(bool)]
        columns = {"task": task, "generation": bad.generation, "genome": bad.genome_id, "stage": bad.stage,
                   "reason": bad.reason, "architecture": bad.description}  # fmt: skip
        parts.append(pd.DataFrame(columns))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _published_row(published: pd.DataFrame | None, variant: str) -> pd.Series | None:
    if published is None or published.empty:
        return None
    rows = published[published.variant == variant]
    return rows.iloc[0] if len(rows) else None


def paper_comparison(
    results: Mapping[str, SearchResult], published: Mapping[str, pd.DataFrame], corpus_label: str
) -> pd.DataFrame:
    """The paper's published figures beside this build's, one row per task and model role.

    Columns: the paper's figure with its source and corpus; the paper's architecture trained and
    measured with this build's protocol; this build's pick for the same role. Accuracies in %.
    A paper figure whose model is not stated gets a row of its own.
    """
    rows = []
    figures = paper_figures()
    for task in results:
        for role in ROLES:
            result = results[task]
            ours = result.picks.loc[role] if role in result.picks.index else None
            theirs = _published_row(published.get(task), ROLE_VARIANTS[role])
            paper = figures[(figures.task == task) & (figures.role == role)]
            rows.append({
                "task": task,
                "model": role,
                "paper: accuracy %": "; ".join(_paper_text(f) for _, f in paper.iterrows()) or "not published",
                "paper: source": "; ".join(paper.source) if len(paper) else "",
                "paper: corpus": PAPER_CORPUS if len(paper) else "",
                "paper architecture, this build: val. accuracy %": _pct(theirs, "val_accuracy"),
                f"paper architecture, this build: {LATENCY_LABEL}": _band(theirs),
                "our search, this build: val. accuracy %": _pct(ours, "val_accuracy"),
                f"our search, this build: {LATENCY_LABEL}": _band(ours),
                "this build: corpus": corpus_label,
            })  # fmt: skip
        for _, f in figures[(figures.task == task) & (figures.role == "not stated")].iterrows():
            rows.append({"task": task, "model": "EvoNAS model (not stated)", "paper: accuracy %": _paper_text(f),
                         "paper: source": f.source, "paper: corpus": f.corpus,
                         "this build: corpus": corpus_label})  # fmt: skip
    return pd.DataFrame(rows)


def _paper_text(f: pd.Series) -> str:
    text = f"{f.accuracy_pct:.2f}".rstrip("0").rstrip(".")
    if _finite(f.sd_pct):
        text += f" ± {f.sd_pct:.2f}"
    if _finite(f.latency_ms):
        text += f" at {f.latency_ms:.0f} ms (measured)"
    return text


def _pct(row: pd.Series | None, column: str) -> float:
    return float("nan") if row is None or not _finite(row[column]) else 100 * float(row[column])


def _band(row: pd.Series | None) -> str:
    return "–" if row is None else band_text(row["latency_ms"], row["latency_ms_low"], row["latency_ms_high"])


def validation_clips(result: SearchResult) -> int:
    """How many validation clips every candidate of ``result`` was scored on."""
    available = int(result.split.get("clips", {}).get("val", 0))
    cap = result.config.max_val_clips
    return available if cap is None else min(int(cap), available)


def accuracy_se_pp(accuracy: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on ``n`` clips, in percentage points.

    Accuracies of the search are estimates from a sample of validation clips; differences of about
    one or two standard errors (one model against another, both on the same clips) may be noise.
    """
    if n <= 0 or not 0.0 <= accuracy <= 1.0:
        return float("nan")
    return 100.0 * float(np.sqrt(accuracy * (1.0 - accuracy) / n))


def dominance(
    results: Mapping[str, SearchResult], published: Mapping[str, pd.DataFrame], reference: str = "fittest"
) -> pd.DataFrame:
    """Did the search find a model that dominates the paper's ``reference`` architecture, per task?

    A searched candidate dominates when it is feasible and has at least the reference's validation
    accuracy at no more estimated latency and no more flash, all under this build's protocol (the
    reference is trained and measured exactly like the candidates). ``reached`` is ``False`` when
    the reference was not evaluated or is infeasible. The best dominating candidate is the most
    accurate one (then the fastest); ``best improves`` says in which objectives it is strictly
    better (an accuracy gain alone may be training noise: the validation clips are a sample).
    """
    rows = []
    for task, result in results.items():
        ref = _published_row(published.get(task), reference)
        row: dict[str, Any] = {"task": task, "reference": f"paper's {reference}"}
        if ref is None or not bool(ref["feasible"]):
            note = "the reference was not evaluated" if ref is None else f"reference infeasible: {ref['reason']}"
            rows.append({**row, "reached": False, "n_dominating": 0, "note": note})
            continue
        c = result.candidates
        mask = (
            c.feasible.astype(bool)
            & (c.val_accuracy >= ref["val_accuracy"])
            & (c.latency_ms <= ref["latency_ms"])
            & (c.flash_bytes <= ref["flash_bytes"])
            & (c.genome_id != ref["genome_id"])
        )
        winners = c[mask].sort_values(["val_accuracy", "latency_ms", "flash_bytes"], ascending=[False, True, True])
        row.update({
            "reached": bool(len(winners)),
            "n_dominating": int(len(winners)),
            "reference val. accuracy %": 100 * float(ref["val_accuracy"]),
            f"reference {LATENCY_LABEL}": _band(ref),
            "reference flash kB": float(ref["flash_bytes"]) / 1000,
            "validation clips": validation_clips(result),
            "accuracy SE pp": accuracy_se_pp(float(ref["val_accuracy"]), validation_clips(result)),
        })  # fmt: skip
        if len(winners):
            best = winners.iloc[0]
            row.update({
                "best genome": best.genome_id,
                "best val. accuracy %": 100 * float(best.val_accuracy),
                f"best {LATENCY_LABEL}": _band(best),
                "best flash kB": float(best.flash_bytes) / 1000,
                "best architecture": best.description,
                "best improves": ", ".join(name for name, better in (
                    ("accuracy", best.val_accuracy > ref["val_accuracy"]),
                    ("latency", best.latency_ms < ref["latency_ms"]),
                    ("flash", best.flash_bytes < ref["flash_bytes"])) if better) or "nothing (ties)",
            })  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def schedule_text(epochs: int, schedule: tuple[tuple[int, float], ...] = LAB_SCHEDULE) -> str:
    """The learning rates of the lab's schedule over the ``epochs`` a candidate trains, in words.

    >>> schedule_text(3, ((4, 0.01), (7, 0.001)))
    'learning rate 0.01 in all 3 epochs'
    >>> schedule_text(10, ((4, 0.01), (7, 0.001)))
    'learning rate 0.01 in epochs 1-4, 0.001 in epochs 5-10'
    """
    rates = [learning_rate(epoch, schedule) for epoch in range(epochs)]
    if len(set(rates)) == 1:
        return f"learning rate {rates[0]:g} in {f'all {epochs} epochs' if epochs > 1 else 'its one epoch'}"
    spans, start = [], 0
    for epoch in range(1, epochs + 1):
        if epoch == epochs or rates[epoch] != rates[start]:
            spans.append(f"{rates[start]:g} in epoch{'s' if epoch - start > 1 else ''} "
                         f"{start + 1}{f'-{epoch}' if epoch - start > 1 else ''}")  # fmt: skip
            start = epoch
    return "learning rate " + ", ".join(spans)


def protocol_text(result: SearchResult) -> str:
    """A Markdown paragraph stating the split, the training proxy and the search sizes of ``result``."""
    c = result.config
    s = result.split
    clips = s.get("clips", {})
    train_clips = "all" if c.max_train_clips is None else f"at most {c.max_train_clips:,} (class-balanced)"
    val_clips = "all" if c.max_val_clips is None else f"at most {c.max_val_clips:,} (class-balanced)"
    start = (f"the paper's three architectures and {c.n_initial - 3} random genomes (warm start)" if c.warm_start
             else f"{c.n_initial} random genomes")  # fmt: skip
    return (
        f"**{TASK_TITLES.get(c.task, c.task)}.** Speakers: {s.get('source', '')}; "
        f"{len(s['fit_speakers'])} fit speakers ({clips.get('fit', 0):,} clips, of which {train_clips} are used), "
        f"{len(s['val_speakers'])} validation speakers ({clips.get('val', 0):,} clips, {val_clips} scored) and "
        f"{len(s['test_speakers'])} held-out test speakers ({clips.get('test', 0):,} clips, not used here). "
        f"Training proxy: {c.epochs} epoch(s), batch {c.batch_size}, Adam with the lab's schedule "
        f"({schedule_text(c.epochs)}), batch-norm statistics re-estimated on {c.recalibrate_clips} clips, "
        f"clips peak-normalised. int8 conversion calibrated on {c.n_calibration} real clips. "
        f"Search: {start}, then {c.generations - 1} generation(s) of {c.lam} children, "
        f"{c.mu} survivors (NSGA-II), seed {c.seed}; {len(result.candidates)} candidates evaluated in "
        f"{result.seconds:.0f} s."
    )


# ---- the cost model, per model ------------------------------------------------------------------
def frontend_table(tables: Mapping[str, pd.DataFrame], label: str = "model") -> pd.DataFrame:
    """The front end's share of MACs and of the estimated latency (central), per model, with the band.

    tables: task -> a table of candidate records with a ``label`` column (e.g. the published
        models' ``model``, or a pick's ``role`` after ``reset_index``).
    """
    parts = []
    for task, table in tables.items():
        if table is None or table.empty:
            continue
        t = pd.DataFrame({"task": task, label: table[label]})
        t["MACs (M)"] = table["macs"].astype(float) / 1e6
        t["front end MACs (M)"] = table["macs_frontend"].astype(float) / 1e6
        t["front end % of MACs"] = 100 * t["front end MACs (M)"] / t["MACs (M)"]
        t["front end % of est. latency (central)"] = (
            100 * table["latency_ms_frontend"].astype(float) / table["latency_ms"].astype(float)
        )
        t[LATENCY_LABEL] = [_band(row) for _, row in table.iterrows()]
        parts.append(t)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def findings(results: Mapping[str, SearchResult], published: Mapping[str, pd.DataFrame],
             tasks: tuple[str, ...] = ("language", "number")) -> dict[str, Any]:  # fmt: skip
    """The numbers chapter 5's closing prose and the comparison page quote, computed from the results (for ``glue``).

    Per task: whether the goal was reached (:func:`dominance`), the reference's accuracy standard
    error, our fittest pick's and the paper's fittest architecture's validation accuracy (%) and
    estimated latency (ms, central, low and high), the proxy's validation accuracy of each of the
    paper's architectures (``proxy_paper_<variant>_<task>``, %) and chance (%); then the candidates evaluated, the minutes of
    evaluation and the calibrated estimate of the paper's fittest number architecture
    (:func:`paper_fittest_glue`), the figure set beside the paper's 368 ms. Missing values are NaN.
    """
    goal = dominance(results, published)
    out: dict[str, Any] = {}
    for task in tasks:
        row = goal[goal.task == task] if len(goal) else goal
        result = results.get(task)
        ours = result.picks.loc["fittest"] if result is not None and "fittest" in result.picks.index else None
        theirs = _published_row(published.get(task), "fittest")
        if row.empty:
            reached = "not run in this build"
        elif theirs is None:
            reached = "not checked (the paper's fittest was not trained in this build)"
        else:
            reached = "reached" if bool(row.reached.iloc[0]) else "not reached"
        out[f"goal_{task}"] = reached
        se = row["accuracy SE pp"].iloc[0] if len(row) and "accuracy SE pp" in row else math.nan
        out[f"se_pp_{task}"] = float(se)
        for who, pick in (("ours", ours), ("paper", theirs)):
            out[f"{who}_fittest_{task}"] = _pct(pick, "val_accuracy")
            for edge, column in (("", "latency_ms"), ("_low", "latency_ms_low"), ("_high", "latency_ms_high")):
                out[f"{who}_fittest_ms{edge}_{task}"] = (
                    math.nan if pick is None or not _finite(pick[column]) else float(pick[column])
                )
        for variant in ("accurate", "fastest", "fittest"):  # the proxy's reach, against chance
            out[f"proxy_paper_{variant}_{task}"] = _pct(_published_row(published.get(task), variant), "val_accuracy")
        out[f"chance_pct_{task}"] = 100 / TASK_CLASSES[task]
    out["n_candidates"] = int(sum(len(r.candidates) for r in results.values()))
    out["paper_folds"] = int(paper_facts.figure("cv_folds").value)  # the paper's cross-validation
    population, generations = (
        paper_facts.figure("evonas_lab_population_start"),
        paper_facts.figure("evonas_lab_generations"),
    )
    out["lab_search_text"] = f"population {population.text} over {generations.text}; source: {population.source}"
    out["search_minutes"] = float(sum(r.seconds for r in results.values()) / 60)
    out.update(paper_fittest_glue())
    return out


def paper_fittest_glue() -> dict[str, Any]:
    """The calibrated estimate of the paper's fittest number architecture (ms), the figure set beside its 368 ms."""
    est = paper_fittest_estimate("number")
    return {"paper_fittest_est_ms": est.central, "paper_fittest_est_ms_low": est.low,
            "paper_fittest_est_ms_high": est.high, "paper_fittest_est_text": band_text(est.central, est.low, est.high)}  # fmt: skip


# ---- figures --------------------------------------------------------------------------------------
def progress_figure(results: Mapping[str, SearchResult]) -> plt.Figure:
    """Best and median validation accuracy and fitness of the survivors, per generation and task."""
    tasks = list(results)
    fig, axes = plt.subplots(2, len(tasks), figsize=(4.6 * len(tasks), 5.2), squeeze=False, sharex="col")
    for j, task in enumerate(tasks):
        h = results[task].history
        for i, (metric, label, scale) in enumerate((("val_accuracy", "val. accuracy (%)", 100),
                                                     ("fitness", "lab fitness", 1))):  # fmt: skip
            ax = axes[i, j]
            ax.plot(h.generation, scale * h[f"best_{metric}"], marker="o", label="best")
            ax.plot(h.generation, scale * h[f"median_{metric}"], marker="s", ls="--", label="median")
            ax.set(ylabel=label)
            if i == 0:
                ax.set_title(TASK_TITLES.get(task, task))
                ax.axhline(100 / results[task].config.n_classes, color="grey", lw=0.8, ls=":")
            ax.set_xlabel("generation" if i == 1 else "")
            ax.xaxis.get_major_locator().set_params(integer=True)
        axes[0, j].legend(frameon=False, fontsize=8)
    fig.suptitle("EvoNAS progress: the survivors of each generation (dotted: chance)")
    fig.tight_layout()
    return fig


def _sizes(flash_bytes: pd.Series | np.ndarray) -> np.ndarray:
    return 15 + 185 * (np.asarray(flash_bytes, dtype=float) / 1e6)


def pareto_figure(results: Mapping[str, SearchResult], published: Mapping[str, pd.DataFrame]) -> plt.Figure:
    """Validation accuracy against estimated latency, marker area growing with flash, per task.

    Grey: every feasible candidate; black: the Pareto front (accuracy, latency, flash) drawn as
    the accuracy-latency staircase of its members; coloured outlines: the three picks; stars: the
    paper's three architectures trained and measured the same way, with the central latency and
    its band (horizontal bar).
    """
    tasks = list(results)
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.6 * len(tasks), 4.4), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        result = results[task]
        c = result.candidates[result.candidates.feasible.astype(bool)]
        ax.scatter(c.latency_ms, 100 * c.val_accuracy, s=_sizes(c.flash_bytes), color="0.75", edgecolor="0.5",
                   lw=0.3, label="candidates", zorder=1)  # fmt: skip
        front = c[c.on_front].sort_values("latency_ms")
        if len(front):
            best = np.maximum.accumulate(front.val_accuracy.to_numpy())
            ax.step(front.latency_ms, 100 * best, where="post", color="black", lw=1, zorder=2)
            ax.scatter(front.latency_ms, 100 * front.val_accuracy, s=_sizes(front.flash_bytes), color="black",
                       label="Pareto front", zorder=3)  # fmt: skip
        for role, row in result.picks.iterrows():
            ax.scatter([row.latency_ms], [100 * row.val_accuracy], s=_sizes([row.flash_bytes]) * 2.2,
                       facecolor="none", edgecolor=_ROLE_COLOURS[role], lw=1.8, marker=_ROLE_MARKERS[role],
                       label=f"our {role}", zorder=4)  # fmt: skip
        table = published.get(task)
        if table is not None:
            for _, row in table[table.feasible.astype(bool)].iterrows():
                colour = _ROLE_COLOURS[{v: r for r, v in ROLE_VARIANTS.items()}[row.variant]]
                ax.errorbar([row.latency_ms], [100 * row.val_accuracy],
                            xerr=[[row.latency_ms - row.latency_ms_low], [row.latency_ms_high - row.latency_ms]],
                            fmt="none", ecolor=colour, lw=1, zorder=4)  # fmt: skip
                ax.scatter([row.latency_ms], [100 * row.val_accuracy], s=_sizes([row.flash_bytes]) * 2.2,
                           marker="*", color=colour, edgecolor="black", lw=0.5, label=f"paper's {row.variant}",
                           zorder=5)  # fmt: skip
        ax.axhline(100 / result.config.n_classes, color="grey", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set(xlabel="estimated latency on the nRF52840 (ms, central; bars: band low–high; log)",
               ylabel="val. accuracy (%)",
               title=TASK_TITLES.get(task, task))  # fmt: skip
    handles: dict[str, Any] = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.suptitle("Accuracy against estimated latency; marker area grows with flash; dotted: chance")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=4, fontsize=8, frameon=False,
               markerscale=0.6)  # fmt: skip
    return fig


def fitness_formula(
    weights: tuple[float, float, float] = FITNESS_WEIGHTS,
    rom_min_bytes: float = ROM_MIN_BYTES,
    energy_min_mj: float = ENERGY_MIN_MJ,
) -> str:
    """:func:`~spoken100.nas.costs.fitness` as the book prints it, from the same constants.

    ``0.6·acc + 0.2·min(1, 100 kB/ROM) + 0.2·min(1, 1 mJ/E)`` with the lab's defaults.
    """
    w_acc, w_rom, w_e = weights
    return (f"{w_acc:g}·acc + {w_rom:g}·min(1, {rom_min_bytes / 1000:g} kB/ROM) + "
            f"{w_e:g}·min(1, {energy_min_mj:g} mJ/E)")  # fmt: skip


__all__ = [
    "fitness_formula",
    "ENERGY_LABEL",
    "LATENCY_LABEL",
    "PAPER_CORPUS",
    "band_text",
    "findings",
    "frontend_table",
    "paper_fittest_glue",
    "accuracy_se_pp",
    "validation_clips",
    "PAPER_FIGURES",
    "dominance",
    "infeasible_table",
    "paper_comparison",
    "paper_figures",
    "pareto_figure",
    "picks_table",
    "progress_figure",
    "protocol_text",
    "published_table",
]
