"""EfficientNet-B0 feature extractor in PyTorch, built the way ``keras.applications.EfficientNetB0`` builds it.

The paper's fourth baseline is ``EfficientNetB0(include_top=False, input_shape=(128, 32, 3))`` from
Keras (paper-facts §4.3). torchvision is not a dependency of this companion, so the network is
written out here. It follows Keras where the two libraries differ in behaviour and torchvision where
they differ only in names:

* **Padding.** Keras pads stride-2 convolutions asymmetrically (``imagenet_utils.correct_pad``: one
  pixel less at the top/left when the input side is even), then convolves with ``"valid"``; torchvision
  pads symmetrically. ``padding="keras"`` (default) reproduces Keras, ``padding="torch"`` torchvision.
  For the 128 x 32 input both give the same feature-map sizes (64 x 16, 32 x 8, 16 x 4, 8 x 2, 4 x 1).
* **Batch normalisation.** Keras' defaults (epsilon 1e-3, moving-average momentum 0.99, i.e. PyTorch
  ``momentum=0.01``).
* **Input scaling.** Keras' EfficientNet starts with ``Rescaling(1/255)`` and a ``Normalization``
  layer; with ``weights="imagenet"`` (what the paper used) these hold the ImageNet channel means
  and, through the fix for tensorflow/tensorflow#49930, divide by the ImageNet channel standard
  deviations. :class:`KerasInputScaling` applies the same fixed transform
  ``(x / 255 - mean) / std``. It holds constants, not parameters.
* **Stochastic depth.** Keras' ``Dropout(rate, noise_shape=(None, 1, 1, 1))`` on the residual branch
  with ``rate = 0.2 * block_index / 16``, which is torchvision's ``StochasticDepth(mode="row")``.
* **Names.** Modules are named as in ``torchvision.models.efficientnet_b0().features`` (``features.0``
  stem, ``features.1``-``features.7`` stages of MBConv blocks with ``block`` and ``fc1``/``fc2``
  squeeze-excitation, ``features.8`` head conv), so a torchvision ImageNet state dict, without its
  ``classifier.*`` entries, loads with ``strict=True``.

Parameter count: 4,007,548 trainable parameters, which is Keras' trainable count for the same network
(its 4,049,571 total also counts the 42,016 BatchNorm moving statistics and the 7 numbers of the
``Normalization`` layer, which PyTorch keeps as buffers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: ImageNet channel statistics (RGB) used by Keras' pretrained EfficientNet input layers.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Keras BatchNormalization defaults (PyTorch's momentum is 1 - Keras' momentum).
BN_EPS = 1e-3
BN_MOMENTUM = 0.01

#: Trainable parameters of the B0 feature extractor (``include_top=False``).
B0_FEATURE_PARAMETERS = 4_007_548
#: Number of output channels of the feature extractor.
B0_FEATURES = 1280


@dataclass(frozen=True)
class StageConfig:
    """One stage of MBConv blocks (EfficientNet paper, Table 1)."""

    expand_ratio: int
    kernel: int
    stride: int
    in_channels: int
    out_channels: int
    repeats: int


#: EfficientNet-B0 (width and depth multipliers 1.0), as in Keras' ``DEFAULT_BLOCKS_ARGS``.
B0_STAGES: tuple[StageConfig, ...] = (
    StageConfig(1, 3, 1, 32, 16, 1),
    StageConfig(6, 3, 2, 16, 24, 2),
    StageConfig(6, 5, 2, 24, 40, 2),
    StageConfig(6, 3, 2, 40, 80, 3),
    StageConfig(6, 5, 1, 80, 112, 3),
    StageConfig(6, 5, 2, 112, 192, 4),
    StageConfig(6, 3, 1, 192, 320, 1),
)


def keras_pad(height: int, width: int, kernel: int) -> tuple[int, int, int, int]:
    """The ``(left, right, top, bottom)`` zero padding Keras puts before a stride-2 ``"valid"`` conv.

    ``imagenet_utils.correct_pad``: ``kernel // 2`` on the bottom/right, one less on the top/left
    when that side of the input is even.
    """
    half = kernel // 2
    return (half - (1 - width % 2), half, half - (1 - height % 2), half)


class ConvBNAct(nn.Sequential):
    """Convolution (no bias) -> BatchNorm -> optional SiLU; keys ``0`` (conv), ``1`` (bn) as in torchvision."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 1,
        stride: int = 1,
        groups: int = 1,
        activation: bool = True,
        padding: str = "keras",
    ) -> None:
        self.keras_stride2 = padding == "keras" and stride == 2
        conv_padding = 0 if self.keras_stride2 else (kernel - 1) // 2
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel, stride, conv_padding, groups=groups, bias=False),
            nn.BatchNorm2d(out_channels, eps=BN_EPS, momentum=BN_MOMENTUM),
        ]
        if activation:
            layers.append(nn.SiLU(inplace=True))
        super().__init__(*layers)
        self.kernel = kernel

    def forward(self, x: Tensor) -> Tensor:
        if self.keras_stride2:
            x = F.pad(x, keras_pad(x.shape[-2], x.shape[-1], self.kernel))
        return super().forward(x)


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation: global average -> 1x1 conv + SiLU -> 1x1 conv + sigmoid -> channel scale."""

    def __init__(self, channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = torch.sigmoid(self.fc2(F.silu(self.fc1(scale))))
        return x * scale


class MBConv(nn.Module):
    """Mobile inverted bottleneck: [1x1 expand] -> depthwise kxk -> squeeze-excitation -> 1x1 project.

    The residual connection (with stochastic depth of probability ``drop_rate`` during training)
    exists when the block keeps its resolution and width, as in Keras (``id_skip``) and torchvision.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        stride: int,
        expand_ratio: int,
        drop_rate: float,
        padding: str = "keras",
    ) -> None:
        super().__init__()
        expanded = in_channels * expand_ratio
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNAct(in_channels, expanded, 1, padding=padding))
        layers.append(ConvBNAct(expanded, expanded, kernel, stride, groups=expanded, padding=padding))
        layers.append(SqueezeExcitation(expanded, max(1, int(in_channels * 0.25))))
        layers.append(ConvBNAct(expanded, out_channels, 1, activation=False, padding=padding))
        self.block = nn.Sequential(*layers)
        self.use_residual = stride == 1 and in_channels == out_channels
        self.drop_rate = drop_rate

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        if not self.use_residual:
            return out
        if self.training and self.drop_rate > 0:
            keep = 1.0 - self.drop_rate
            mask = torch.empty((out.shape[0], 1, 1, 1), dtype=out.dtype, device=out.device).bernoulli_(keep)
            out = out * mask / keep
        return out + x


