"""EvoNAS for the nRF52840: search space, candidate building, int8 conversion and cost model.

The paper (arXiv 2403.09753) searched small keyword-spotting networks with the lab's EvoNAS and
deployed them with TensorFlow Lite Micro on an nRF52840 (paper-facts §5 and §6). This package
holds the machinery to evaluate one candidate without the authors' hardware:

* :mod:`spoken100.nas.genome` -- a genome as plain data (preprocessing, feature blocks, head), its
  bounds (the lab's search space), validation, random sampling, mutation and crossover;
* :mod:`spoken100.nas.build` -- a Keras model from a genome, with the STFT/mel preprocessing
  *inside* the model in ops that TFLite Micro runs in int8;
* :mod:`spoken100.nas.tflite` -- full-integer conversion, inference in TFLite and TFLite Micro, and
  the tensor-arena size measured by the TFLite Micro interpreter;
* :mod:`spoken100.nas.macs` -- MACs per layer and per operation class (front end, dense,
  depthwise), from a Keras model or from the genome alone;
* :mod:`spoken100.nas.calibration` -- cycles per MAC per class fitted on measured anchors (MLPerf
  Tiny's DS-CNN, the paper's 368 ms), with the residual table and the band;
* :mod:`spoken100.nas.costs` -- flash/RAM, the calibrated nRF52840 latency/energy estimate (a band,
  not a measurement), the memory check and the lab's weighted fitness;
* :mod:`spoken100.nas.candidate` -- all of the above for one genome in one call;
* :mod:`spoken100.nas.published` -- the six published EvoNAS models read from their ``.h5`` files
  (no kapre needed) and translated into genomes;
* the search: :mod:`~spoken100.nas.search_config`, :mod:`~spoken100.nas.task_data`,
  :mod:`~spoken100.nas.evaluate`, :mod:`~spoken100.nas.budget`, :mod:`~spoken100.nas.nsga`,
  :mod:`~spoken100.nas.roles` and the generation loop :mod:`~spoken100.nas.search` (which re-exports
  their public names); the chapters' tables in :mod:`~spoken100.nas.report`.

TensorFlow is imported lazily: :mod:`~spoken100.nas.genome` works without it.
"""
