"""The learning-rate range test: the one-cycle schedule's peak rate, chosen per model and task.

Leslie Smith's range test (as popularised by fastai's ``lr_find``): train a fresh model for a few
dozen batches while the learning rate grows exponentially from ``start`` to ``end``, and record the
loss after each batch. The loss falls while the rate is useful and explodes once it is too high. The
suggested peak is fastai's "valley" rule, implemented as fastai 2.7 does it (``valley`` in
``fastai.callback.schedule``, applied to the curve without its first tenth and last five batches,
the loss smoothed by a debiased moving average with weight 0.98): find the longest decreasing
subsequence of the smoothed loss, take the stretch of batches of that length ending where it ends,
and suggest the rate half-way along it. The simpler "minimum / 10" rule fails on the number task,
whose loss still drifts down on a noisy plateau up to rates near 1, so it is reported
(:attr:`RangeTest.minimum_lr`) but not used. The test sees only the training speakers it is given
(the fit speakers of the honest protocol), never the validation or test speakers.

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
from spoken100.baselines.train import fast_layout, flush_denormals
from spoken100.data import atomic
from spoken100.data.codehash import code_fingerprint
from spoken100.data.paths import cache_dir
from spoken100.data.tasks import TASK_CLASSES


@dataclass(frozen=True)
class RangeTestSettings:
    """start, end: the first and last learning rate; steps: batches (one rate each); smoothing: the
    exponential moving average's weight of the past loss; divergence: stop once the smoothed loss
    exceeds this multiple of its minimum."""

    start: float = 1e-6
    end: float = 1.0
    steps: int = 200
    batch_size: int = 32
    smoothing: float = 0.98
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
    """fastai's valley: ``(end - length, end)`` for the longest strictly decreasing subsequence of ``values``.

    ``end`` is where the first longest subsequence ends and ``length`` its length, so the stretch
    is the last ``length`` batches up to ``end`` (fastai's ``max_start``), which can begin after the
    subsequence's own first element (and at -1 when the whole curve falls).
    """
    values = list(values)
    if not values:
        raise ValueError("no values")
    length = [1] * len(values)
    for i in range(1, len(values)):
        for j in range(i):
            if values[i] < values[j] and length[i] < length[j] + 1:
                length[i] = length[j] + 1
    end = int(np.argmax(length))
    return end - length[end], end


def suggest_lr(curve: pd.DataFrame, steps: int | None = None) -> float:
    """fastai's valley suggestion for a range-test ``curve`` of ``steps`` planned batches.

    As fastai's ``lr_find``, the first ``steps // 10`` and the last 5 recorded batches are left out
    (the start is noise around the initial loss, the end the explosion), then the rate at
    ``start + int(span / 3) + int(span / 6)`` of the valley ``(start, end)`` is suggested. One
    addition: the suggestion never exceeds a tenth of the rate at which the smoothed loss was lowest
    (fastai's older "minimum / 10" rule, used as a ceiling). At the minimum the loss has stopped
    falling, so a "valley" found beyond it lies on a noisy plateau or in a network whose units have
    died: the CNN-2D's loss stays flat up to rates near 1 that way, and trained at the minimum's own
    rate (6.7e-3, the first version of this ceiling) its training accuracy on the language task
    stayed at chance for two epochs (stand-in, fold 1).
    """
    if curve.empty:
        raise ValueError("an empty range test suggests no learning rate")
    steps = len(curve) if steps is None else steps
    kept = curve.iloc[steps // 10 : max(steps // 10 + 1, len(curve) - 5)]
    if kept.empty:
        kept = curve
    start, end = longest_descent(kept.smoothed.to_numpy())
    sections = (end - start) / 3
    index = min(len(kept) - 1, max(0, start + int(sections) + int(sections / 2)))
    lowest = float(kept.lr.iloc[int(np.argmin(kept.smoothed.to_numpy()))])
    return min(float(kept.lr.iloc[index]), lowest / 10)


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
    model = fast_layout(build_model(model_name, TASK_CLASSES[task], seed=seed, **(model_options or {})))
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.start, weight_decay=settings.weight_decay,
                                  fused=True)  # the training's optimiser, as in train.make_optimiser  # fmt: skip
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
                                 "curve": curve.to_dict("list"), "suggested_lr": suggest_lr(curve, settings.steps)})  # fmt: skip
    return RangeTest(model_name, task, curve, suggest_lr(curve, settings.steps))


def range_test_table(tests: Sequence[RangeTest], used_for: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per test: the task it ran on, the tasks whose runs use its rate, the chosen peak, the
    rate at the lowest smoothed loss (for comparison with the "minimum / 10" rule), and how far the
    smoothed loss fell from its first value to its lowest (a test whose loss hardly falls has no
    valley to read, and its suggestion is little better than a guess)."""
    rows = []
    for t in tests:
        smoothed = t.curve.smoothed.to_numpy()
        rows.append({"model": t.model, "range test on": t.task,
                     "rate used for": ", ".join(used_for) if used_for else t.task,
                     "peak learning rate": t.suggested_lr, "lowest-loss rate": t.minimum_lr,
                     "loss fell (%)": 100 * (1 - smoothed.min() / smoothed[0]) if len(smoothed) else float("nan")})  # fmt: skip
    return pd.DataFrame(rows)


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
