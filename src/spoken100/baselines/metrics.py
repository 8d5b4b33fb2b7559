"""Cost of a network: parameters, multiply-accumulates (MACs) and CPU inference time per clip.

MACs are counted with PyTorch's own :class:`torch.utils.flop_counter.FlopCounterMode`, which records
the matrix products and convolutions a forward pass actually runs (``mm``, ``addmm``, ``bmm``,
convolutions including depthwise ones, attention) at 2 FLOPs per multiply-accumulate; MACs are its
total divided by 2. As in MLPerf Tiny and the TinyML literature, element-wise work (biases added
outside a product, activations, normalisation, pooling, softmax) is not counted.

``FlopCounterMode`` does not see inside fused recurrent kernels (``aten.lstm``), so recurrent layers
are added analytically: ``batch x steps x directions x gates x hidden x (inputs + hidden)`` per layer.
A module may define ``macs(x) -> int`` to give its own count (as
:class:`~spoken100.baselines.models.KerasBiLSTM` does, leaving out its constant bias input).
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager

import pandas as pd
import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from spoken100.baselines.models import BASELINES, build_model, example_input

_GATES = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters; buffers such as BatchNorm running statistics are not parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def rnn_macs(module: nn.RNNBase, x: Tensor) -> int:
    """Analytic MACs of an ``nn.LSTM``/``nn.GRU``/``nn.RNN`` call on an unpacked input ``x``."""
    batch, steps = (x.shape[0], x.shape[1]) if module.batch_first else (x.shape[1], x.shape[0])
    directions = 2 if module.bidirectional else 1
    gates = _GATES[type(module)]
    total, inputs = 0, module.input_size
    for _ in range(module.num_layers):
        total += batch * steps * directions * gates * module.hidden_size * (inputs + module.hidden_size)
        inputs = module.hidden_size * directions
    return total


def count_macs(model: nn.Module, example: Tensor, *, by_module: bool = False) -> int | dict[str, int]:
    """Multiply-accumulates of one forward pass of ``model`` on ``example`` (for the whole batch).

    by_module: return ``{module name: MACs}`` for the modules that have any (``""`` is the total).
    """
    root = type(model).__name__
    custom = {name: m for name, m in model.named_modules() if callable(getattr(m, "macs", None))}
    inside_custom = {id(sub) for m in custom.values() for sub in m.modules()}
    recurrent = {name: m for name, m in model.named_modules() if type(m) in _GATES and id(m) not in inside_custom}
    analytic: dict[str, int] = {}
    hooks = []
    for name, module in {**custom, **recurrent}.items():
        counter = module.macs if name in custom else (lambda x, m=module: rnn_macs(m, x))

        def hook(_module, args, _output, name=name, counter=counter):
            analytic[name] = analytic.get(name, 0) + int(counter(args[0]))

        hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as flops:
            model(example)
    finally:
        for handle in hooks:
            handle.remove()
        model.train(was_training)
    counted = flops.get_flop_counts()

    def seen(name: str) -> int:
        return sum(int(n) for n in counted.get(f"{root}.{name}", {}).values()) // 2

    # An analytic count is used only where the flop counter saw nothing (no double counting).
    extra = {name: value for name, value in analytic.items() if seen(name) == 0}
    total = flops.get_total_flops() // 2 + sum(extra.values())
    if not by_module:
        return total
    result = {"": total}
    for key, ops in counted.items():
        if key.startswith(f"{root}."):
            result[key[len(root) + 1 :]] = sum(int(n) for n in ops.values()) // 2
    result.update(extra)
    return result


@contextmanager
def _threads(n: int):
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def cpu_inference_time(
    model: nn.Module, example: Tensor, *, repeats: int = 20, warmup: int = 3, threads: int = 1
) -> dict[str, float]:
    """Wall-clock CPU time of ``model(example)`` in inference mode, per call and per clip.

    repeats, warmup: timed calls, after untimed warm-up calls.
    threads: PyTorch intra-op threads during the measurement (restored afterwards); 1 approximates a
        single-core device and makes numbers comparable between machines with different core counts.

    Returns the median, minimum and mean seconds per call and ``per_clip_s`` (median / batch size).
    The machine and its load matter: report them with the numbers.
    """
    if any(p.device.type != "cpu" for p in model.parameters()):
        raise ValueError("the model must be on the CPU")
    was_training = model.training
    model.eval()
    times = []
    try:
        with _threads(threads), torch.inference_mode():
            for _ in range(warmup):
                model(example)
            for _ in range(repeats):
                start = time.perf_counter()
                model(example)
                times.append(time.perf_counter() - start)
    finally:
        model.train(was_training)
    median = statistics.median(times)
    return {
        "median_s": median,
        "min_s": min(times),
        "mean_s": statistics.fmean(times),
        "per_clip_s": median / example.shape[0],
        "batch": float(example.shape[0]),
        "threads": float(threads),
    }


def baseline_costs(n_classes: int = 100, *, timing: bool = False, repeats: int = 10, threads: int = 1) -> pd.DataFrame:
    """One row per baseline: our parameter count beside the paper's, MACs per clip and optionally CPU ms per clip.

    Columns: ``model``, ``title``, ``parameters`` (ours, trainable), ``paper_parameters`` (Keras total),
    ``keras_non_trainable`` (part of the Keras total that PyTorch keeps as buffers), ``macs`` and, with
    ``timing``, ``cpu_ms_per_clip`` (batch of 1, ``threads`` threads).
    """
    rows = []
    for name, spec in BASELINES.items():
        model = build_model(name, n_classes, seed=0)
        x = example_input(name)
        row = {
            "model": name,
            "title": spec.title,
            "parameters": count_parameters(model),
            "paper_parameters": spec.paper_parameters.get(n_classes),
            "keras_non_trainable": spec.keras_non_trainable,
            "macs": count_macs(model, x),
        }
        if timing:
            row["cpu_ms_per_clip"] = 1e3 * cpu_inference_time(model, x, repeats=repeats, threads=threads)["per_clip_s"]
        rows.append(row)
    return pd.DataFrame(rows)
