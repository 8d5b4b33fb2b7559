"""Train one baseline on one cross-validation fold: a resumable, deterministic artefact keyed by its code.

One run is one (model, task, fold, protocol, settings) combination. Its folder under
``cache_dir("runs")`` is named by a hash of everything that determines the result (the run's
configuration, the fold's speakers, the training data's fingerprint and the fingerprint of the training code,
:func:`spoken100.data.codehash.code_fingerprint` of :func:`train_run`),
so a rebuild finds finished runs and reuses them. While training, a checkpoint is written after
every epoch (to a temporary file, then renamed): an interrupted run resumes at the next epoch and
ends with the same weights and history as an uninterrupted one.

The two protocols differ only in which speakers train the model and how the epoch is chosen:

``paper``
    the paper's protocol: train on the fold's training speakers; after every epoch, evaluate on
    its test speakers; report the best test accuracy over epochs (``ModelCheckpoint`` on
    ``val_accuracy`` with the test fold as validation data, paper-facts §4.2). Optimistic: the test
    fold chooses the epoch.
``honest``
    hold out validation speakers from the training speakers (gender-balanced), choose the epoch on
    them, and report the test accuracy of that epoch only. The test accuracy of every epoch is
    still recorded for the learning curves, so the same run also tells what the paper's selection
    rule would have reported on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from spoken100.baselines.models import BASELINES, build_model
from spoken100.data import atomic
from spoken100.data.codehash import code_fingerprint
from spoken100.data.paths import cache_dir
from spoken100.data.splits import Fold
from spoken100.data.tasks import TASK_CLASSES

PROTOCOLS = ("paper", "honest")
SCHEDULES = ("paper", "onecycle")
#: AdamW's weight decay under the one-cycle schedule.
ONECYCLE_WEIGHT_DECAY = 0.01


class TrainingError(ValueError):
    """A run cannot start: unknown model, missing speakers, impossible settings."""


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines one training run's result.

    model: a key of :data:`~spoken100.baselines.models.BASELINES`.
    task: ``"language"`` (4 classes) or ``"number"`` (100 classes).
    protocol: ``"paper"`` or ``"honest"`` (see the module docstring).
    fold: the fold number and its training and test speakers.
    val_speakers: validation speakers (``honest`` only; taken from ``fold.train``).
    epochs, batch_size: the paper used 75 and 32.
    max_batches: cap on training batches per epoch (smoke builds); ``None`` uses all.
    seed: seeds initial weights, batch order and dropout.
    model_options: keyword options of the model class (e.g. a narrower BiLSTM), as sorted pairs.
    data_key: fingerprint of the inputs and labels (see :func:`data_key`).
    schedule: ``"paper"`` (Adam at the paper's stepped learning rates, chosen for 75 epochs) or
        ``"onecycle"`` (AdamW, weight decay 0.01, a one-cycle schedule over every batch of every epoch
        peaking at ``learning_rate``: a short-budget schedule, a deviation from the paper).
    learning_rate: the one-cycle peak (e.g. from :func:`spoken100.baselines.lrfinder.lr_range_test`).
    """

    model: str
    task: str
    protocol: str
    fold: Fold
    epochs: int
    data_key: str
    val_speakers: tuple[str, ...] = ()
    batch_size: int = 32
    max_batches: int | None = None
    seed: int = 0
    model_options: tuple[tuple[str, object], ...] = ()
    schedule: str = "paper"
    learning_rate: float | None = None

    def validate(self, speakers: Sequence[str]) -> None:
        """Refuse impossible runs before any training starts."""
        if self.model not in BASELINES:
            raise TrainingError(f"unknown model {self.model!r}; choose from {', '.join(BASELINES)}")
        if self.task not in TASK_CLASSES:
            raise TrainingError(f"unknown task {self.task!r}; choose from {', '.join(TASK_CLASSES)}")
        if self.protocol not in PROTOCOLS:
            raise TrainingError(f"unknown protocol {self.protocol!r}; choose from {', '.join(PROTOCOLS)}")
        if self.schedule not in SCHEDULES:
            raise TrainingError(f"unknown schedule {self.schedule!r}; choose from {', '.join(SCHEDULES)}")
        if self.schedule == "onecycle" and not (self.learning_rate and self.learning_rate > 0):
            raise TrainingError("the one-cycle schedule needs a positive learning_rate")
        if self.epochs < 1 or self.batch_size < 1 or (self.max_batches is not None and self.max_batches < 1):
            raise TrainingError(f"epochs, batch_size and max_batches must be positive: {self}")
        present = set(speakers)
        missing = sorted((set(self.fold.train) | set(self.fold.test)) - present)
        if missing:
            raise TrainingError(f"fold {self.fold.fold} names speaker(s) missing from the corpus: {', '.join(missing)}")
        if set(self.fold.train) & set(self.fold.test):
            raise TrainingError(f"fold {self.fold.fold}: speakers in both train and test")
        if self.protocol == "honest":
            if not self.val_speakers:
                raise TrainingError("the honest protocol needs validation speakers")
            if not set(self.val_speakers) <= set(self.fold.train):
                raise TrainingError("validation speakers must come from the fold's training speakers")
        elif self.val_speakers:
            raise TrainingError("the paper protocol has no validation speakers")

    @property
    def train_speakers(self) -> tuple[str, ...]:
        return tuple(s for s in self.fold.train if s not in set(self.val_speakers))

    def key(self) -> str:
        blob = json.dumps([code_fingerprint(train_run), asdict(self)], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def folder(self) -> Path:
        return cache_dir("runs") / f"{self.model}-{self.task}-fold{self.fold.fold}-{self.protocol}-{self.key()}"


def data_key(*parts: object) -> str:
    """Fingerprint for :attr:`RunSpec.data_key`, e.g. ``data_key(corpus.digest, "logmel", task)``."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


@dataclass
class RunResult:
    """A finished run: per-epoch history and the test predictions under both selection rules."""

    spec: RunSpec
    folder: Path
    history: pd.DataFrame
    selected_epoch: dict[str, int]
    test_accuracy: dict[str, float]
    test_index: np.ndarray
    test_predictions: dict[str, np.ndarray]
    seconds: float
    device: str
    extra: dict = field(default_factory=dict)

    @property
    def reported_accuracy(self) -> float:
        """The accuracy this run's protocol reports: best-test (paper) or best-validation (honest)."""
        return self.test_accuracy["best_test" if self.spec.protocol == "paper" else "best_val"]

    def weights(self, criterion: str | None = None) -> Path:
        """The saved weights of the selected epoch (``best_test`` or ``best_val``)."""
        criterion = criterion or ("best_test" if self.spec.protocol == "paper" else "best_val")
        return self.folder / f"weights-{criterion}.pt"


def _device(device: str | None) -> torch.device:
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def predict(model: nn.Module, X: np.ndarray, device: torch.device | str = "cpu", batch: int = 256) -> np.ndarray:
    """Class scores (logits) of ``model`` for every row of ``X``."""
    device = torch.device(device)
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(X), batch):
            chunk = torch.as_tensor(np.ascontiguousarray(X[start : start + batch]), dtype=torch.float32)
            out.append(model(chunk.to(device)).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def _save_checkpoint(path: Path, state: dict) -> None:
    with atomic.atomic_path(path) as tmp:
        torch.save(state, tmp)


def _state_copy(model: nn.Module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def make_optimiser(
    model: nn.Module, spec: RunSpec, n_batches: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """The run's optimiser and, for the one-cycle schedule, its per-batch scheduler.

    ``"paper"``: Adam with Keras' epsilon at the paper's first learning rate (the epoch loop then
    sets each epoch's rate). ``"onecycle"``: AdamW with :data:`ONECYCLE_WEIGHT_DECAY`, warm-up over the
    first 30 % of all batches to ``spec.learning_rate``, then cosine annealing to nearly zero.
    Both use PyTorch's fused implementation, one pass over each parameter per step instead of one
    per arithmetic operation: the CNN-1D's 16 M-weight dense layer makes the step memory-bound.
    ``benchmarks/bench_training.py`` measures the speed-up of both changes (this and
    :func:`fast_layout`) against the previous path in one run.
    """
    if spec.schedule == "onecycle":
        optimiser = torch.optim.AdamW(model.parameters(), lr=spec.learning_rate, weight_decay=ONECYCLE_WEIGHT_DECAY,
                                      fused=True)  # fmt: skip
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimiser, max_lr=spec.learning_rate, total_steps=max(1, spec.epochs * n_batches), pct_start=0.3
        )
        return optimiser, scheduler
    return torch.optim.Adam(model.parameters(), lr=BASELINES[spec.model].learning_rate(0), eps=1e-7, fused=True), None


def fast_layout(model: nn.Module) -> nn.Module:
    """``model`` with channels-last weights if it has 2-D convolutions, else unchanged.

    oneDNN, PyTorch's CPU convolution library, runs 2-D convolutions fastest in the channels-last
    layout (NHWC), which Keras uses by default; EfficientNet-B0 gains most (see
    ``benchmarks/bench_training.py``). The layout changes how floats are summed, not what is computed.
    """
    if any(isinstance(module, nn.Conv2d) for module in model.modules()):
        return model.to(memory_format=torch.channels_last)
    return model


@contextlib.contextmanager
def flush_denormals() -> Iterator[None]:
    """While training, treat denormal floats as zero on the CPU (a no-op where the CPU cannot).

    Adam's second moments of tiny gradients underflow into denormal floats, on which x86 arithmetic
    runs many times slower: the paper's CNN-2D trained 2.7x faster with this set (measured on the
    development machine, 0.57 -> 0.21 s per batch of 32). Values below float32's normal range
    (about 1.2e-38) become zero, a deviation from the paper's Keras far below any reported digit.
    The flag is process-wide (numpy too), so it is switched off again afterwards: feature and input
    computations outside training never run under it.
    """
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def train_epoch(
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    X: np.ndarray,
    y: np.ndarray,
    batches: Sequence[np.ndarray],
    device: torch.device | str = "cpu",
    loss_fn: nn.Module | None = None,
) -> tuple[float, float]:
    """One pass over ``batches`` (arrays of row numbers of ``X``): ``(mean loss, accuracy)`` on them.

    Each batch is one slice of ``X`` (its rows sorted, so a memory map is read in order), one
    forward and backward pass and one optimiser (and scheduler) step. ``benchmarks/bench_training.py``
    times this function, so the benchmark measures the path the book trains with.
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    model.train()
    total_loss = correct = seen = 0
    with flush_denormals():
        for idx in batches:
            rows = np.sort(idx)
            xb = torch.as_tensor(np.ascontiguousarray(X[rows]), dtype=torch.float32).to(device)
            yb = torch.as_tensor(y[rows]).to(device)
            optimiser.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimiser.step()
            if scheduler is not None:
                scheduler.step()
            total_loss += float(loss.detach()) * len(rows)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(rows)
    return total_loss / seen, correct / seen


def train_run(
    spec: RunSpec,
    X: np.ndarray,
    y: np.ndarray,
    speakers: np.ndarray,
    *,
    device: str | None = None,
    progress: bool = True,
    threads: int | None = None,
) -> RunResult:
    """Train (or load, or resume) one run and return its result.

    X, y, speakers: inputs, integer labels and speaker of every clip of the corpus (rows aligned);
        the run picks its training, validation and test rows by speaker.
    device: ``"cpu"``, ``"cuda"``, ...; default: a GPU when present.
    threads: torch CPU threads for this run (default: leave torch's setting).
    """
    spec.validate(np.unique(speakers))
    folder = spec.folder()
    done = folder / "result.json"
    if done.is_file():
        return load_result(folder)
    if threads:
        torch.set_num_threads(threads)
    dev = _device(device)
    torch.use_deterministic_algorithms(True, warn_only=True)

    rows = {
        "train": np.flatnonzero(np.isin(speakers, spec.train_speakers)),
        "val": np.flatnonzero(np.isin(speakers, spec.val_speakers)),
        "test": np.flatnonzero(np.isin(speakers, spec.fold.test)),
    }
    torch.manual_seed(spec.seed)
    options = dict(spec.model_options)
    model = fast_layout(build_model(spec.model, TASK_CLASSES[spec.task], seed=spec.seed, **options).to(dev))
    baseline = BASELINES[spec.model]
    n_batches = -(-len(rows["train"]) // spec.batch_size)
    if spec.max_batches:
        n_batches = min(n_batches, spec.max_batches)
    optimiser, scheduler = make_optimiser(model, spec, n_batches)
    loss_fn = nn.CrossEntropyLoss()

    checkpoint_file = folder / "checkpoint.pt"
    history: list[dict] = []
    best: dict[str, dict] = {}
    start_epoch = 0
    if checkpoint_file.is_file():
        state = torch.load(checkpoint_file, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        history, best, start_epoch = state["history"], state["best"], state["epoch"] + 1

    label = f"{spec.model} {spec.task} fold {spec.fold.fold} ({spec.protocol})"
    bar = tqdm(total=spec.epochs, initial=start_epoch, desc=label, unit="epoch", disable=not progress, leave=False)
    for epoch in range(start_epoch, spec.epochs):
        began = time.perf_counter()
        if scheduler is None:
            for group in optimiser.param_groups:
                group["lr"] = baseline.learning_rate(epoch)
        epoch_lr = optimiser.param_groups[0]["lr"]
        order = torch.randperm(len(rows["train"]), generator=torch.Generator().manual_seed(spec.seed * 10_007 + epoch))
        batches = [
            rows["train"][order[b * spec.batch_size : (b + 1) * spec.batch_size].numpy()] for b in range(n_batches)
        ]
        train_loss, train_accuracy = train_epoch(model, optimiser, scheduler, X, y, batches, dev, loss_fn)
        record = {"epoch": epoch, "lr": epoch_lr, "train_loss": train_loss, "train_accuracy": train_accuracy}
        predictions = {}
        for part in ("val", "test"):
            if len(rows[part]):
                predictions[part] = predict(model, X[rows[part]], dev).argmax(1)
                record[f"{part}_accuracy"] = float(np.mean(predictions[part] == y[rows[part]]))
        record["seconds"] = time.perf_counter() - began
        history.append(record)
        for criterion, part in (("best_test", "test"), ("best_val", "val")):
            score = record.get(f"{part}_accuracy")
            if score is not None and (criterion not in best or score > best[criterion]["score"]):
                best[criterion] = {"score": score, "epoch": epoch, "test_predictions": predictions["test"],
                                   "weights": _state_copy(model)}  # fmt: skip
        _save_checkpoint(checkpoint_file, {"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                                           "scheduler": scheduler.state_dict() if scheduler else None,
                                           "rng": torch.get_rng_state(), "history": history, "best": best,
                                           "epoch": epoch})  # fmt: skip
        bar.update(1)
        bar.set_postfix(loss=f"{record['train_loss']:.3f}", test=f"{record.get('test_accuracy', 0):.3f}")
    bar.close()

    total_seconds = sum(r["seconds"] for r in history)
    for criterion, entry in best.items():
        with atomic.atomic_path(folder / f"weights-{criterion}.pt") as tmp:
            torch.save(entry["weights"], tmp)
    with atomic.atomic_path(folder / "predictions.npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, test_index=rows["test"],
                     **{f"test_{c}": e["test_predictions"] for c, e in best.items()})  # fmt: skip
    test_y = y[rows["test"]]
    summary = {
        "spec": asdict(spec),
        "history": history,
        "selected_epoch": {c: int(e["epoch"]) for c, e in best.items()},
        "test_accuracy": {c: float(np.mean(e["test_predictions"] == test_y)) for c, e in best.items()},
        "seconds": total_seconds,
        "device": str(dev),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
    }
    atomic.write_json(done, summary)
    checkpoint_file.unlink(missing_ok=True)
    return load_result(folder)


def _fold_from(data: dict) -> Fold:
    return Fold(int(data["fold"]), tuple(data["train"]), tuple(data["test"]))


def load_result(folder: Path) -> RunResult:
    """Read a finished run from its folder."""
    folder = Path(folder)
    summary = json.loads((folder / "result.json").read_text())
    raw = summary["spec"]
    spec = RunSpec(**{**raw, "fold": _fold_from(raw["fold"]), "val_speakers": tuple(raw["val_speakers"]),
                      "model_options": tuple(tuple(p) for p in raw["model_options"])})  # fmt: skip
    with np.load(folder / "predictions.npz") as stored:
        test_index = stored["test_index"]
        predictions = {name[len("test_") :]: stored[name] for name in stored.files if name != "test_index"}
    return RunResult(
        spec=spec,
        folder=folder,
        history=pd.DataFrame(summary["history"]),
        selected_epoch=summary["selected_epoch"],
        test_accuracy=summary["test_accuracy"],
        test_index=test_index,
        test_predictions=predictions,
        seconds=summary["seconds"],
        device=summary["device"],
        extra={k: summary.get(k) for k in ("threads", "cpu_count")},
    )


def load_model(result: RunResult, criterion: str | None = None, device: str = "cpu") -> nn.Module:
    """The trained model of a run at its selected epoch, ready for :func:`predict`."""
    spec = result.spec
    model = build_model(spec.model, TASK_CLASSES[spec.task], **dict(spec.model_options))
    model.load_state_dict(torch.load(result.weights(criterion), map_location=device, weights_only=True))
    return fast_layout(model.to(device)).eval()
