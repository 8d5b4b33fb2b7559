"""The paper's five baselines as Keras models, built from their published layer lists.

The companion repository (ankilab/SpokeN-100, ``src/baseline_models.py``) defines the baselines in
Keras; its file is not redistributed here, so these twins are written from the layer lists of
:mod:`spoken100.data.paper_facts`' source (the paper-facts notes, section 4.3) and checked against the
published parameter counts (``params_<model>_<classes>``). They exist only to time the paper's own
framework against this companion's PyTorch ports on the same machine (``bench_training.py``); the
book never trains them.
"""

from __future__ import annotations

import numpy as np


def _keras():
    import keras  # deferred: Keras loads TensorFlow (seconds); only the benchmark needs it

    return keras


def rnn(n_classes: int):
    keras = _keras()
    layers = keras.layers
    return keras.Sequential([
        keras.Input((128, 32)),
        layers.Bidirectional(layers.LSTM(128, return_sequences=True)),
        layers.Bidirectional(layers.LSTM(256, return_sequences=True)),
        layers.Bidirectional(layers.LSTM(512)),
        layers.Dropout(0.5), layers.Dense(256, activation="relu"), layers.Dense(128, activation="relu"),
        layers.Dense(n_classes, activation="softmax"),
    ])  # fmt: skip


def cnn_1d(n_classes: int):
    keras = _keras()
    layers = keras.layers
    stack = [keras.Input((8000, 1))]
    for i, filters in enumerate((8, 16, 32, 64)):
        stack.append(layers.Conv1D(filters, 3, activation="relu"))
        if i < 3:
            stack.append(layers.MaxPooling1D(2))
    stack += [layers.Flatten(), layers.Dense(256, activation="relu"), layers.Dense(128, activation="relu"),
              layers.Dense(64, activation="relu"), layers.Dense(n_classes, activation="softmax")]  # fmt: skip
    return keras.Sequential(stack)


def cnn_2d(n_classes: int):
    keras = _keras()
    layers = keras.layers
    return keras.Sequential([
        keras.Input((128, 32, 1)),
        layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.Flatten(),
        layers.Dense(256, activation="relu"), layers.Dense(128, activation="relu"),
        layers.Dense(n_classes, activation="softmax"),
    ])  # fmt: skip


def cnn_effnet(n_classes: int):
    keras = _keras()
    base = keras.applications.EfficientNetB0(weights=None, include_top=False, input_shape=(128, 32, 3))
    x = keras.layers.GlobalAveragePooling2D()(base.output)
    x = keras.layers.Dense(1024, activation="relu")(x)
    return keras.Model(base.input, keras.layers.Dense(n_classes, activation="softmax")(x))


def _positional_encoding(length: int, depth: int) -> np.ndarray:
    positions = np.arange(length)[:, None]
    rates = 1 / np.power(10000, (2 * (np.arange(depth)[None, :] // 2)) / depth)
    angles = positions * rates
    angles[:, 0::2], angles[:, 1::2] = np.sin(angles[:, 0::2]), np.cos(angles[:, 1::2])
    return angles[None].astype("float32")


def transformer(n_classes: int, d_model: int = 128, heads: int = 16, layers_: int = 4, ffn: int = 1024):
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((32, 128))
    x = layers.Dense(d_model)(inputs) * np.sqrt(d_model).astype("float32")
    x = layers.Dropout(0.1)(x + _positional_encoding(32, d_model))
    for _ in range(layers_):
        attention = layers.MultiHeadAttention(heads, d_model // heads)(x, x)
        x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(0.1)(attention))
        hidden = layers.Dense(d_model)(layers.Dense(ffn, activation="relu")(x))
        x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(0.1)(hidden))
    outputs = layers.Dense(n_classes, activation="softmax")(layers.Reshape((32 * d_model,))(x))
    return keras.Model(inputs, outputs)


#: The twin of each baseline and the input shape it takes (batch dimension left out).
TWINS = {
    "rnn": (rnn, (128, 32)),
    "cnn_1d": (cnn_1d, (8000, 1)),
    "cnn_2d": (cnn_2d, (128, 32, 1)),
    "cnn_effnet": (cnn_effnet, (128, 32, 3)),
    "transformer": (transformer, (32, 128)),
}
