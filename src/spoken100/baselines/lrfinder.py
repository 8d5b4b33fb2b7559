"""The learning-rate range test: the one-cycle schedule's peak rate, chosen per model and task.

Leslie Smith's range test (as popularised by fastai's ``lr_find``): train a fresh model for a few
dozen batches while the learning rate grows exponentially from ``start`` to ``end``, and record the
loss after each batch. The loss falls while the rate is useful and explodes once it is too high. The
suggested peak is fastai's "valley" rule: the rate halfway (on the log scale) along the longest run
of batches over which the smoothed loss keeps falling (a longest decreasing subsequence). The
simpler "minimum / 10" rule fails on the number task, whose loss still drifts down on a noisy
plateau up to rates near 1, so it is reported (:attr:`RangeTest.minimum_lr`) but not used. The test
sees only the training speakers it is given (the fit speakers of the honest protocol), never the
validation or test speakers.

Each test is an artefact: a JSON file under ``cache_dir("lrfinder")`` keyed by the model, task,
data, speakers, settings and the code (:func:`spoken100.data.codehash.code_fingerprint`), so a
rebuild reads it and the chapter shows its curve.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from spoken100.baselines.models import build_model
from spoken100.baselines.train import flush_denormals
from spoken100.data import atomic
from spoken100.data.codehash import code_fingerprint
from spoken100.data.paths import cache_dir
from spoken100.data.tasks import TASK_CLASSES


@dataclass(frozen=True)
class RangeTestSettings:
    """start, end: the first and last learning rate; steps: batches (one rate each); smoothing: the
    exponential moving average's weight of the past loss; divergence: stop once the smoothed loss
    exceeds this multiple of its minimum."""

    start: float = 1e-7
    end: float = 10.0
    steps: int = 100
    batch_size: int = 32
    smoothing: float = 0.9
    divergence: float = 4.0
    weight_decay: float = 0.01


@dataclass(frozen=True)
class RangeTest:
    """A finished range test: the per-batch ``curve`` (``lr``, ``loss``, ``smoothed``) and the suggestion."""

    model: str
    task: str
    curve: pd.DataFrame
    suggested_lr: float

    @property
    def minimum_lr(self) -> float:
        """The rate at the smoothed loss's minimum (the "minimum / 10" rule would suggest a tenth of it)."""
        return float(self.curve.lr.iloc[int(self.curve.smoothed.idxmin())])


def longest_descent(values: Sequence[float]) -> tuple[int, int]:
    """First and last index of the longest strictly decreasing subsequence of ``values``."""
    values = list(values)
    if not values:
        raise ValueError("no values")
    length = [1] * len(values)
    first = list(range(len(values)))
    for i in range(1, len(values)):
        for j in range(i):
            if values[j] > values[i] and length[j] + 1 > length[i]:
                length[i], first[i] = length[j] + 1, first[j]
    end = int(np.argmax(length))
    return first[end], end


def suggest_lr(curve: pd.DataFrame) -> float:
    """The rate halfway (in batches, so on the log scale) along the smoothed loss's longest descent."""
    if curve.empty:
        raise ValueError("an empty range test suggests no learning rate")
    start, end = longest_descent(curve.smoothed.to_numpy())
    return float(curve.lr.iloc[(start + end) // 2])


def run_range_test(
    model_name: str,
    task: str,
    X: np.ndarray,
    y: np.ndarray,
    rows: np.ndarray,
    settings: RangeTestSettings = RangeTestSettings(),
    *,
    model_options: dict | None = None,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Train a fresh ``model_name`` on batches of ``rows`` at exponentially growing rates; the loss curve."""
    torch.manual_seed(seed)
    model = build_model(model_name, TASK_CLASSES[task], seed=seed, **(model_options or {}))
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.start, weight_decay=settings.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    factor = (settings.end / settings.start) ** (1 / max(1, settings.steps - 1))
    order = np.random.default_rng(seed).permutation(rows)
    model.train()
    records, average, best = [], 0.0, math.inf
    with flush_denormals():
        for step in tqdm(
            range(settings.steps), desc=f"LR range test {model_name} {task}", disable=not progress, leave=False
        ):
            lr = settings.start * factor**step
            for group in optimiser.param_groups:
                group["lr"] = lr
            start = (step * settings.batch_size) % max(1, len(order) - settings.batch_size + 1)
            idx = np.sort(order[start : start + settings.batch_size])
            xb = torch.as_tensor(np.ascontiguousarray(X[idx]), dtype=torch.float32)
            yb = torch.as_tensor(y[idx])
            optimiser.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimiser.step()
            value = float(loss.detach())
            average = settings.smoothing * average + (1 - settings.smoothing) * value
            smoothed = average / (1 - settings.smoothing ** (step + 1))  # bias-corrected
            records.append({"lr": lr, "loss": value, "smoothed": smoothed})
            best = min(best, smoothed)
            if not math.isfinite(value) or smoothed > settings.divergence * best:
                break
    return pd.DataFrame(records, columns=["lr", "loss", "smoothed"])


def lr_range_test(
    model_name: str,
    task: str,
    X: np.ndarray,
    y: np.ndarray,
    rows: Sequence[int],
    data_key: str,
    settings: RangeTestSettings = RangeTestSettings(),
    *,
    model_options: dict | None = None,
    seed: int = 0,
    progress: bool = True,
) -> RangeTest:
    """:func:`run_range_test`, kept as a JSON artefact; returns the curve and the suggested peak rate.

    data_key: fingerprint of ``X`` and ``y`` (as :attr:`spoken100.baselines.train.RunSpec.data_key`).
    rows: the training rows the test may use (the fit speakers' clips).
    """
    rows = np.asarray(rows)
    key = hashlib.sha256(json.dumps([code_fingerprint(lr_range_test), model_name, task, data_key,
                                     hashlib.sha256(rows.tobytes()).hexdigest(), asdict(settings),
                                     sorted((model_options or {}).items()), seed],
                                    default=str).encode()).hexdigest()[:16]  # fmt: skip
    path = cache_dir("lrfinder") / f"{model_name}-{task}-{key}.json"
    if path.is_file():
        stored = json.loads(path.read_text())
        curve = pd.DataFrame(stored["curve"], columns=["lr", "loss", "smoothed"])
    else:
        curve = run_range_test(model_name, task, X, y, rows, settings, model_options=model_options, seed=seed,
                               progress=progress)  # fmt: skip
        atomic.write_json(path, {"model": model_name, "task": task, "settings": asdict(settings),
                                 "curve": curve.to_dict("list"), "suggested_lr": suggest_lr(curve)})  # fmt: skip
    return RangeTest(model_name, task, curve, suggest_lr(curve))


def range_test_figure(tests: Sequence[RangeTest]) -> plt.Figure:
    """Smoothed loss against learning rate for every test, the suggested peak marked."""
    tasks = sorted({t.task for t in tests})
    fig, axes = plt.subplots(1, max(1, len(tasks)), figsize=(5.5 * max(1, len(tasks)), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=False):
        for test in (t for t in tests if t.task == task):
            (line,) = ax.plot(test.curve.lr, test.curve.smoothed, label=test.model)
            ax.axvline(test.suggested_lr, color=line.get_color(), linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss (smoothed)")
        ax.set_title(f"{task} task: range test (dotted: chosen peak)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
