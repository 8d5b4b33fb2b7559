"""The paper's five baseline networks in PyTorch, layer for layer as in its Keras code.

Source of truth: paper-facts §4.3, which reads ``src/baseline_models.py`` of the companion
repository ankilab/SpokeN-100. Each class below names the Keras layers it reproduces.

What differs from Keras, and why it does not change the networks:

* **Outputs are logits.** The Keras models end in ``softmax`` and train with categorical
  cross-entropy; here the softmax is left to ``torch.nn.CrossEntropyLoss`` (same loss, numerically
  safer). Apply ``softmax`` for probabilities.
* **Inputs.** Every model takes the shared array of its input kind (:mod:`spoken100.data.inputs`):
  the waveform models ``(batch, 8000)``, the spectrogram models ``(batch, 128, 32)`` (mel bands x
  frames). Each model then arranges it as the paper's loader did: a channel axis for the CNNs,
  three identical channels for EfficientNet, frames-first for the Transformer.
* **Flatten order.** The CNNs flatten channels-last, as Keras does, so a Keras ``Dense`` kernel maps
  onto the PyTorch ``Linear`` weight by a transpose alone.
* **LSTM bias.** A Keras LSTM has one bias per gate, a PyTorch ``nn.LSTM`` two (``b_ih`` and
  ``b_hh``). :class:`KerasBiLSTM` keeps Keras' parameter count by feeding a constant-one input
  feature to a bias-free ``nn.LSTM``: the weight column of that feature is the Keras bias.
* **Initialisation.** ``init="keras"`` (default) draws weights as Keras would (Glorot-uniform
  kernels, zero biases, orthogonal recurrent kernels, forget-gate bias 1, EfficientNet's
  fan-out truncated normal); ``init="torch"`` keeps PyTorch's defaults.
* **EfficientNet weights.** The paper started from Keras' ImageNet weights; here the network is
  trained from scratch unless ``pretrained`` names a weights file the user supplies (nothing is
  downloaded). See :mod:`spoken100.baselines.efficientnet`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from spoken100.baselines.efficientnet import (
    B0_FEATURES,
    EfficientNetB0Features,
    KerasInputScaling,
    keras_efficientnet_init_,
)
from spoken100.data import paper_facts
from spoken100.data.paper_facts import PaperFigure
from spoken100.data.tasks import N_SAMPLES

#: Mel bands and frames of the paper's log-mel input (paper-facts §4.1).
N_MELS, N_FRAMES = 128, 32


def _glorot_(weight: Tensor) -> None:
    nn.init.xavier_uniform_(weight)


def keras_default_init_(module: nn.Module) -> None:
    """Keras' default initialisation for the layers of ``module``, in place.

    ``Dense``/``Conv`` kernels Glorot-uniform and biases zero; ``LayerNormalization`` gamma 1, beta 0.
    :class:`KerasBiLSTM` layers get their own Keras LSTM initialisation.
    """
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)) and m.weight.dim() > 1:
            _glorot_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, KerasBiLSTM):
            m.keras_init_()


class CNN1D(nn.Module):
    """1-D CNN on the raw clip resampled to 8,000 samples (Keras input ``(8000, 1)``).

    Conv1D 8 k3 ReLU -> MaxPool 2 -> Conv1D 16 k3 ReLU -> MaxPool 2 -> Conv1D 32 k3 ReLU -> MaxPool 2
    -> Conv1D 64 k3 ReLU -> Flatten (996 x 64 = 63,744) -> Dense 256 ReLU -> Dense 128 ReLU
    -> Dense 64 ReLU -> Dense ``n_classes``. Convolutions are unpadded (Keras ``"valid"``).
    """

    input_shape = (N_SAMPLES,)

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, 8, 3),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(8, 16, 3),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(16, 32, 3),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(32, 64, 3),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(996 * 64, 256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x.unsqueeze(1))  # (B, 64, 996)
        return self.classifier(x.transpose(1, 2).flatten(1))  # channels-last flatten, as Keras


class CNN2D(nn.Module):
    """2-D CNN on the 128 x 32 log-mel with one channel (Keras input ``(128, 32, 1)``).

    Conv2D 16 3x3 ReLU -> MaxPool 2x2 -> Conv2D 32 3x3 ReLU -> MaxPool 2x2 -> Conv2D 64 3x3 ReLU
    -> Flatten (28 x 4 x 64 = 7,168) -> Dense 256 ReLU -> Dense 128 ReLU -> Dense ``n_classes``.
    """

    input_shape = (N_MELS, N_FRAMES)

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(28 * 4 * 64, 256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.ReLU(),
            nn.Linear(128, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x.unsqueeze(1))  # (B, 64, 28, 4)
        return self.classifier(x.permute(0, 2, 3, 1).flatten(1))


class KerasBiLSTM(nn.Module):
    """``Bidirectional(LSTM(hidden_size))`` with Keras' single bias per gate.

    A bias-free ``nn.LSTM`` receives the input with a constant 1 appended; the last column of each
    direction's ``weight_ih`` is therefore the Keras bias. Outputs concatenate the forward and the
    backward direction (Keras ``merge_mode="concat"``): the whole sequence ``(B, T, 2h)`` when
    ``return_sequences``, else the two final states ``(B, 2h)``.
    """

    def __init__(self, input_size: int, hidden_size: int, return_sequences: bool) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.return_sequences = return_sequences
        self.lstm = nn.LSTM(input_size + 1, hidden_size, bias=False, batch_first=True, bidirectional=True)

    def forward(self, x: Tensor) -> Tensor:
        ones = x.new_ones((*x.shape[:-1], 1))
        out, (h, _) = self.lstm(torch.cat([x, ones], dim=-1))
        return out if self.return_sequences else torch.cat([h[0], h[1]], dim=-1)

    def macs(self, x: Tensor) -> int:
        """Multiply-accumulates of one call on ``x`` (both directions; the bias column excluded)."""
        batch, steps = x.shape[0], x.shape[1]
        return 2 * batch * steps * 4 * self.hidden_size * (self.input_size + self.hidden_size)

    @torch.no_grad()
    def keras_init_(self) -> None:
        """Keras LSTM defaults: Glorot-uniform kernel, orthogonal recurrent kernel, zero bias but 1 for
        the forget gate (``unit_forget_bias``). Gate order i, f, c, o is the same in both libraries."""
        h = self.hidden_size
        for suffix in ("", "_reverse"):
            w_ih = getattr(self.lstm, f"weight_ih_l0{suffix}")
            limit = math.sqrt(6.0 / (self.input_size + 4 * h))
            w_ih[:, : self.input_size].uniform_(-limit, limit)
            w_ih[:, self.input_size].zero_()
            w_ih[h : 2 * h, self.input_size] = 1.0
            nn.init.orthogonal_(getattr(self.lstm, f"weight_hh_l0{suffix}"))


class BiLSTM(nn.Module):
    """Three-layer bidirectional LSTM ("RNN" in the paper) on the 128 x 32 log-mel (Keras input ``(128, 32)``).

    The 128 mel bands are the time steps and the 32 frames the features, as in the paper's loader.
    BiLSTM 128 (sequences) -> BiLSTM 256 (sequences) -> BiLSTM 512 (final states, 1024) -> Dropout 0.5
    -> Dense 256 ReLU -> Dense 128 ReLU -> Dense ``n_classes``.

    width: scales the three LSTM sizes (``0.25`` gives 32/64/128). The paper's model is ``1.0``; a
        narrower one makes CPU builds affordable (its recurrent cost grows with the square of the
        width) and is always labelled as a deviation where it is used.
    """

    input_shape = (N_MELS, N_FRAMES)

    def __init__(self, n_classes: int, width: float = 1.0) -> None:
        super().__init__()
        h1, h2, h3 = (max(1, round(size * width)) for size in (128, 256, 512))
        self.rnn = nn.Sequential(
            KerasBiLSTM(N_FRAMES, h1, return_sequences=True),
            KerasBiLSTM(2 * h1, h2, return_sequences=True),
            KerasBiLSTM(2 * h2, h3, return_sequences=False),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(2 * h3, 256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.ReLU(),
            nn.Linear(128, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.rnn(x))


class EfficientNetB0Classifier(nn.Module):
    """EfficientNet-B0 on the log-mel repeated to three channels (Keras input ``(128, 32, 3)``).

    Keras' input scaling -> EfficientNet-B0 features (1280 x 4 x 1) -> GlobalAveragePooling2D
    -> Dense 1024 ReLU -> Dense ``n_classes``.

    Parameters
    ----------
    n_classes:
        Output classes.
    input_scaling:
        Apply Keras' ImageNet input scaling ``(x / 255 - mean) / std`` as the paper's pretrained
        Keras model did (default); ``False`` feeds the dB values unchanged.
    padding:
        ``"keras"`` or ``"torch"``, see :class:`~spoken100.baselines.efficientnet.EfficientNetB0Features`.
    """

    input_shape = (N_MELS, N_FRAMES)

    def __init__(self, n_classes: int, input_scaling: bool = True, padding: str = "keras") -> None:
        super().__init__()
        self.scaling = KerasInputScaling() if input_scaling else nn.Identity()
        self.backbone = EfficientNetB0Features(padding=padding)
        self.classifier = nn.Sequential(
            nn.Linear(B0_FEATURES, 1024),
            nn.ReLU(),
            nn.Linear(1024, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.scaling(x.unsqueeze(1).expand(-1, 3, -1, -1))
        x = F.adaptive_avg_pool2d(self.backbone(x), 1).flatten(1)
        return self.classifier(x)

    def load_backbone(self, path: str | Path) -> None:
        """Load user-supplied weights for the feature extractor (never downloads).

        ``path``: a ``torch.save``-d state dict, either of this whole model or of a torchvision-named
        EfficientNet-B0 (keys ``features.*``; a ``classifier.*`` head is ignored), e.g. the ImageNet
        weights of ``torchvision.models.efficientnet_b0`` downloaded by the user.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such weights file (pretrained weights are never downloaded)")
        state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, Mapping) and "state_dict" in state:
            state = state["state_dict"]
        if any(key.startswith("backbone.") for key in state):
            self.load_state_dict(state, strict=True)
        else:
            features = {k: v for k, v in state.items() if k.startswith("features.")}
            if not features:
                raise ValueError(f"{path}: no EfficientNet-B0 'features.*' weights in this file")
            self.backbone.load_state_dict(features, strict=True)


