"""The compute device each chapter ran on, recorded with its timing for the reproducing page.

Chapter 4 trains with PyTorch (CUDA when torch sees a GPU, unless its ``device`` parameter forces
one); chapters 5 and 6 train and convert with TensorFlow, whose pinned build is CPU-only unless
``requirements-gpu.txt`` replaced it; every other chapter computes with NumPy, librosa and UMAP on
the CPU. The device is read on the machine that executes the notebook, when it executes it.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Mapping
from typing import Any

from spoken100.data import cluster

#: The framework that does a chapter's heavy computation (chapters not named: the CPU libraries).
CHAPTER_FRAMEWORKS = {"04_baselines": "torch", "05_evonas": "tensorflow", "06_deployment": "tensorflow"}


def _cpu() -> str:
    return f"CPU ({os.cpu_count() or '?'} cores)"


def torch_device(forced: str | None = None) -> str:
    """What PyTorch trains on here: a forced ``device`` parameter, else CUDA when available, else the CPU."""
    if forced:
        return f"{forced} (forced by the profile)" if not forced.startswith("cpu") else _cpu() + ", forced"
    import torch  # deferred: only chapter 4's record needs it

    if torch.cuda.is_available():
        return f"CUDA GPU ({torch.cuda.get_device_name(0)})"
    return _cpu()


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def tensorflow_device() -> str:
    """What TensorFlow computes on here: the CPU for the pinned ``tensorflow-cpu`` build, else its GPUs."""
    if _installed("tensorflow-cpu") or not _installed("tensorflow"):
        return _cpu() + "; the tensorflow-cpu build"
    import tensorflow as tf  # deferred: seconds to import, and only the GPU build needs asking

    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU ({len(gpus)} visible to TensorFlow)" if gpus else _cpu() + "; no GPU visible to TensorFlow"


def chapter_device(notebook: str, parameters: Mapping[str, Any] | None = None) -> str:
    """One line naming the device ``notebook`` (its file stem) computes on with ``parameters``.

    With a Dask scheduler (the ``scheduler`` parameter or ``$SPOKEN100_DASK_SCHEDULER``) the
    training chapters run on its workers, whose devices this machine cannot see: the line says so.
    """
    framework = CHAPTER_FRAMEWORKS.get(notebook)
    address = cluster.scheduler_address((parameters or {}).get("scheduler"))
    if framework and address:
        return f"the Dask workers of {address} (their devices are not recorded here)"
    if framework == "torch":
        return "PyTorch on " + torch_device((parameters or {}).get("device"))
    if framework == "tensorflow":
        return "TensorFlow on " + tensorflow_device()
    return _cpu()
