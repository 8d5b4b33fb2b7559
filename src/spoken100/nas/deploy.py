"""Deploy picked models to the nRF52840 with TensorFlow Lite Micro: accuracy, bit-exactness, memory, C array.

The paper deployed its EvoNAS models as full-integer (int8) TFLite models on an nRF52840 with
TensorFlow Lite Micro (TFLM) and CMSIS-NN kernels, compiled in as a C array (paper-facts §6). This
module does every step of that path that needs no board, for any Keras model that maps a raw
8,000-sample waveform to class probabilities (:func:`spoken100.nas.build.build_model`):

The steps live in modules with one job each, re-exported here (``from spoken100.nas import deploy``
keeps working): :mod:`~spoken100.nas.picks` (which models), :mod:`~spoken100.nas.deploy_inputs`
(test speakers, calibration clips), :mod:`~spoken100.nas.deployment` (the report, its artefact, the
tables, the findings), :mod:`~spoken100.nas.exactness` (bit-exactness and the first differing
layer), :mod:`~spoken100.nas.carray` (C array, op resolver), :func:`spoken100.nas.export.export_firmware_bundle`
(the firmware bundle), :mod:`~spoken100.nas.deploy_figures` (figures) and
:mod:`~spoken100.nas.deploy_cache` (artefact keys).

* :func:`deployment_report` -- one model, one test set: the float accuracy, the int8 accuracy in
  TensorFlow's own TFLite interpreter with its *reference* kernels, the accuracy of the TFLM
  interpreter on the host, whether TFLM's int8 outputs are bit-identical to the reference ones
  (:func:`compare_outputs`), the host-measured tensor arena, flash and RAM with the firmware's
  overheads against the chip's limits, the latency/energy *estimate* (a band from the MAC count,
  :mod:`spoken100.nas.costs`) and the ops with their TFLM int8 support;
* :func:`deployment_table`, :func:`op_table` -- the reports side by side;
* :func:`memory_figure`, :func:`cost_band_figure` -- flash/RAM bars against the nRF52840's 1 MiB
  flash and 256 KiB RAM, and the latency/energy band, labelled as an estimate;
* :func:`export_c_array` / :func:`read_c_array` -- the ``.tflite`` bytes as ``model_data.cc`` /
  ``model_data.h`` (what ``xxd -i`` writes, plus 16-byte alignment and a length constant), and
  :func:`op_resolver_code` -- the ``MicroMutableOpResolver`` lines the firmware needs;
* :func:`search_picks` / :func:`published_picks` / :func:`picked_models` -- the models to deploy:
  the most accurate, fastest and fittest models of this book's own search (chapter 5, trained on
  the corpus of the build), or the paper's six published EvoNAS models (trained on the real voices).

The bit-exactness check and what is measured or estimated are described in
:mod:`spoken100.nas.exactness` and :mod:`spoken100.nas.deployment`.
"""

from __future__ import annotations

from spoken100.nas.carray import (
    C_ARRAY_ALIGNMENT,
    C_ARRAY_BYTES_PER_LINE,
    c_array_header,
    c_array_source,
    export_c_array,
    op_resolver_code,
    read_c_array,
)
from spoken100.nas.deploy_cache import model_fingerprint
from spoken100.nas.deploy_figures import cost_band_figure, memory_figure
from spoken100.nas.deploy_inputs import calibration_set, deployment_fold, deployment_split, model_inputs, spread_indices
from spoken100.nas.deployment import (
    Deployment,
    cached_deployment_report,
    deploy_picks,
    deployment_report,
    deployment_table,
    findings,
    op_table,
)
from spoken100.nas.exactness import (
    KERAS_TO_TFLITE_OP,
    BitExactness,
    bit_exactness,
    compare_outputs,
    exactness_table,
    first_divergence,
    locate_divergences,
)
from spoken100.nas.export import export_firmware_bundle
from spoken100.nas.picks import (
    ROLES,
    TASK_NAMES,
    Pick,
    confirmed_picks,
    picked_models,
    picks_table,
    published_picks,
    search_picks,
)

__all__ = [
    "C_ARRAY_ALIGNMENT",
    "C_ARRAY_BYTES_PER_LINE",
    "TASK_NAMES",
    "cached_deployment_report",
    "confirmed_picks",
    "deploy_picks",
    "deployment_fold",
    "model_fingerprint",
    "model_inputs",
    "search_picks",
    "KERAS_TO_TFLITE_OP",
    "ROLES",
    "BitExactness",
    "Deployment",
    "Pick",
    "bit_exactness",
    "c_array_header",
    "c_array_source",
    "compare_outputs",
    "cost_band_figure",
    "calibration_set",
    "deployment_report",
    "deployment_split",
    "deployment_table",
    "exactness_table",
    "export_firmware_bundle",
    "findings",
    "export_c_array",
    "first_divergence",
    "locate_divergences",
    "memory_figure",
    "op_resolver_code",
    "op_table",
    "picked_models",
    "picks_table",
    "published_picks",
    "read_c_array",
    "spread_indices",
]
