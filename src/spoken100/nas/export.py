"""Chapter 6's export step: which model goes into the firmware, and whether its bundle predicts as the board would.

The notebook used to do both in its own cells; they live here so that they can be tested and
the cells become a call and a display.

* :func:`choose_export` picks the deployment to export: the one named by the chapter's
  ``export_model`` parameter, else the fittest language model, else the first.
* :func:`check_bundle_prediction` classifies a clip's WAV file with the exported ``model.tflite``
  (:func:`spoken100.nas.predict.predict_file`, the ``spoken100 predict`` command) and checks that
  its outputs equal the bundle's expected int8 output (``expected_output.txt``, what a board must
  print), dequantised with the model's output scale and zero point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spoken100.data import atomic
from spoken100.nas import tflite
from spoken100.nas.carray import export_c_array, op_resolver_code
from spoken100.nas.deploy_inputs import model_inputs
from spoken100.nas.predict import Prediction, predict_file

if TYPE_CHECKING:
    from spoken100.nas.deployment import Deployment


def choose_export(deployments: Sequence[Deployment], export_model: str | None = None) -> Deployment:
    """The deployment to export for the firmware.

    export_model: a deployment's ``name``; ``None`` takes the first language model whose name ends
        in ``fittest``, or the first deployment when there is none.

    Raises ``ValueError`` naming the known models when ``export_model`` is not one of them, and
    ``IndexError`` when ``export_model`` is ``None`` and there are no deployments.
    """
    by_name = {d.name: d for d in deployments}
    if export_model is None:
        fittest = [d for d in deployments if d.task == "language" and d.name.endswith("fittest")]
        return (fittest or list(deployments))[0]
    if export_model in by_name:
        return by_name[export_model]
    raise ValueError(f"export_model {export_model!r} is not one of {sorted(by_name)}")


def dequantize(values: np.ndarray, output: Mapping[str, Any]) -> np.ndarray:
    """Int8 output values as the model's floats: ``(values - zero_point) * scale`` (``output``: the I/O details)."""
    return (np.asarray(values, dtype=float) - output["zero_point"]) * output["scale"]


def read_expected(path: str | Path) -> np.ndarray:
    """The int8 values of a bundle's ``expected_output.txt`` (whitespace-separated), as floats."""
    return np.array(Path(path).read_text().split(), dtype=float)


@dataclass(frozen=True)
class BundleCheck:
    """What :func:`check_bundle_prediction` found.

    prediction: ``spoken100 predict``'s result for the clip. truth: the clip's true label for the
    model's task. expected: the bundle's expected output, dequantised. same: whether the
    prediction's outputs equal ``expected`` (``numpy.allclose``). clip_path, task: the clip and
    the model's task, for :attr:`message`.
    """

    prediction: Prediction
    truth: Any
    expected: np.ndarray
    same: bool
    clip_path: Path
    task: str | None

    @property
    def message(self) -> str:
        """One Markdown sentence: what ``spoken100 predict`` prints, the truth, and whether the outputs agree."""
        return (
            f"`spoken100 predict model.tflite {self.clip_path.name}` prints **{self.prediction}**; the clip's "
            f"{self.task} is {self.truth}. Its outputs {'equal' if self.same else 'differ from'} the exported "
            "expected output."
        )


def check_bundle_prediction(
    bundle: Mapping[str, Path], target: Deployment, clip_path: str | Path, truth: Any
) -> BundleCheck:
    """Classify ``clip_path`` with the bundle's model and compare with the bundle's expected output.

    bundle: :func:`spoken100.nas.deploy.export_firmware_bundle`'s paths; needs ``"model"`` and
        ``"expected"`` (written when a clip was exported). target: the exported deployment (its
        ``task`` and ``io["output"]`` scale and zero point). clip_path: the WAV file of the exported
        clip. truth: its true label, for the message.
    """
    clip_path = Path(clip_path)
    result = predict_file(bundle["model"], clip_path)
    expected = dequantize(read_expected(bundle["expected"]), target.io["output"])
    same = bool(np.allclose(expected, result.probabilities))
    return BundleCheck(prediction=result, truth=truth, expected=expected, same=same, clip_path=clip_path,
                       task=target.task)  # fmt: skip


def export_firmware_bundle(
    deployment: Deployment, out_dir: str | Path, clip: np.ndarray | None = None, isolated: bool = True
) -> dict[str, Path]:
    """Everything a firmware build needs for one model, written to ``out_dir``.

    * ``model.tflite`` -- the int8 model (for ``spoken100 predict`` and other tools);
    * ``model_data.cc`` / ``model_data.h`` -- the model as the C array ``g_model`` (:func:`export_c_array`);
    * ``op_resolver.inc`` -- the resolver lines for exactly its ops (:func:`op_resolver_code`);
    * ``model.json`` -- what ``spoken100 predict`` and the firmware must know beyond the bytes: the
      task and whether clips are peak-normalised before quantisation (``peak_normalize``);
    * with ``clip`` (a float waveform of the model's input length): ``clip_data.cc`` / ``clip_data.h``
      -- the clip quantised with the model's input scale and zero point as ``g_clip`` -- and
      ``expected_output.txt`` -- TFLite Micro's int8 output for it on this machine, so that the board
      can check that it computes the same.

    Returns ``{what: path}``.
    """

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {"model": out / "model.tflite"}
    atomic.write_bytes(paths["model"], deployment.tflite)
    paths["model_cc"], paths["model_h"] = export_c_array(deployment.tflite, out)
    paths["resolver"] = out / "op_resolver.inc"
    atomic.write_text(paths["resolver"], op_resolver_code(deployment.ops) + "\n")
    paths["metadata"] = out / "model.json"
    atomic.write_json(paths["metadata"], {"name": deployment.name, "task": deployment.task,
                                          "peak_normalize": bool(deployment.normalize)})  # fmt: skip
    if clip is not None:
        inp = deployment.io["input"]
        x = model_inputs(np.asarray(clip, dtype=np.float32).reshape(1, -1), deployment.normalize)
        q = tflite.quantize_input(x.reshape(-1), inp["scale"], inp["zero_point"])
        paths["clip_cc"], paths["clip_h"] = export_c_array(q.tobytes(), out, name="g_clip", stem="clip_data")
        expected = tflite.run_tflm(deployment.tflite, q[None], dequantize=False, isolated=isolated)[0]
        paths["expected"] = out / "expected_output.txt"
        atomic.write_text(paths["expected"], " ".join(str(int(v)) for v in expected) + "\n")
    return paths
