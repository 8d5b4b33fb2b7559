"""What the paper profile's chapter 4 would cost, estimated from measured per-epoch training times.

The paper's protocol trains five models x two tasks on every fold of its split, for its epochs (both
from the facts table), under two protocols (the paper's: all of a fold's training speakers; the
honest one: those minus the validation speakers). The committed reference
records (:mod:`spoken100.baselines.reference`) measured each full-size model's epoch time on one
fold; a record's core-seconds are its training's wall seconds times the torch threads it ran on
(the record says how many). An epoch's cost is proportional to the clips it trains on, so it is
scaled from the speakers the record's run trained on (its fold's training speakers minus its
validation speakers) to each protocol's (:func:`protocol_speakers`):

    core-hours = sum over tasks and protocols of  core-seconds per epoch x speakers / trained speakers x epochs x folds / 3600,

and on N one-thread workers the wall time is at least the larger of ``core-hours / N`` and the
longest single run (a run cannot be split). A record's epoch time includes that epoch's evaluation
of the validation and test speakers, as a run of the paper profile would; the follow-up studies
are left out. Everything here is an **estimate** from a measurement on the machine the records name.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from spoken100.baselines.models import BASELINES
from spoken100.data import paper_facts

#: Validation speakers the honest protocol holds out of a fold's training speakers (the profiles' ``n_val_speakers``).
N_VAL_SPEAKERS = 4


def protocol_speakers(n_val_speakers: int = N_VAL_SPEAKERS) -> dict[str, int]:
    """Training speakers per protocol in the paper's split, from the facts table: a fold's training
    speakers (all speakers but its test speakers) for the paper's protocol, minus ``n_val_speakers``
    for the honest one."""
    paper = int(paper_facts.figure("n_speakers").value) - int(paper_facts.figure("cv_test_speakers").value)
    return {"paper": paper, "honest": paper - n_val_speakers}


def trained_speakers(record: dict) -> int:
    """The speakers a record's run trained on: its fold's training speakers minus its validation speakers."""
    spec = record.get("spec") or {}
    train = (spec.get("fold") or {}).get("train")
    if not train:
        return protocol_speakers()["honest"]  # a record without its split: the full corpus's honest protocol
    trained = len(train) - len(record.get("val_speakers") or spec.get("val_speakers") or [])
    if trained < 1:
        raise ValueError(f"the {record.get('model')} {record.get('task')} record trained on no speakers")
    return trained


def epoch_core_seconds(records: Sequence[dict]) -> pd.DataFrame:
    """Measured core-seconds per epoch of the records' runs, per model and task (mean over folds),
    with the speakers those runs trained on (``trained_speakers``) and the cost of one speaker's
    clips per epoch (``speaker_seconds``), which scales the cost to a protocol's speakers.

    Core-seconds are the run's wall seconds times its torch ``threads`` (1 when the record does not
    say). Only CPU records count (``cpu_hours``); a GPU record (``gpu_hours``) measures another kind
    of cost and is left out here.
    """
    rows = [{"model": r["model"], "task": r["task"],
             "core_seconds": 3600 * r["cpu_hours"] * int(r.get("threads") or 1) / r["epochs"],
             "trained_speakers": trained_speakers(r),
             "device": r.get("device", "cpu"), "cpu": (r.get("machine") or {}).get("cpu", "")}
            for r in records
            if r.get("protocol", "honest") == "honest" and r.get("epochs") and r.get("cpu_hours") is not None]  # fmt: skip
    if not rows:
        return pd.DataFrame(
            columns=["model", "task", "core_seconds", "speaker_seconds", "trained_speakers", "device", "cpu"]
        )
    frame = pd.DataFrame(rows)
    frame["speaker_seconds"] = frame.core_seconds / frame.trained_speakers
    out = frame.groupby(["model", "task"], as_index=False, sort=False).agg(
        core_seconds=("core_seconds", "mean"), speaker_seconds=("speaker_seconds", "mean"),
        trained_speakers=("trained_speakers", "mean"), device=("device", "first"), cpu=("cpu", "first"),
    )  # fmt: skip
    return out


def paper_profile_cost(
    records: Sequence[dict],
    *,
    epochs: int | None = None,
    folds: int | None = None,
    tasks: Sequence[str] = ("language", "number"),
    protocols: Sequence[str] = ("paper", "honest"),
    workers: Sequence[int] = (1, 8, 32),
    n_val_speakers: int = N_VAL_SPEAKERS,
) -> pd.DataFrame:
    """One row per model: measured epoch cost, runs, estimated core-hours and wall hours on N workers.

    epochs, folds: default the paper's (``baseline_epochs``, ``cv_folds`` in the facts table).

    A model without a record for every task gets NaN (never a guess). Returns columns ``model``,
    ``title``, ``measured_on``, ``core_s_per_epoch`` (mean over tasks, scaled to the honest
    protocol's speakers), ``runs``,
    ``core_hours``, ``longest_run_hours`` and ``hours_on_<N>_workers``; a last row ``total``.
    """
    epochs = int(paper_facts.figure("baseline_epochs").value) if epochs is None else epochs
    folds = int(paper_facts.figure("cv_folds").value) if folds is None else folds
    per_protocol = protocol_speakers(n_val_speakers)
    measured = epoch_core_seconds(records).set_index(["model", "task"])
    rows = []
    for model, spec in BASELINES.items():
        per_task = [measured.core_seconds.get((model, task)) for task in tasks]
        per_speaker = [measured.speaker_seconds.get((model, task)) for task in tasks]  # one speaker's clips, one epoch
        known = all(v is not None for v in per_task)
        speakers = [per_protocol[p] for p in protocols]
        hours = sum(v * n * epochs * folds for v in per_speaker for n in speakers) / 3600 if known else float("nan")
        longest = max(per_speaker) * max(speakers) * epochs / 3600 if known else float("nan")
        where = measured.loc[model].iloc[0] if model in measured.index.get_level_values(0) else None
        row = {"model": model, "title": spec.title,
               "measured_on": f"{where.device} ({where.cpu})" if where is not None else "not measured at full size",
               "core_s_per_epoch": per_protocol["honest"] * sum(per_speaker) / len(per_speaker) if known
               else float("nan"),
               "runs": len(tasks) * folds * len(protocols), "core_hours": hours, "longest_run_hours": longest}  # fmt: skip
        for n in workers:
            row[f"hours_on_{n}_workers"] = max(hours / n, longest) if known else float("nan")
        rows.append(row)
    table = pd.DataFrame(rows)
    measured_any = table.core_hours.notna().any()
    total = {"model": "total", "title": "all five (measured ones only)" if table.core_hours.isna().any() else "all five",
             "measured_on": "", "core_s_per_epoch": float("nan"), "runs": int(table.runs.sum()),
             "core_hours": float(table.core_hours.sum()) if measured_any else float("nan"),
             "longest_run_hours": float(table.longest_run_hours.max()) if measured_any else float("nan")}  # fmt: skip
    for n in workers:
        total[f"hours_on_{n}_workers"] = max(total["core_hours"] / n, total["longest_run_hours"])
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
