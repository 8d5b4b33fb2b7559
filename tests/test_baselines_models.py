"""The five baselines: published parameter counts, output shapes, Keras details and the registry."""

from __future__ import annotations

import pytest
import torch

from spoken100.baselines.efficientnet import B0_FEATURE_PARAMETERS, EfficientNetB0Features, keras_pad
from spoken100.baselines.metrics import count_parameters
from spoken100.baselines.models import (
    BASELINES,
    KerasBiLSTM,
    Transformer,
    build_model,
    sinusoidal_encoding,
)

#: Keras ``count_params()`` of the paper's models (paper-facts §4.3): 4 classes as printed by
#: ``model.summary()`` in the companion repository, 100 classes derived by widening the last layer.
PAPER_PARAMETERS = {
    "rnn": {4: 5_709_700, 100: 5_722_084},
    "cnn_1d": {4: 16_368_340, 100: 16_374_580},
    "cnn_2d": {4: 1_891_972, 100: 1_904_356},
    "cnn_effnet": {4: 5_365_415, 100: 5_463_815},
    "transformer": {4: 1_352_324, 100: 1_745_636},
}
#: EfficientNet: Keras' total includes 42,016 BatchNorm moving statistics and the 7 constants of its
#: input Normalization layer, which PyTorch keeps as buffers. Our trainable count equals Keras'
#: trainable count (published for 4 classes: 5,323,392).
EFFNET_TRAINABLE = {4: 5_323_392, 100: 5_421_792}
EFFNET_KERAS_NON_TRAINABLE = 42_023


@pytest.fixture(scope="module", autouse=True)
def few_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_registry_holds_the_published_counts():
    assert list(BASELINES) == list(PAPER_PARAMETERS)
    for name, counts in PAPER_PARAMETERS.items():
        assert dict(BASELINES[name].paper_parameters) == counts


@pytest.mark.parametrize("name", list(PAPER_PARAMETERS))
@pytest.mark.parametrize("n_classes", [100, 4])
def test_parameter_count_matches_the_paper(name, n_classes):
    ours = count_parameters(build_model(name, n_classes))
    if name == "cnn_effnet":
        assert ours == EFFNET_TRAINABLE[n_classes]
        assert ours + EFFNET_KERAS_NON_TRAINABLE == PAPER_PARAMETERS[name][n_classes]
    else:
        assert ours == PAPER_PARAMETERS[name][n_classes]
    assert ours == BASELINES[name].expected_parameters(n_classes)


def test_efficientnet_buffers_account_for_the_keras_non_trainable_weights():
    model = build_model("cnn_effnet", 100)
    running = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    # Keras' Normalization layer stores mean (3), variance (3) and a sample count (1).
    assert running + 3 + 3 + 1 == EFFNET_KERAS_NON_TRAINABLE
    assert count_parameters(EfficientNetB0Features()) == B0_FEATURE_PARAMETERS


@pytest.mark.parametrize("name", list(PAPER_PARAMETERS))
def test_forward_pass_gives_one_logit_per_class(name):
    model = build_model(name, 100, seed=0).eval()
    waveform = BASELINES[name].input_kind == "waveform"
    x = 0.1 * torch.randn(2, 8000) if waveform else torch.rand(2, 128, 32) * -80.0  # dB in [-80, 0]
    with torch.no_grad():
        y = model(x)
        alone = [model(x[i : i + 1]) for i in range(2)]
    assert y.shape == (2, 100)
    assert torch.isfinite(y).all()
    # Each clip's logits depend on that clip alone (evaluation mode: no batch statistics) and on its content.
    # (Relative tolerances: the untrained EfficientNet head gives logits of about 1e-5.)
    scale = float(y.abs().max())
    assert scale > 0
    torch.testing.assert_close(torch.cat(alone), y, rtol=1e-4, atol=1e-4 * scale)
    assert (y[0] - y[1]).abs().max() > 1e-2 * scale


def test_inputs_are_the_shared_arrays():
    assert build_model("cnn_1d", 4).input_shape == (8000,)
    for name in ("cnn_2d", "rnn", "cnn_effnet", "transformer"):
        assert BASELINES[name].model.input_shape == (128, 32)


