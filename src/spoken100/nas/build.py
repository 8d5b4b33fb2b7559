"""Build a Keras model from a genome, with the spectrogram computed inside the model in int8-safe ops.

The published EvoNAS models compute their features with kapre layers (``STFT`` -> ``Magnitude`` ->
``ApplyFilterbank``; paper-facts §5.2). kapre's STFT uses ops that TFLite Micro lacks, which is why
the authors patched it for conversion (paper-facts §6). Here the same front end is written with
standard layers whose int8 kernels TFLite Micro has, so the *whole* candidate -- waveform in,
probabilities out -- converts to one full-integer ``.tflite`` and runs in TFLite Micro:

1. **Framing + DFT** -- two ``Conv2D`` layers over the waveform seen as a ``(1, n_samples, 1)``
   image, kernel ``(1, n_fft)``, stride ``(1, hop_length)``, no padding. Their fixed, non-trainable
   kernels are ``w[n] cos(2 pi k n / n_fft)`` and ``-w[n] sin(2 pi k n / n_fft)`` for the
   ``n_fft // 2 + 1`` bins ``k``, with ``w`` the periodic Hann window (kapre's and librosa's
   default). Output: real and imaginary parts, ``(1, frames, bins)`` each (op ``CONV_2D``).
   (The transposed layout -- an ``(n_samples, 1, 1)`` image with an ``(n_fft, 1)`` kernel --
   corrupts the heap in TensorFlow 2.21's oneDNN CPU convolution, which aborts the process
   during eager calls; this layout does not.)
2. **Spectrum** --

   * ``"power"``: ``re * re + im * im`` (``MUL``, ``ADD``); exact.
   * ``"magnitude"``: TFLite Micro has no int8 ``SQRT`` (it only takes float32), and
     ``x * rsqrt(x)`` breaks in int8 (``RSQRT`` of near-zero power overflows the output scale).
     So the magnitude is the *alpha-max-plus-beta-min* approximation
     ``0.9604 max(|re|, |im|) + 0.3978 min(|re|, |im|)`` (ops ``ABS``, ``MAXIMUM``, ``MINIMUM``,
     ``MUL``, ``ADD``), whose error is at most 3.96 % of ``|X|``. It stays in the linear range of
     ``re``/``im``, so it also loses less to int8 than the power (which squares the range).
3. **Mel filter bank** -- a 1x1 ``Conv2D`` with the fixed ``(bins, n_mels)`` matrix of
   ``librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm="slaney")`` (kapre's
   ``filterbank_mel`` with the published models' settings). Output reshaped to the
   ``(frames, n_mels, 1)`` time x mel image the published models feed their first conv.
4. **Log** (``compression="log"``) -- TFLite Micro's ``LOG`` is float32-only, so the natural log
   is approximated by a fixed piecewise-linear function with knots ``c_j`` spaced geometrically
   over 60 dB below a full-scale bound: ``f(x) = b + sum_j w_j min(x, c_j)`` with
   ``w_j = kappa (1/c_j - 1/c_{j+1})``, which equals ``ln x`` at every knot, is linear in between
   and linear below ``c_0``. In the graph, ``min(x, c_j)`` is a 1x1 conv with kernel ``6 / c_j``
   and a fused ``ReLU6`` (so each knot gets its own int8 output range), and the weighted sum a 1x1
   conv (``CONV_2D`` only).

The feature blocks and head follow the genome (:mod:`spoken100.nas.genome`); the output is
``Dense(n_classes, softmax)``. ``BatchNormalization`` is folded into the convolution by the converter.

Examples
--------
>>> from spoken100.nas.genome import Genome
>>> model = build_model(Genome())                      # doctest: +SKIP
>>> model.input_shape, model.output_shape              # doctest: +SKIP
((None, 8000), (None, 4))
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import librosa
import numpy as np

from spoken100.nas.genome import Genome, Preprocessing, validate

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: Alpha-max-plus-beta-min coefficients with the smallest largest error (3.96 %) for |re + i im|.
MAG_ALPHA = 0.96043387
MAG_BETA = 0.39782473
#: Knots of the piecewise-linear log and the power range they cover below the full-scale bound.
LOG_KNOTS = 12
LOG_RANGE_DB = 60.0
#: Prefix of every fixed (non-trainable) front-end layer; :mod:`spoken100.nas.costs` uses it.
FRONTEND = "frontend_"


def _keras():

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # deferred: Keras loads TensorFlow; only model building needs it

    return keras


@dataclass(frozen=True)
class FrontendMatrices:
    """The fixed weights of the front end for one :class:`Preprocessing`.

    dft_real, dft_imag: ``(n_fft, n_freqs)`` windowed DFT kernels.
    mel: ``(n_freqs, n_mels)`` filter bank.
    log_knots, log_weights, log_bias: the piecewise-linear log (see the module docstring).
    full_scale: an upper bound of any mel output for a waveform in [-1, 1] (the top log knot).
    """

    dft_real: np.ndarray
    dft_imag: np.ndarray
    mel: np.ndarray
    log_knots: np.ndarray
    log_weights: np.ndarray
    log_bias: float
    full_scale: float


def hann_periodic(n: int) -> np.ndarray:
    """The periodic Hann window (``scipy.signal.get_window('hann', n)``, kapre's and librosa's default)."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def mel_filterbank(pre: Preprocessing) -> np.ndarray:
    """``(n_freqs, n_mels)`` slaney mel filter bank, exactly librosa's (and kapre's) for these settings.

    With ``f_max`` above Nyquist (the published models use 8 kHz at an 8 kHz rate) the top bands
    are empty; librosa's warning about it is silenced here.
    """

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fb = librosa.filters.mel(
            sr=pre.sample_rate,
            n_fft=pre.n_fft,
            n_mels=pre.n_mels,
            fmin=pre.f_min,
            fmax=pre.f_max,
            htk=False,
            norm="slaney",
        )
    return fb.T.astype(np.float32)