def sinusoidal_encoding(positions: int, d_model: int) -> Tensor:
    """The paper's positional encoding, ``(positions, d_model)``.

    Angles ``pos / 10000**(2 * (i // 2) / d_model)``; the sines of the even ``i`` come first and the
    cosines of the odd ``i`` after them (concatenated, not interleaved, as in the paper's code).
    """
    pos = torch.arange(positions, dtype=torch.float32)[:, None]
    i = torch.arange(d_model, dtype=torch.float32)[None, :]
    angles = pos / torch.pow(10000.0, (2 * (i // 2)) / d_model)
    return torch.cat([torch.sin(angles[:, 0::2]), torch.cos(angles[:, 1::2])], dim=-1)


class MultiHeadAttention(nn.Module):
    """Self-attention with separate query/key/value/output ``Dense`` layers (the paper's own layer).

    The padding mask adds ``-1e9`` to the logits of masked keys; attention weights get no dropout.
    """

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError("d_model must be divisible by n_heads")
        self.n_heads, self.depth = n_heads, d_model // n_heads
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)

    def _split(self, x: Tensor) -> Tensor:
        return x.view(x.shape[0], -1, self.n_heads, self.depth).transpose(1, 2)  # (B, heads, T, depth)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        logits = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.depth)
        logits = logits + mask[:, None, None, :] * -1e9
        attended = torch.matmul(torch.softmax(logits, dim=-1), v)
        return self.out(attended.transpose(1, 2).reshape(x.shape[0], -1, self.n_heads * self.depth))


class EncoderLayer(nn.Module):
    """Post-norm encoder layer: attention -> dropout -> add & LayerNorm -> FFN (ReLU) -> dropout -> add & LayerNorm."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(d_model, n_heads)
        self.norm1 = nn.LayerNorm(d_model, eps=1e-6)
        self.ffn = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))
        self.norm2 = nn.LayerNorm(d_model, eps=1e-6)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        x = self.norm1(x + self.dropout1(self.attention(x, mask)))
        return self.norm2(x + self.dropout2(self.ffn(x)))


class Transformer(nn.Module):
    """Four-layer Transformer encoder on the log-mel, frames as tokens (Keras input ``(32, 128)``).

    The ``(128, 32)`` input is transposed to 32 frames of 128 mel values. Padding mask: a frame whose
    mel values sum to a number that truncates to 0 (the paper casts the sum to ``int32``) is masked as
    a key. Linear projection Dense 128 (Pham et al. 2019, arXiv 1904.13377) x sqrt(128) + sinusoidal
    positions -> Dropout 0.1 -> 4 x encoder layer (16 heads of depth 8, FFN 1024, dropout 0.1,
    LayerNorm epsilon 1e-6) -> reshape to 32 x 128 = 4,096 -> Dense ``n_classes``.
    """

    input_shape = (N_MELS, N_FRAMES)

    def __init__(
        self,
        n_classes: int,
        n_layers: int = 4,
        d_model: int = 128,
        n_heads: int = 16,
        d_ff: int = 1024,
        dropout: float = 0.1,
        time_steps: int = N_FRAMES,
    ) -> None:
        super().__init__()
        self.d_model, self.time_steps = d_model, time_steps
        self.projection = nn.Linear(N_MELS, d_model)
        self.register_buffer("positions", sinusoidal_encoding(time_steps, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(EncoderLayer(d_model, n_heads, d_ff, dropout) for _ in range(n_layers))
        self.classifier = nn.Linear(time_steps * d_model, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = x.transpose(1, 2)  # (B, frames, mels)
        mask = (torch.trunc(x.sum(dim=-1)) == 0).to(x.dtype)
        x = self.projection(x) * math.sqrt(self.d_model) + self.positions[: x.shape[1]]
        x = self.dropout(x)
        for layer in self.layers:
            x = layer(x, mask)
        return self.classifier(x.reshape(x.shape[0], self.time_steps * self.d_model))


@dataclass(frozen=True)
class BaselineSpec:
    """What the paper says about one baseline (paper-facts §4.3-4.4).

    name: the companion repository's ``model_type`` (also its result folder names).
    input_kind: ``"waveform"`` or ``"logmel"``, the array of :mod:`spoken100.data.inputs` it takes.
    keras_input: the input shape of the paper's Keras model.
    keras_non_trainable: part of those totals that PyTorch keeps as buffers, not parameters
        (EfficientNet's BatchNorm moving statistics and input ``Normalization`` constants).
    learning_rates: ``(first_epoch, rate)`` steps of the Keras ``LearningRateScheduler``; the
        optimiser is Adam, batch size 32, 75 epochs by default.
    """

    name: str
    title: str
    model: type[nn.Module]
    input_kind: str
    keras_input: tuple[int, ...]
    learning_rates: tuple[tuple[int, float], ...]
    keras_non_trainable: int = 0

    @property
    def paper_parameters(self) -> dict[int, int]:
        """Keras ``model.count_params()`` by number of classes, from :mod:`spoken100.data.paper_facts`.

        The 4-class totals are printed by ``model.summary()`` in the companion repository's
        ``notebooks/baselines.ipynb``; the 100-class totals are derived from them by widening the last
        ``Dense`` layer (the paper's own table could not be retrieved).
        """
        return {n: int(paper_facts.figure(f"params_{self.name}_{n}").value) for n in (4, 100)}

    @property
    def parameter_sources(self) -> dict[int, str]:
        """Where each of :attr:`paper_parameters` comes from."""
        return {n: paper_facts.figure(f"params_{self.name}_{n}").source for n in (4, 100)}

    @property
    def number_accuracy(self) -> PaperFigure:
        """The paper's number-task accuracy of this model (8-fold mean and SD), from :mod:`spoken100.data.paper_facts`."""
        return paper_facts.figure(f"baseline_number_{self.name}")

    def expected_parameters(self, n_classes: int) -> int:
        """Trainable parameters a faithful PyTorch port has: the Keras total minus its buffers."""
        return self.paper_parameters[n_classes] - self.keras_non_trainable

    def learning_rate(self, epoch: int) -> float:
        """The paper's learning rate in (0-based) ``epoch``."""
        rate = self.learning_rates[0][1]
        for first, value in self.learning_rates:
            if epoch >= first:
                rate = value
        return rate


_CNN_RATES = ((0, 1e-4), (25, 5e-5), (50, 1e-5))

#: The five baselines in the paper's order, keyed by the companion repository's model names.
BASELINES: dict[str, BaselineSpec] = {
    spec.name: spec
    for spec in (
        BaselineSpec(
            "rnn", "RNN (BiLSTM)", BiLSTM, "logmel", (128, 32), _CNN_RATES,
        ),
        BaselineSpec(
            "cnn_1d", "CNN-1D", CNN1D, "waveform", (8000, 1), _CNN_RATES,
        ),
        BaselineSpec(
            "cnn_2d", "CNN-2D", CNN2D, "logmel", (128, 32, 1), _CNN_RATES,
        ),
        BaselineSpec(
            "cnn_effnet", "CNN-EfficientNetB0", EfficientNetB0Classifier, "logmel", (128, 32, 3),
            ((0, 1e-3), (25, 5e-4), (50, 1e-4)), keras_non_trainable=42_023,
        ),
        BaselineSpec(
            "transformer", "Transformer", Transformer, "logmel", (32, 128), ((0, 1e-4), (30, 1e-5), (50, 1e-6), (70, 1e-7)),
        ),
    )
}  # fmt: skip


def build_model(
    name: str,
    n_classes: int,
    *,
    init: str = "keras",
    pretrained: str | Path | None = None,
    seed: int | None = None,
    **options,
) -> nn.Module:
    """Build baseline ``name`` (a key of :data:`BASELINES`) with ``n_classes`` outputs.

    init: ``"keras"`` (draw weights as the paper's Keras code would) or ``"torch"`` (PyTorch defaults).
    pretrained: only for ``"cnn_effnet"``: a local weights file for the EfficientNet-B0 feature
        extractor (see :meth:`EfficientNetB0Classifier.load_backbone`); ``None`` trains from scratch.
    seed: seed ``torch``'s generator before drawing weights, for reproducible initialisation.
    options: passed to the model class (e.g. ``input_scaling=False`` for EfficientNet).
    """
    if name not in BASELINES:
        raise KeyError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    if init not in ("keras", "torch"):
        raise ValueError(f"init must be 'keras' or 'torch', not {init!r}")
    if pretrained is not None and name != "cnn_effnet":
        raise ValueError("only 'cnn_effnet' takes pretrained weights")
    if seed is not None:
        torch.manual_seed(seed)
    model = BASELINES[name].model(n_classes, **options)
    if init == "keras":
        if isinstance(model, EfficientNetB0Classifier):
            keras_efficientnet_init_(model.backbone)
            keras_default_init_(model.classifier)
        else:
            keras_default_init_(model)
    if pretrained is not None:
        model.load_backbone(pretrained)
    return model


def example_input(name: str, batch: int = 1) -> Tensor:
    """A zero batch shaped like baseline ``name``'s input (for shape checks, MACs and timing)."""
    return torch.zeros(batch, *BASELINES[name].model.input_shape)
