"""MACs and CPU timing of the baselines."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spoken100.baselines.metrics import count_macs, cpu_inference_time, rnn_macs
from spoken100.baselines.models import build_model, example_input

#: Hand-computed multiply-accumulates per clip, 100 classes (convolutions: output positions x
#: output channels x kernel size x input channels; Dense: inputs x outputs; LSTM: steps x 2
#: directions x 4 gates x units x (inputs + units); attention: the two batched products).
HAND_MACS = {
    "cnn_1d": 7998 * 8 * 3 + 3997 * 16 * 3 * 8 + 1996 * 32 * 3 * 16 + 996 * 64 * 3 * 32
    + 63744 * 256 + 256 * 128 + 128 * 64 + 64 * 100,
    "cnn_2d": 126 * 30 * 16 * 9 + 61 * 13 * 32 * 9 * 16 + 28 * 4 * 64 * 9 * 32 + 7168 * 256 + 256 * 128 + 128 * 100,
    "rnn": 128 * 2 * 4 * (128 * (32 + 128) + 256 * (256 + 256) + 512 * (512 + 512)) + 1024 * 256 + 256 * 128 + 128 * 100,
    "transformer": 32 * 128 * 128
    + 4 * (4 * 32 * 128 * 128 + 2 * 16 * 32 * 32 * 8 + 2 * 32 * 128 * 1024)
    + 4096 * 100,
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def few_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.mark.parametrize("name", list(HAND_MACS))
def test_macs_match_hand_counts(name):
    assert count_macs(build_model(name, 100), example_input(name)) == HAND_MACS[name]


def _hooked_macs(model: nn.Module, x: torch.Tensor) -> int:
    """An independent count: forward hooks on every Conv2d and Linear."""
    total = 0

    def hook(module, args, out):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total += out.numel() * k * module.in_channels // module.groups
        else:
            total += out.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()(x)
    for h in handles:
        h.remove()
    return total


def test_efficientnet_macs_agree_with_layer_hooks():
    model = build_model("cnn_effnet", 100)
    x = example_input("cnn_effnet")
    assert count_macs(model, x) == _hooked_macs(model, x)


def test_plain_lstm_is_counted_analytically_and_by_module():
    lstm = nn.LSTM(32, 16, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.zeros(3, 10, 32)
    expected = 3 * 10 * 2 * 4 * 16 * ((32 + 16) + (32 + 16))
    assert rnn_macs(lstm, x) == expected
    assert count_macs(nn.Sequential(lstm), x) == expected
    parts = count_macs(build_model("rnn", 4), example_input("rnn", batch=2), by_module=True)
    assert parts["rnn.0"] == 2 * 128 * 2 * 4 * 128 * (32 + 128)


def test_cpu_inference_time_restores_threads():
    before = torch.get_num_threads()
    result = cpu_inference_time(build_model("cnn_2d", 4), example_input("cnn_2d", batch=2), repeats=3, warmup=1)
    assert torch.get_num_threads() == before
    assert 0 < result["min_s"] <= result["median_s"] and result["per_clip_s"] == result["median_s"] / 2
