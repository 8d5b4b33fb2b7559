"""The models chapter 6 deploys: the picks of this book's own search, or the paper's six published models.

:func:`picked_models` is the seam between the search (chapter 5) and deployment: ``"search"`` loads
the most accurate, fastest and fittest models of chapter 5's searches (:func:`search_picks`, trained
on the build's corpus), ``"published"`` the paper's six trained EvoNAS models (:func:`published_picks`,
trained on the real voices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from spoken100.nas import search as nas_search  # module attribute: tests replace its functions
from spoken100.nas.costs import count_macs
from spoken100.nas.published import PUBLISHED_NAMES, published_keras_model

#: Roles of the picked models, as the paper named its three EvoNAS models per task.
ROLES = ("accurate", "fastest", "fittest")


#: ``spoken100.nas.published`` task names -> the label names of :func:`spoken100.data.inputs.targets`.
TASK_NAMES = {"languages": "language", "numbers": "number"}


# ---- which models ----------------------------------------------------------------------------
@dataclass
class Pick:
    """One model to deploy.

    name: a unique key, e.g. ``"languages_fittest"``.
    task: ``"language"`` (4 classes) or ``"number"`` (100 classes), as
        :func:`spoken100.data.inputs.targets` names them.
    role: ``"accurate"``, ``"fastest"`` or ``"fittest"`` (how the search picked it).
    model: the float Keras model (waveform ``(batch, 8000)`` -> probabilities).
    source: ``"published"`` (the paper's trained models) or ``"search"`` (this book's chapter 5).
    description: one line about the architecture; notes: caveats of the model's origin.
    normalize: the model was trained on peak-normalised clips (the search's models,
        :func:`spoken100.data.audio.peak_normalize`), so every clip must be normalised before it
        reaches it -- in calibration, evaluation and on the board. The published models take raw clips.
    """

    name: str
    task: str
    role: str
    model: Any = field(repr=False)
    source: str
    description: str = ""
    notes: tuple[str, ...] = ()
    normalize: bool = False


def published_picks(names: Sequence[str] | None = None, download: bool = False) -> list[Pick]:
    """The six published EvoNAS models (``languages|numbers`` x ``accurate|fastest|fittest``) as picks.

    Each is rebuilt with this package's int8-friendly front end and loads the paper's trained
    weights (:func:`spoken100.nas.published.published_keras_model`); the front end approximates
    kapre's magnitude to within 3.96 % (see :mod:`spoken100.nas.published`). They were trained on
    the *real* SpokeN-100 voices.

    names: a subset of :data:`spoken100.nas.published.PUBLISHED_NAMES`; default all six.
    download: fetch missing files from the paper's repository (network needed).
    """

    picks = []
    for name in names or PUBLISHED_NAMES:
        model, pg, notes = published_keras_model(name, download=download)
        picks.append(
            Pick(
                name=pg.name,
                task=TASK_NAMES[pg.task],
                role=pg.variant,
                model=model,
                source="published",
                description=pg.genome.describe(),
                notes=tuple(notes),
            )
        )
    return picks


def search_picks(corpus: Any, configs: dict[str, Any], roles: Sequence[str] = ROLES,
                 progress: bool = True) -> list[Pick]:  # fmt: skip
    """The picks of this book's own search: the trained float models of chapter 5's searches.

    configs: task -> :class:`spoken100.nas.search.SearchConfig`, exactly chapter 5's
        (:func:`spoken100.nas.search.search_configs` builds them from its parameters). A finished
        search and its trained candidates are loaded from their artefacts; a missing one is run.
    roles: which of ``"accurate"``, ``"fastest"`` and ``"fittest"`` to keep.
    """

    picks = []
    for task, config in configs.items():
        data = nas_search.task_data(
            corpus, config, progress=progress
        )  # read the clips once for the search and its picks
        result = nas_search.search(data, config, progress=progress)
        for role in roles:
            genome = result.pick("most accurate" if role == "accurate" else role)
            trained = nas_search.trained_candidate(data, config, genome)
            picks.append(
                Pick(
                    name=f"{task}_{role}",
                    task=task,
                    role=role,
                    model=trained.model,
                    source="search",
                    description=genome.describe(),
                    notes=(f"genome {genome.genome_id()}, trained {config.epochs} epoch(s) on the search's split",),
                    normalize=True,
                )
            )
    return picks


def picked_models(corpus: Any = None, models_from: str = "search", names: Sequence[str] | None = None,
                  search: dict[str, Any] | None = None, progress: bool = True) -> list[Pick]:  # fmt: skip
    """The models this chapter deploys: the seam between the search (chapter 5) and deployment.

    models_from: ``"search"`` -- the most accurate, fastest and fittest models of this book's own
        search on ``corpus`` (:func:`search_picks`); ``"published"`` -- the paper's six trained
        models (:func:`published_picks`; the corpus is not used).
    names: keep only these picks (e.g. ``["language_fittest"]``); default all.
    search: chapter 5's parameters (``tasks`` and the search settings), for ``"search"``; the
        profile passes chapter 5's section, so both chapters mean the same searches.
    """
    if models_from == "published":
        return published_picks(names)
    if models_from == "search":
        picks = search_picks(corpus, nas_search.search_configs(search or {}), progress=progress)
        if names is not None:
            unknown = sorted(set(names) - {p.name for p in picks})
            if unknown:
                raise ValueError(f"no picked model named {unknown}; the search picked {[p.name for p in picks]}")
            picks = [p for p in picks if p.name in names]
        return picks
    raise ValueError(f"models_from must be 'published' or 'search', not {models_from!r}")


def picks_table(picks: Sequence[Pick]) -> pd.DataFrame:
    """One row per pick: name, task, role, source, parameters, MACs and architecture.

    Parameters are counted as Keras' summary of the published models does (trainable weights and
    batch-norm statistics) and exclude the fixed front-end constants (DFT and mel matrices).
    """

    rows = []
    for p in picks:
        macs = count_macs(p.model)
        n_params = sum(int(np.prod(w.shape)) for layer in p.model.layers if not layer.name.startswith("frontend_")
                       for w in layer.weights)  # fmt: skip
        rows.append({"model": p.name, "task": p.task, "role": p.role, "source": p.source, "parameters": n_params,
                     "MACs (front end)": macs["frontend"], "MACs (network)": macs["features"] + macs["head"],
                     "architecture": p.description})  # fmt: skip
    return pd.DataFrame(rows)
