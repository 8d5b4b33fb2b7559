"""The models chapter 6 deploys: chapter 5's confirmed models, its search picks, or the paper's six published models.

:func:`picked_models` is the seam between the search (chapter 5) and deployment: ``"confirmed"``
loads the two models chapter 5's verdict is about -- the search's chosen candidate and the paper's
fittest architecture, as the confirmatory test retrained and scored them (:func:`confirmed_picks`);
``"search"`` the most accurate, fastest and fittest models of chapter 5's searches as the search's
short proxy trained them (:func:`search_picks`); ``"published"`` the paper's six trained EvoNAS
models (:func:`published_picks`, trained on the real voices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from spoken100.nas import confirm as nas_confirm
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
    role: ``"accurate"``, ``"fastest"`` or ``"fittest"`` (how the search picked it), or for a
        confirmed model its label in the confirmation (``"search chosen"``, ``"paper fittest"``).
    model: the float Keras model (waveform ``(batch, 8000)`` -> probabilities).
    source: ``"published"`` (the paper's trained models), ``"search"`` (chapter 5's search
        proxy) or ``"confirmed"`` (chapter 5's confirmatory retraining).
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


def confirmed_picks(corpus: Any, configs: dict[str, Any], settings: Any,
                    variants: Sequence[str] | None = None,
                    labels: Sequence[str] = (nas_confirm.CHOSEN, nas_confirm.REFERENCE),
                    progress: bool = True) -> list[Pick]:  # fmt: skip
    """The models chapter 5's confirmed verdict is about, as its confirmatory test trained them.

    Per task: the search's chosen candidate and the paper's fittest architecture
    (:func:`spoken100.nas.confirm.confirmation_genomes`), each retrained from scratch on every fit
    clip of the search's fold with the confirmation's schedule, first seed
    (:func:`spoken100.nas.confirm.confirmed_models`). Both are scored by the deployment on the
    fold's test speakers, which neither the search nor the retraining used.

    configs: task -> chapter 5's :class:`~spoken100.nas.search.SearchConfig`. settings: chapter 5's
    :class:`~spoken100.nas.confirm.ConfirmSettings`. variants: the paper's architectures chapter 5
    evaluated (they enter the choice of the searched model); default all three.
    """
    variants = tuple(variants or nas_search.PUBLISHED_VARIANTS)
    picks = []
    for task, config in configs.items():
        data = nas_search.task_data(corpus, config, progress=progress)
        result = nas_search.search(data, config, progress=progress)
        published = nas_search.evaluate_published_data(data, config, progress=progress, variants=variants)
        genomes = nas_confirm.confirmation_genomes(result, published, variants)
        trained = nas_confirm.confirmed_models(data, config, genomes, settings, labels)
        for label, model in trained.items():
            genome = genomes[label]
            picks.append(Pick(
                name=f"{task}_{label.replace(' ', '_')}", task=task, role=label, model=model.model, source="confirmed",
                description=genome.describe(),
                notes=(f"genome {genome.genome_id()}, retrained {settings.epochs} epoch(s) on every fit clip of fold "
                       f"{config.fold}, seed {settings.seeds[0]} (chapter 5's confirmatory test)",),
                normalize=True,
            ))  # fmt: skip
    return picks


def picked_models(corpus: Any = None, models_from: str = "search", names: Sequence[str] | None = None,
                  search: dict[str, Any] | None = None, progress: bool = True) -> list[Pick]:  # fmt: skip
    """The models this chapter deploys: the seam between the search (chapter 5) and deployment.

    models_from: ``"confirmed"`` -- the two models of each task that chapter 5's confirmatory
        test compared, with its trained weights (:func:`confirmed_picks`; needs chapter 5's
        ``confirm_seeds``); ``"search"`` -- the most accurate, fastest and fittest models of this
        book's own search on ``corpus``, trained by the search's proxy (:func:`search_picks`);
        ``"published"`` -- the paper's six trained models (:func:`published_picks`; the corpus is not used).
    names: keep only these picks (e.g. ``["language_fittest"]``); default all.
    search: chapter 5's parameters (``tasks`` and the search settings), for ``"search"``; the
        profile passes chapter 5's section, so both chapters mean the same searches.
    """
    if models_from == "published":
        return published_picks(names)
    if models_from not in ("search", "confirmed"):
        raise ValueError(f"models_from must be 'confirmed', 'search' or 'published', not {models_from!r}")
    search = search or {}
    configs = nas_search.search_configs(search)
    if models_from == "search":
        picks = search_picks(corpus, configs, progress=progress)
    else:
        settings = nas_confirm.settings_from(
            search.get("confirm_seeds"), search.get("confirm_epochs", 10), search_seed=search.get("seed", 0)
        )
        if not settings.seeds:
            raise ValueError("models_from='confirmed' needs chapter 5's confirmation, but its confirm_seeds are "
                             "empty in this profile; use models_from='search'")  # fmt: skip
        picks = confirmed_picks(corpus, configs, settings, search.get("published_variants"), progress=progress)
    if names is not None:
        unknown = sorted(set(names) - {p.name for p in picks})
        if unknown:
            raise ValueError(f"no picked model named {unknown}; chapter 5 gives {[p.name for p in picks]}")
        picks = [p for p in picks if p.name in names]
    return picks


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