def test_seeded_builds_are_identical():
    a, b = build_model("cnn_2d", 4, seed=3), build_model("cnn_2d", 4, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    # ... and the seed is used: another seed gives other initial weights (biases start at zero in both).
    c = build_model("cnn_2d", 4, seed=4)
    differ = [not torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters(), strict=True)]
    weights = [p.dim() > 1 for p in a.parameters()]
    assert any(weights) and all(d for d, w in zip(differ, weights, strict=True) if w)


def test_keras_lstm_has_one_bias_per_gate_and_forget_bias_one():
    layer = KerasBiLSTM(32, 128, return_sequences=False)
    assert count_parameters(layer) == 2 * 4 * (128 * (32 + 128) + 128)
    layer.keras_init_()
    bias = layer.lstm.weight_ih_l0[:, -1]
    assert torch.equal(bias[128:256], torch.ones(128)) and not bias[:128].any() and not bias[256:].any()
    assert layer(torch.zeros(2, 5, 32)).shape == (2, 256)


def test_keras_padding_of_stride2_convs():
    # Keras (correct_pad): ((top, bottom), (left, right)) = ((0, 1), (0, 1)) for k3 on even sides,
    # ((1, 2), (1, 2)) for k5 on even sides; symmetric on odd sides. Returned as (left, right, top, bottom).
    assert keras_pad(128, 32, 3) == (0, 1, 0, 1)
    assert keras_pad(32, 8, 5) == (1, 2, 1, 2)
    assert keras_pad(7, 9, 3) == (1, 1, 1, 1)
    assert EfficientNetB0Features()(torch.zeros(1, 3, 128, 32)).shape == (1, 1280, 4, 1)


def test_efficientnet_uses_torchvision_names_and_loads_user_weights(tmp_path):
    model = build_model("cnn_effnet", 4, seed=1)
    shapes = {k: tuple(v.shape) for k, v in model.backbone.state_dict().items()}
    assert shapes["features.0.0.weight"] == (32, 3, 3, 3)
    assert shapes["features.1.0.block.0.0.weight"] == (32, 1, 3, 3)
    assert shapes["features.1.0.block.1.fc1.weight"] == (8, 32, 1, 1)
    assert shapes["features.2.0.block.0.0.weight"] == (96, 16, 1, 1)
    assert shapes["features.7.0.block.3.1.running_var"] == (320,)
    assert shapes["features.8.0.weight"] == (1280, 320, 1, 1)

    weights = tmp_path / "effnet_b0.pth"
    state = dict(model.backbone.state_dict())
    state["classifier.1.weight"] = torch.zeros(1000, 1280)  # a torchvision head is ignored
    torch.save(state, weights)
    loaded = build_model("cnn_effnet", 100, seed=2, pretrained=weights)
    assert torch.equal(
        loaded.backbone.features[3][1].block[1][0].weight, model.backbone.features[3][1].block[1][0].weight
    )
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        build_model("cnn_effnet", 4, pretrained=tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="only 'cnn_effnet'"):
        build_model("cnn_2d", 4, pretrained=weights)


def test_transformer_positions_and_padding_mask():
    pe = sinusoidal_encoding(32, 128)
    assert torch.equal(pe[0], torch.cat([torch.zeros(64), torch.ones(64)]))
    model = Transformer(4).eval()
    x = torch.full((1, 128, 32), -30.0)
    x[0, :, 5] = 0.5 / 128  # this frame's sum truncates to 0: masked as a key
    captured = {}
    layer = model.layers[0].attention
    handle = layer.register_forward_hook(lambda m, args, out: captured.update(mask=args[1]))
    with torch.no_grad():
        model(x)
    handle.remove()
    assert captured["mask"][0].nonzero().flatten().tolist() == [5]


def test_learning_rate_schedules():
    assert BASELINES["rnn"].learning_rate(0) == 1e-4
    assert BASELINES["cnn_1d"].learning_rate(25) == 5e-5
    assert BASELINES["cnn_2d"].learning_rate(74) == 1e-5
    assert BASELINES["cnn_effnet"].learning_rate(24) == 1e-3
    assert BASELINES["transformer"].learning_rate(70) == 1e-7


def test_unknown_names_are_refused():
    with pytest.raises(KeyError, match="unknown baseline"):
        build_model("resnet", 4)
    with pytest.raises(ValueError, match="init"):
        build_model("cnn_2d", 4, init="xavier")