def log_approximation(full_scale: float, power: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Knots, weights and bias of the piecewise-linear natural log (see the module docstring).

    The knots span :data:`LOG_RANGE_DB` of *power* below ``full_scale`` (i.e. a factor 1e6 for a
    power spectrum, 1e3 for a magnitude spectrum), in :data:`LOG_KNOTS` geometric steps.
    """
    decades = LOG_RANGE_DB / (10.0 if power else 20.0)
    knots = full_scale * np.logspace(-decades, 0.0, LOG_KNOTS)
    ratio = knots[1] / knots[0]
    kappa = np.log(ratio) / (1.0 - 1.0 / ratio)
    inv = 1.0 / knots
    weights = kappa * (inv - np.append(inv[1:], 0.0))
    bias = float(np.log(knots[0]) - kappa)
    return knots, weights, bias


def piecewise_log(x: np.ndarray, knots: np.ndarray, weights: np.ndarray, bias: float) -> np.ndarray:
    """NumPy reference of the in-model log: ``bias + sum_j weights[j] * min(x, knots[j])``."""
    x = np.asarray(x, dtype=np.float64)
    return bias + np.minimum(x[..., None], knots).dot(weights)


def frontend_matrices(pre: Preprocessing) -> FrontendMatrices:
    """All fixed front-end weights for ``pre`` (float32 DFT and mel, float64 log constants)."""
    n = np.arange(pre.n_fft)[:, None]
    k = np.arange(pre.n_freqs)[None, :]
    window = hann_periodic(pre.n_fft)[:, None]
    angle = 2 * np.pi * n * k / pre.n_fft
    dft_real = (window * np.cos(angle)).astype(np.float32)
    dft_imag = (-window * np.sin(angle)).astype(np.float32)
    mel = mel_filterbank(pre)
    power = pre.spectrum == "power"
    # |X_k| <= sum(window) * max|x| = n_fft / 2 for x in [-1, 1]; 1.05 covers the magnitude approximation.
    peak = 1.05 * pre.n_fft / 2
    full_scale = float(mel.sum(axis=0).max() * (peak**2 if power else peak))
    knots, weights, bias = log_approximation(full_scale, power)
    return FrontendMatrices(dft_real, dft_imag, mel, knots, weights, bias, full_scale)


def reference_features(pre: Preprocessing, waveforms: np.ndarray, exact: bool = True) -> np.ndarray:
    """NumPy/librosa reference of the front end: ``(batch, frames, n_mels)`` float64.

    exact: use the true magnitude ``|X|`` and ``ln`` (what the model approximates); with ``False``
    the same approximations as the model (alpha-max-beta-min, piecewise-linear log).
    """

    x = np.atleast_2d(np.asarray(waveforms, dtype=np.float64))
    spec = librosa.stft(x, n_fft=pre.n_fft, hop_length=pre.hop_length, window="hann", center=False)
    if pre.spectrum == "power":
        s = np.abs(spec) ** 2
    elif exact:
        s = np.abs(spec)
    else:
        a, b = np.abs(spec.real), np.abs(spec.imag)
        s = MAG_ALPHA * np.maximum(a, b) + MAG_BETA * np.minimum(a, b)
    m = frontend_matrices(pre)
    mel = np.einsum("bft,fm->btm", s, m.mel.astype(np.float64))
    if pre.compression == "log":
        if exact:
            return np.log(np.maximum(mel, m.log_knots[0]))
        return piecewise_log(mel, m.log_knots, m.log_weights, m.log_bias)
    return mel


def _fixed_conv(keras, filters: int, kernel, strides, name: str, activation=None):
    return keras.layers.Conv2D(
        filters, kernel, strides=strides, padding="valid", use_bias=False, trainable=False,
        activation=activation, name=name,
    )  # fmt: skip


def build_frontend(pre: Preprocessing, inputs):
    """Apply the front end to a Keras tensor of waveforms ``(batch, n_samples)``.

    Returns ``(tensor, assign)``: the ``(batch, frames, n_mels, 1)`` features and a function that
    writes the fixed weights once the layers are built (call it after creating the model).
    """
    keras = _keras()
    L = keras.layers
    m = frontend_matrices(pre)
    T, F, M = pre.n_frames, pre.n_freqs, pre.n_mels
    x = L.Reshape((1, pre.n_samples, 1), name=FRONTEND + "reshape_in")(inputs)
    dft_re = _fixed_conv(keras, F, (1, pre.n_fft), (1, pre.hop_length), FRONTEND + "dft_real")
    dft_im = _fixed_conv(keras, F, (1, pre.n_fft), (1, pre.hop_length), FRONTEND + "dft_imag")
    re, im = dft_re(x), dft_im(x)
    if pre.spectrum == "power":
        s = L.Add(name=FRONTEND + "power")(
            [L.Multiply(name=FRONTEND + "re2")([re, re]), L.Multiply(name=FRONTEND + "im2")([im, im])]
        )
    else:
        are = L.Lambda(_abs, name=FRONTEND + "abs_real")(re)
        aim = L.Lambda(_abs, name=FRONTEND + "abs_imag")(im)
        big = L.Maximum(name=FRONTEND + "max")([are, aim])
        small = L.Minimum(name=FRONTEND + "min")([are, aim])
        s = L.Add(name=FRONTEND + "magnitude")(
            [L.Rescaling(MAG_ALPHA, name=FRONTEND + "alpha")(big), L.Rescaling(MAG_BETA, name=FRONTEND + "beta")(small)]
        )
    mel_conv = _fixed_conv(keras, M, 1, 1, FRONTEND + "mel")
    x = L.Reshape((T, M, 1), name=FRONTEND + "image")(mel_conv(s))
    convs = [(dft_re, m.dft_real[None, :, None, :]), (dft_im, m.dft_imag[None, :, None, :]),
             (mel_conv, m.mel[None, None])]  # fmt: skip
    if pre.compression == "log":
        knots_conv = _fixed_conv(keras, len(m.log_knots), 1, 1, FRONTEND + "log_knots", activation="relu6")
        sum_conv = L.Conv2D(1, 1, use_bias=True, trainable=False, name=FRONTEND + "log_sum")
        x = sum_conv(knots_conv(x))
        convs.append((knots_conv, (6.0 / m.log_knots)[None, None, None, :].astype(np.float32)))
        sum_weights = [(m.log_knots * m.log_weights / 6.0)[None, None, :, None].astype(np.float32),
                       np.array([m.log_bias], np.float32)]  # fmt: skip
    else:
        sum_conv, sum_weights = None, None

    def assign() -> None:
        for layer, kernel in convs:
            layer.set_weights([kernel.astype(np.float32)])
        if sum_conv is not None:
            sum_conv.set_weights(sum_weights)

    return x, assign


def _abs(t):
    import keras  # deferred: Keras loads TensorFlow; only model building needs it

    return keras.ops.absolute(t)


def frontend_model(pre: Preprocessing) -> keras.Model:
    """The front end alone: waveforms ``(batch, n_samples)`` -> features ``(batch, frames, n_mels, 1)``."""
    keras = _keras()
    inputs = keras.Input((pre.n_samples,), name="waveform")
    features, assign = build_frontend(pre, inputs)
    model = keras.Model(inputs, features, name="frontend")
    assign()
    return model


def cpu_kernel_hazard(genome: Genome) -> str | None:
    """Why training ``genome`` would crash TensorFlow's CPU kernels, or ``None``.

    TensorFlow 2.21's oneDNN depthwise convolution with a 1 x 1 kernel and stride 2 on a
    single-channel input corrupts the heap while training (a segfault, ``free(): invalid size`` or
    ``Check failed: IsAligned()``, killing the process; reproduced on a 46 x 76 input, not with 2
    channels, kernel 2 or stride 3, nor with oneDNN switched off). The search drew such a genome,
    which killed every worker it ran on. Refusing it before training turns three dead processes
    into one clear reason; the candidate is infeasible either way. Block inputs have one channel
    until the first ``conv`` block sets ``filters``.
    """

    channels = 1
    for i, block in enumerate(genome.blocks):
        if block.kind == "dwconv" and block.kernel == 1 and block.stride == 2 and channels == 1:
            return (f"block {i}: a 1x1 depthwise convolution with stride 2 on a one-channel input crashes "
                    "TensorFlow's oneDNN CPU kernel while training (heap corruption); not trained")  # fmt: skip
        if block.kind == "conv":
            channels = block.filters
    return None


def build_model(genome: Genome, seed: int | None = 0, name: str | None = None) -> keras.Model:
    """The Keras model of ``genome``: waveform ``(batch, n_samples)`` in [-1, 1] -> class probabilities.

    genome: a valid genome (validated structurally here; bounds are the search's business).
    seed: seeds every trainable initialiser (Glorot-uniform kernels, zero biases, as Keras' defaults
        and the published models) and every dropout mask, so the same genome and seed give the same
        weights in any process; ``None`` for unseeded draws.
    name: model name; default ``"nas_<genome_id>"``.

    The front end's layers are named ``frontend_*`` and are not trainable; block layers
    ``block<i>_*``; head layers ``head_*``.
    """
    validate(genome, space=None)
    keras = _keras()
    L = keras.layers
    counter = iter(range(10**6))

    dropouts = iter(range(500, 1000))

    def init():
        return keras.initializers.GlorotUniform(seed=None if seed is None else seed * 1000 + next(counter))

    def dropout(rate: float, name: str):
        # Seeded, or Keras draws the seed from Python's global `random`, which other threads of the
        # process (a Dask worker's event loop) also draw from: the masks would differ run to run.
        return L.Dropout(rate, seed=None if seed is None else seed * 1000 + next(dropouts), name=name)

    pre = genome.preprocessing
    inputs = keras.Input((pre.n_samples,), name="waveform")
    x, assign = build_frontend(pre, inputs)
    for i, b in enumerate(genome.blocks):
        p = f"block{i}_"
        if b.kind == "conv":
            x = L.Conv2D(b.filters, b.kernel, strides=b.stride, padding="same", kernel_initializer=init(),
                         name=p + "conv")(x)  # fmt: skip
        else:
            x = L.DepthwiseConv2D(b.kernel, strides=b.stride, padding="same", depthwise_initializer=init(),
                                  name=p + "dwconv")(x)  # fmt: skip
        if b.batch_norm:
            x = L.BatchNormalization(name=p + "bn")(x)
        if b.relu:
            x = L.ReLU(name=p + "relu")(x)
        if b.pool == "max":
            x = L.MaxPooling2D(b.pool_size, padding="same", name=p + "maxpool")(x)
        elif b.pool == "avg":
            x = L.AveragePooling2D(b.pool_size, padding="same", name=p + "avgpool")(x)
    h = genome.head
    pool = L.GlobalAveragePooling2D if h.pooling == "avg" else L.GlobalMaxPooling2D
    x = pool(name="head_pool")(x)
    if h.input_dropout > 0:
        x = dropout(h.input_dropout, "head_dropout_in")(x)
    for j, d in enumerate(h.dense):
        x = L.Dense(d.units, activation="relu", kernel_initializer=init(), name=f"head_dense{j}")(x)
        if d.dropout > 0:
            x = dropout(d.dropout, f"head_dropout{j}")(x)
    outputs = L.Dense(genome.n_classes, activation="softmax", kernel_initializer=init(), name="head_out")(x)
    model = keras.Model(inputs, outputs, name=name or f"nas_{genome.genome_id()}")
    assign()
    return model