class KerasInputScaling(nn.Module):
    """``(x / 255 - mean) / std`` per channel: the input layers of Keras' ImageNet EfficientNet.

    Keras computes it as ``Rescaling(1/255)``, ``Normalization(mean, variance=std)`` and
    ``Rescaling(1/sqrt(std))``; the product is the plain ImageNet standardisation written here.
    The constants are buffers (saved in the state dict, never trained).
    """

    def __init__(self, mean: tuple[float, ...] = IMAGENET_MEAN, std: tuple[float, ...] = IMAGENET_STD) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return (x / 255.0 - self.mean) / self.std


class EfficientNetB0Features(nn.Module):
    """EfficientNet-B0 without its classifier: (B, 3, H, W) -> (B, 1280, H/32, W/32).

    Parameters
    ----------
    drop_connect_rate:
        Stochastic-depth rate of the last block (Keras' ``drop_connect_rate``, default 0.2); block
        ``b`` of 16 uses ``drop_connect_rate * b / 16``.
    padding:
        ``"keras"`` (asymmetric padding of stride-2 convolutions, as in the paper's Keras model) or
        ``"torch"`` (symmetric, as in torchvision).
    """

    def __init__(self, drop_connect_rate: float = 0.2, padding: str = "keras") -> None:
        super().__init__()
        if padding not in ("keras", "torch"):
            raise ValueError(f"padding must be 'keras' or 'torch', not {padding!r}")
        layers: list[nn.Module] = [ConvBNAct(3, B0_STAGES[0].in_channels, 3, 2, padding=padding)]
        total = sum(stage.repeats for stage in B0_STAGES)
        index = 0
        for stage in B0_STAGES:
            blocks = []
            for repeat in range(stage.repeats):
                blocks.append(
                    MBConv(
                        stage.in_channels if repeat == 0 else stage.out_channels,
                        stage.out_channels,
                        stage.kernel,
                        stage.stride if repeat == 0 else 1,
                        stage.expand_ratio,
                        drop_connect_rate * index / total,
                        padding=padding,
                    )
                )
                index += 1
            layers.append(nn.Sequential(*blocks))
        layers.append(ConvBNAct(B0_STAGES[-1].out_channels, B0_FEATURES, 1, padding=padding))
        self.features = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)


def keras_efficientnet_init_(module: nn.Module) -> None:
    """Keras' EfficientNet initialisation, in place: conv kernels ``VarianceScaling(2.0, "fan_out",
    "truncated_normal")``, conv biases zero, BatchNorm gamma 1 and beta 0.

    Keras' fan-out of a depthwise kernel is ``k * k`` (one output per input channel).
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            receptive = m.kernel_size[0] * m.kernel_size[1]
            fan_out = receptive if m.groups == m.in_channels and m.groups > 1 else receptive * m.out_channels
            std = math.sqrt(2.0 / fan_out) / 0.87962566103423978
            with torch.no_grad():
                nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
                if m.bias is not None:
                    m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
