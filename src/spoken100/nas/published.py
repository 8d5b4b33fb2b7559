"""The six published EvoNAS models: read without kapre, summarised, and translated into genomes.

The companion repository (ankilab/SpokeN-100, ``models/evonas_{languages,numbers}_{accurate,
fastest,fittest}.h5``) ships six Keras 2.13 models whose first layers are kapre's ``STFT``,
``Magnitude`` and ``ApplyFilterbank`` (paper-facts §5.2). Loading them in Keras would need kapre;
here the architecture is read from the HDF5 ``model_config`` attribute with h5py, and the weights
from the ``model_weights`` group, so neither kapre nor the old Keras is needed.

**Where the files come from.** The repository states no licence, so the files are not bundled. They
are looked up, in order, in ``<data home>/reference/evonas_models/`` (where
:func:`download_published_models` puts them) and in the developers' reference folder
(``$SPOKEN100_SHARED/reference/evonas_models``). Every file is checked against the sha256 in
:data:`PUBLISHED_SHA256` before use.

**Translation to a genome** (:func:`genome_from_config`) and what it approximates:

* kapre ``STFT`` (``n_fft``, ``hop_length``, ``win_length = n_fft``, Hann window, no padding) ->
  the in-model DFT convolution with the same settings: exact up to float rounding.
* kapre ``Magnitude`` (``sqrt(re^2 + im^2)``) -> ``spectrum="magnitude"``, computed with the
  alpha-max-plus-beta-min approximation (error <= 3.96 %) because TFLite Micro has no int8 ``SQRT``
  (:mod:`spoken100.nas.build`).
* kapre ``ApplyFilterbank`` (mel, slaney, ``htk=False``) -> a fixed matrix from
  ``librosa.filters.mel`` with the same arguments. kapre's ``filterbank_mel`` is a port of
  librosa's; the two were not compared here (kapre is not installed).
* The model input is ``(8000,)`` instead of kapre's ``(8000, 1)``.
* Layers are grouped into blocks conv -> [BN] -> [ReLU] -> [pool]. Consecutive ReLUs are merged
  (exact: ReLU is idempotent). Two max-poolings with only a BN between them become one pooling
  of the product size with the BN moved before it: ``MP2 -> BN -> MP2`` == ``BN -> MP4`` exactly
  for windows equal to strides with 'same' padding, *if* every BN scale ``gamma / sqrt(var + eps)``
  is positive (max-pooling commutes only with increasing maps); :func:`load_published_weights`
  reports whether the trained weights satisfy this.
* ``Dropout`` layers become the head's ``input_dropout`` / per-layer ``dropout`` (inactive at
  inference).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pooch

from spoken100.data.index import sha256_file
from spoken100.data.paths import data_home, shared_dir
from spoken100.nas.build import build_model
from spoken100.nas.genome import Block, DenseLayer, Genome, Head, Preprocessing, validate

if TYPE_CHECKING:  # pragma: no cover
    import keras

MODELS_REPOSITORY = "https://github.com/ankilab/SpokeN-100"
#: Commit of ankilab/SpokeN-100 whose ``models/`` folder holds the files.
MODELS_COMMIT = "8f3c58916db5c38a542db3394fbe4b0ece721c30"
#: sha256 of the six published files (as read from the developers' reference copy).
PUBLISHED_SHA256: dict[str, str] = {
    "evonas_languages_accurate.h5": "6936dad167a5e40e7c1d990a4a7433ec3e4e8715140cc1729ad7a5df8a7d29f3",
    "evonas_languages_fastest.h5": "4a8c23dbbf82dbf4f88c22251b0b0ba4d737fedf81cd9cab1f8ffc88d58e0b8f",
    "evonas_languages_fittest.h5": "452617deabb09de917ebf849fe6dafb12619f2534a8d18668f7914d8f6d008f5",
    "evonas_numbers_accurate.h5": "76f29daf71095694e3d2ab3b50e0b806a4abad3c77dcb03c0a52b63ef66b7fce",
    "evonas_numbers_fastest.h5": "5b2b0b0e43da2d2924e0fdc49148eac85dd3d41c5bc8f2d2781f60b1b11e3445",
    "evonas_numbers_fittest.h5": "b2655b1b7b43689971f91cfb3d06ea9a1a53475e1224f5098ef4a6109a6b3939",
}
#: Model keys, ``<task>_<variant>``, in the order of the paper's tables.
PUBLISHED_NAMES = tuple(f"{t}_{v}" for t in ("languages", "numbers") for v in ("accurate", "fastest", "fittest"))


#: The three published architectures as genomes (4 classes), written out from paper-facts §5.2 so
#: that they are available without the ``.h5`` files; :func:`published_genomes` reads the files and
#: the tests check that both agree. Use :func:`published_architecture` for 100 classes.
PUBLISHED_ARCHITECTURES: dict[str, Genome] = {
    "accurate": Genome(
        preprocessing=Preprocessing(n_fft=96, hop_length=144, n_mels=52),
        blocks=(
            Block("conv", 6, 1, 2, relu=True),
            Block("conv", 27, 4, 2, batch_norm=True, relu=False),
            Block("dwconv", None, 2, 1, relu=True),
            Block("dwconv", None, 3, 1, relu=False, pool="max", pool_size=4),
            Block("dwconv", None, 2, 1, relu=False),
            Block("dwconv", None, 5, 2, relu=False),
            Block("conv", 17, 4, 2, relu=True),
            Block("conv", 21, 3, 1, batch_norm=True, relu=False, pool="max", pool_size=4),
        ),
        head=Head("max", 0.0, (DenseLayer(48, 0.1), DenseLayer(48, 0.0))),
        n_classes=4,
    ),
    "fastest": Genome(
        preprocessing=Preprocessing(n_fft=80, hop_length=304, n_mels=52),
        blocks=(
            Block("dwconv", None, 2, 2, relu=False),
            Block("dwconv", None, 5, 2, batch_norm=True, relu=False),
        ),
        head=Head("avg", 0.2, (DenseLayer(48, 0.0), DenseLayer(120, 0.0))),
        n_classes=4,
    ),
    "fittest": Genome(
        preprocessing=Preprocessing(n_fft=112, hop_length=256, n_mels=44),
        blocks=(
            Block("dwconv", None, 5, 2, relu=False),
            Block("conv", 8, 3, 1, relu=False, pool="max", pool_size=3),
            Block("dwconv", None, 3, 2, relu=False),
            Block("conv", 14, 1, 1, relu=False),
            Block("conv", 12, 5, 2, relu=False, pool="max", pool_size=4),
            Block("conv", 7, 2, 1, batch_norm=True, relu=False),
        ),
        head=Head("avg", 0.0, (DenseLayer(40, 0.2),)),
        n_classes=4,
    ),
}


def published_architecture(variant: str, n_classes: int = 4) -> Genome:
    """A published architecture (``"accurate"``, ``"fastest"``, ``"fittest"``) for ``n_classes``, no file needed."""
    return replace(PUBLISHED_ARCHITECTURES[variant], n_classes=n_classes)


def published_url(filename: str) -> str:
    """Raw-download URL of one file at :data:`MODELS_COMMIT`."""
    return f"https://raw.githubusercontent.com/ankilab/SpokeN-100/{MODELS_COMMIT}/models/{filename}"


def _filename(name: str) -> str:
    stem = Path(name).stem
    stem = stem if stem.startswith("evonas_") else f"evonas_{stem}"
    filename = f"{stem}.h5"
    if filename not in PUBLISHED_SHA256:
        raise KeyError(f"unknown published model {name!r}; expected one of {', '.join(PUBLISHED_NAMES)}")
    return filename


def user_models_dir() -> Path:
    """Where downloaded copies live: ``<data home>/reference/evonas_models``."""
    return data_home() / "reference" / "evonas_models"


def _candidates(filename: str) -> list[Path]:
    paths = [user_models_dir() / filename]
    shared = shared_dir()
    if shared is not None:
        paths.append(shared / "reference" / "evonas_models" / filename)
    return paths


def verify_file(path: Path, filename: str | None = None) -> Path:
    """Raise ``ValueError`` unless ``path`` has the published sha256 of ``filename`` (default: its name)."""
    path = Path(path)
    expected = PUBLISHED_SHA256[filename or path.name]
    digest = sha256_file(path)
    if digest != expected:
        raise ValueError(
            f"{path}: sha256 {digest} is not that of the published file ({expected}); "
            f"download it again from {published_url(filename or path.name)}"
        )
    return path


def published_model_path(name: str, download: bool = False) -> Path:
    """The verified local path of a published model (``"languages_fittest"``, a file name, ...).

    download: fetch the file into :func:`user_models_dir` when no copy is found (network needed).
    Raises ``FileNotFoundError`` with download instructions otherwise.
    """
    filename = _filename(name)
    for path in _candidates(filename):
        if path.is_file():
            return verify_file(path, filename)
    if download:
        return download_published_models([filename])[0]
    target = user_models_dir() / filename
    raise FileNotFoundError(
        f"The published EvoNAS model {filename} is not bundled with this package (its repository, "
        f"{MODELS_REPOSITORY}, states no licence). Download it once:\n"
        f"    curl -L --create-dirs -o {target} {published_url(filename)}\n"
        "or call spoken100.nas.published.download_published_models()."
    )


def download_published_models(names: list[str] | None = None) -> list[Path]:
    """Download (and verify) published models into :func:`user_models_dir`; default all six."""

    folder = user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names or PUBLISHED_NAMES:
        filename = _filename(name)
        path = pooch.retrieve(
            published_url(filename), known_hash=f"sha256:{PUBLISHED_SHA256[filename]}", fname=filename, path=folder
        )
        paths.append(Path(path))
    return paths


# ---- reading ------------------------------------------------------------------------------------
def read_model_config(path: str | Path, verify: bool = True) -> dict[str, Any]:
    """The Keras ``model_config`` of an ``.h5`` file as a dict, plus ``keras_version`` and ``backend``."""
    import h5py  # deferred: only reading the published .h5 models needs it

    path = Path(path)
    if verify:
        verify_file(path)
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        config["keras_version"] = str(f.attrs.get("keras_version", ""))
        config["backend"] = str(f.attrs.get("backend", ""))
    return config


def read_weights(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """``{layer name: {variable name: array}}`` from the ``model_weights`` group of an ``.h5`` file."""
    import h5py  # deferred: only reading the published .h5 models needs it

    weights: dict[str, dict[str, np.ndarray]] = {}
    with h5py.File(path, "r") as f:
        group = f["model_weights"]

        def visit(name: str, obj) -> None:
            if isinstance(obj, h5py.Dataset):
                layer = name.split("/")[0]
                var = name.split("/")[-1].split(":")[0]
                weights.setdefault(layer, {})[var] = np.array(obj)

        group.visititems(visit)
    return weights


_KEYS = ("filters", "kernel_size", "strides", "pool_size", "units", "rate", "activation", "n_fft", "hop_length",
         "win_length", "depth_multiplier", "padding")  # fmt: skip


@dataclass(frozen=True)
class PublishedSummary:
    """What one ``.h5`` file holds: layers (class and key settings), parameters, STFT and mel settings."""

    name: str
    task: str
    variant: str
    n_classes: int
    keras_version: str
    input_shape: tuple
    stft: dict[str, Any]
    mel: dict[str, Any]
    layers: tuple[dict[str, Any], ...]
    n_params: int
    n_trainable: int
    n_non_trainable: int

    def layer_string(self) -> str:
        """The layer sequence after the front end, e.g. ``DW5x5s2 -> C8 3x3 -> MP3 -> ...``."""
        parts = []
        for layer in self.layers:
            c = layer["class_name"]
            if c in ("InputLayer", "STFT", "Magnitude", "ApplyFilterbank"):
                continue
            k = "x".join(map(str, layer.get("kernel_size", []) or []))
            s = "s2" if layer.get("strides") in ([2, 2], (2, 2)) and "kernel_size" in layer else ""
            if c == "Conv2D":
                parts.append(f"C{layer['filters']} {k}{s}")
            elif c == "DepthwiseConv2D":
                parts.append(f"DW{k}{s}")
            elif c in ("MaxPooling2D", "AveragePooling2D"):
                parts.append(f"{'MP' if c.startswith('Max') else 'AP'}{layer['pool_size'][0]}")
            elif c == "BatchNormalization":
                parts.append("BN")
            elif c == "Activation":
                parts.append(layer["activation"])
            elif c == "Dense":
                parts.append(f"D{layer['units']} {layer['activation']}")
            elif c == "Dropout":
                parts.append(f"Drop{layer['rate']}")
            elif c == "GlobalAveragePooling2D":
                parts.append("GAP")
            elif c == "GlobalMaxPooling2D":
                parts.append("GMP")
            else:
                parts.append(c)
        return " -> ".join(parts)


def _task_variant(path: Path) -> tuple[str, str]:
    _, task, variant = Path(path).stem.split("_")
    return task, variant


def summarize(path: str | Path) -> PublishedSummary:
    """Summarise one published ``.h5`` file (verified against its sha256)."""
    path = Path(path)
    config = read_model_config(path)
    layers = config["config"]["layers"]
    compact = []
    stft: dict[str, Any] = {}
    mel: dict[str, Any] = {}
    for layer in layers:
        c = layer["config"]
        row = {"class_name": layer["class_name"], "name": c.get("name")}
        row.update({k: c[k] for k in _KEYS if k in c})
        compact.append(row)
        if layer["class_name"] == "STFT":
            stft = {k: c[k] for k in ("n_fft", "win_length", "hop_length", "window_name", "pad_begin", "pad_end")}
        if layer["class_name"] == "ApplyFilterbank":
            mel = dict(c["filterbank_kwargs"], type=c["type"])
    weights = read_weights(path)
    n_non = sum(a.size for vs in weights.values() for k, a in vs.items() if k.startswith("moving_"))
    n_all = sum(a.size for vs in weights.values() for a in vs.values())
    task, variant = _task_variant(path)
    return PublishedSummary(
        name=f"{task}_{variant}",
        task=task,
        variant=variant,
        n_classes=int(layers[-1]["config"]["units"]),
        keras_version=config["keras_version"],
        input_shape=tuple(layers[0]["config"]["batch_input_shape"][1:]),
        stft=stft,
        mel=mel,
        layers=tuple(compact),
        n_params=int(n_all),
        n_trainable=int(n_all - n_non),
        n_non_trainable=int(n_non),
    )


# ---- translation --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PublishedGenome:
    """A published model as a genome, with the notes on every approximation and the layer mapping.

    layer_map, moved_batch_norms: see :class:`Translation`.
    """

    name: str
    task: str
    variant: str
    genome: Genome
    notes: tuple[str, ...]
    layer_map: tuple[tuple[str, str], ...]
    moved_batch_norms: tuple[str, ...]
    summary: PublishedSummary | None = field(default=None, compare=False)


def _square(value: Any, what: str, name: str) -> int:
    a, b = value
    if a != b:
        raise ValueError(f"{name}: non-square {what} {value} cannot be expressed as a block")
    return int(a)


@dataclass(frozen=True)
class Translation:
    """Result of :func:`genome_from_config`.

    layer_map: ``(original layer name, layer name in build_model(genome))`` for every layer with weights.
    moved_batch_norms: original names of batch norms moved before a max-pooling.
    """

    genome: Genome
    notes: tuple[str, ...]
    layer_map: tuple[tuple[str, str], ...]
    moved_batch_norms: tuple[str, ...]


def genome_from_config(config: dict[str, Any]) -> Translation:
    """Translate a published ``model_config`` into a genome, with notes and the layer mapping.

    Raises ``ValueError`` for layers or settings the genome cannot express.
    """
    layers = config["config"]["layers"]
    notes: list[str] = []
    layer_map: list[tuple[str, str]] = []
    pre: dict[str, Any] = {}
    blocks: list[dict[str, Any]] = []
    moved_bns: list[str] = []
    head: dict[str, Any] = {"pooling": None, "input_dropout": 0.0, "dense": []}
    n_classes = None
    last_in_block: str | None = None  # the last layer kind added to the current block
    for layer in layers:
        cls, c = layer["class_name"], layer["config"]
        name = c.get("name", cls)
        if cls == "InputLayer":
            pre["n_samples"] = int(c["batch_input_shape"][1])
            notes.append(f"input {tuple(c['batch_input_shape'][1:])} -> ({pre['n_samples']},)")
        elif cls == "STFT":
            if c["win_length"] != c["n_fft"] or c.get("pad_begin") or c.get("pad_end"):
                raise ValueError(f"{name}: only win_length == n_fft without padding is supported")
            if c.get("window_name") not in (None, "hann_window"):
                raise ValueError(f"{name}: window {c['window_name']!r} is not the Hann window")
            pre.update(n_fft=int(c["n_fft"]), hop_length=int(c["hop_length"]))
            notes.append(f"kapre STFT n_fft={c['n_fft']} hop={c['hop_length']} Hann -> fixed DFT convolution (exact)")
        elif cls == "Magnitude":
            pre["spectrum"] = "magnitude"
            notes.append("kapre Magnitude -> alpha-max-plus-beta-min magnitude (error <= 3.96 %; no int8 SQRT in TFLM)")
        elif cls == "ApplyFilterbank":
            fb = c["filterbank_kwargs"]
            if c["type"] != "mel" or fb.get("htk") or fb.get("norm") != "slaney":
                raise ValueError(f"{name}: only slaney mel filter banks (htk=False) are supported")
            pre.update(n_mels=int(fb["n_mels"]), f_min=float(fb["f_min"]), f_max=float(fb["f_max"]),
                       sample_rate=int(fb["sample_rate"]))  # fmt: skip
            notes.append(
                f"kapre mel filter bank (n_mels={fb['n_mels']}, f_max={fb['f_max']}, slaney) -> librosa.filters.mel "
                "as a fixed 1x1 convolution (assumed identical: kapre ports librosa's)"
            )
        elif cls == "MagnitudeToDecibel":
            pre["compression"] = "log"
            notes.append("kapre MagnitudeToDecibel -> piecewise-linear natural log (a different scale and floor)")
        elif cls in ("Conv2D", "DepthwiseConv2D"):
            if c.get("padding") != "same" or tuple(c.get("dilation_rate", (1, 1))) != (1, 1):
                raise ValueError(f"{name}: only 'same' padding without dilation is supported")
            if cls == "DepthwiseConv2D" and c.get("depth_multiplier", 1) != 1:
                raise ValueError(f"{name}: depth multiplier {c['depth_multiplier']} is not supported")
            if c.get("activation") not in ("linear", "relu"):
                raise ValueError(f"{name}: activation {c['activation']!r} is not supported")
            kind = "conv" if cls == "Conv2D" else "dwconv"
            blocks.append(dict(kind=kind, filters=int(c["filters"]) if kind == "conv" else None,
                               kernel=_square(c["kernel_size"], "kernel", name),
                               stride=_square(c["strides"], "stride", name),
                               batch_norm=False, relu=c["activation"] == "relu", pool="none", pool_size=0))  # fmt: skip
            layer_map.append((name, f"block{len(blocks) - 1}_{kind}"))
            last_in_block = "relu" if c["activation"] == "relu" else "conv"
        elif cls == "BatchNormalization" and head["pooling"] is None:
            if not blocks:
                raise ValueError(f"{name}: batch norm before the first convolution")
            b = blocks[-1]
            if b["batch_norm"]:
                raise ValueError(f"{name}: two batch norms in one block")
            if b["relu"]:
                raise ValueError(f"{name}: batch norm after ReLU cannot be expressed as a block")
            if b["pool"] != "none":
                notes.append(f"{name}: batch norm after {b['pool']}-pooling moved before it (block {len(blocks) - 1})")
                moved_bns.append(name)
            b["batch_norm"] = True
            layer_map.append((name, f"block{len(blocks) - 1}_bn"))
            last_in_block = "bn"
        elif (cls == "Activation" and c["activation"] == "relu") or cls == "ReLU":
            if not blocks or head["pooling"] is not None:
                raise ValueError(f"{name}: ReLU outside the feature blocks")
            b = blocks[-1]
            if b["relu"]:
                if last_in_block != "relu":
                    raise ValueError(f"{name}: a second ReLU after other layers cannot be merged")
                notes.append(f"{name}: consecutive ReLU merged into block {len(blocks) - 1} (exact)")
            elif b["pool"] != "none":
                if b["pool"] != "max":
                    raise ValueError(f"{name}: ReLU after average pooling cannot be moved before it")
                notes.append(f"{name}: ReLU after max-pooling moved before it (exact: ReLU is increasing)")
            b["relu"] = True
            last_in_block = "relu"
        elif cls in ("MaxPooling2D", "AveragePooling2D"):
            kind = "max" if cls == "MaxPooling2D" else "avg"
            size = _square(c["pool_size"], "pool", name)
            if c.get("strides") not in (None, c["pool_size"]) or c.get("padding") != "same":
                raise ValueError(f"{name}: only pooling with stride == pool size and 'same' padding is supported")
            if not blocks:
                raise ValueError(f"{name}: pooling before the first convolution")
            b = blocks[-1]
            if b["pool"] == "none":
                b.update(pool=kind, pool_size=size)
            elif b["pool"] == kind == "max":
                notes.append(f"{name}: merged with the previous max-pooling into size {b['pool_size'] * size} (exact)")
                b["pool_size"] *= size
            else:
                raise ValueError(f"{name}: a second pooling of another kind in one block")
            last_in_block = "pool"
        elif cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            head["pooling"] = "avg" if cls == "GlobalAveragePooling2D" else "max"
        elif cls == "Dropout":
            if head["pooling"] is None:
                raise ValueError(f"{name}: dropout inside the feature blocks")
            if head["dense"]:
                head["dense"][-1]["dropout"] = float(c["rate"])
            else:
                head["input_dropout"] = float(c["rate"])
        elif cls == "Dense":
            if c["activation"] == "softmax":
                n_classes = int(c["units"])
                layer_map.append((name, "head_out"))
            elif c["activation"] == "relu":
                head["dense"].append({"units": int(c["units"]), "dropout": 0.0})
                layer_map.append((name, f"head_dense{len(head['dense']) - 1}"))
            else:
                raise ValueError(f"{name}: dense activation {c['activation']!r} is not supported")
        else:
            raise ValueError(f"{name}: layer class {cls} has no counterpart in the genome")
    if head["pooling"] is None or n_classes is None:
        raise ValueError("the model has no global pooling or no softmax output")
    if "compression" not in pre:
        pre["compression"] = "none"
    genome = Genome(
        preprocessing=Preprocessing(**pre),
        blocks=tuple(Block(**b) for b in blocks),
        head=Head(
            pooling=head["pooling"],
            input_dropout=head["input_dropout"],
            dense=tuple(DenseLayer(**d) for d in head["dense"]),
        ),  # fmt: skip
        n_classes=n_classes,
    )
    validate(genome)
    return Translation(genome, tuple(notes), tuple(layer_map), tuple(moved_bns))


def published_genome(name: str, download: bool = False) -> PublishedGenome:
    """One published model as a :class:`PublishedGenome` (``name`` e.g. ``"numbers_fittest"``)."""
    path = published_model_path(name, download=download)
    config = read_model_config(path, verify=False)  # verified by published_model_path
    t = genome_from_config(config)
    task, variant = _task_variant(path)
    return PublishedGenome(
        name=f"{task}_{variant}",
        task=task,
        variant=variant,
        genome=t.genome,
        notes=t.notes,
        layer_map=t.layer_map,
        moved_batch_norms=t.moved_batch_norms,
        summary=summarize(path),
    )


def published_genomes(download: bool = False) -> dict[str, PublishedGenome]:
    """The six published models as genomes, keyed ``"<task>_<variant>"`` (languages/numbers x
    accurate/fastest/fittest), each with its approximation notes."""
    return {name: published_genome(name, download=download) for name in PUBLISHED_NAMES}


# ---- trained weights ----------------------------------------------------------------------------
def load_published_weights(model: keras.Model, published: PublishedGenome, path: str | Path | None = None) -> list[str]:
    """Copy the trained weights of a published ``.h5`` file into ``build_model(published.genome)``.

    Returns notes, among them whether every moved batch norm has positive scales (then the
    reordering of :func:`genome_from_config` is exact for the trained model).
    """
    path = Path(path) if path is not None else published_model_path(published.name)
    weights = read_weights(path)
    notes = []
    for original, ours in published.layer_map:
        w = weights[original]
        layer = model.get_layer(ours)
        if ours.endswith("_bn"):
            values = [w["gamma"], w["beta"], w["moving_mean"], w["moving_variance"]]
            eps = float(layer.epsilon)
            scale = w["gamma"] / np.sqrt(w["moving_variance"] + eps)
            if original in published.moved_batch_norms:
                negative = int((scale <= 0).sum())
                notes.append(
                    f"{original}: moved before max-pooling; "
                    + (
                        "all scales positive, exact"
                        if negative == 0
                        else f"{negative} non-positive scales, approximate"
                    )
                )
        elif ours.endswith("_dwconv"):
            values = [w["depthwise_kernel"], w["bias"]]
        else:
            values = [w["kernel"], w["bias"]]
        layer.set_weights(values)
    return notes


def published_keras_model(name: str, download: bool = False) -> tuple[keras.Model, PublishedGenome, list[str]]:
    """A published model rebuilt with this package's front end and its trained weights loaded.

    Returns ``(model, published genome, weight notes)``.
    """

    published = published_genome(name, download=download)
    model = build_model(published.genome, name=f"evonas_{published.name}")
    notes = load_published_weights(model, published)
    return model, published, notes


def summary_table(genomes: dict[str, PublishedGenome] | None = None) -> list[dict[str, Any]]:
    """One row per published model: settings, parameters, layer string (for the book's tables)."""
    genomes = genomes if genomes is not None else published_genomes()
    rows = []
    for name, pg in genomes.items():
        s = pg.summary
        p = pg.genome.preprocessing
        rows.append({
            "model": name,
            "n_fft": p.n_fft,
            "hop": p.hop_length,
            "n_mels": p.n_mels,
            "frames": p.n_frames,
            "params": s.n_params if s else None,
            "trainable": s.n_trainable if s else None,
            "layers": s.layer_string() if s else "",
            "genome": pg.genome.describe(),
        })  # fmt: skip
    return rows


__all__ = [
    "MODELS_COMMIT",
    "PUBLISHED_NAMES",
    "PUBLISHED_SHA256",
    "PublishedGenome",
    "PUBLISHED_ARCHITECTURES",
    "PublishedSummary",
    "published_architecture",
    "Translation",
    "download_published_models",
    "genome_from_config",
    "load_published_weights",
    "published_genome",
    "published_genomes",
    "published_keras_model",
    "published_model_path",
    "published_url",
    "read_model_config",
    "read_weights",
    "summarize",
    "summary_table",
    "verify_file",
]
