"""The paper's five baselines (paper-facts §4): models, inputs, cross-validation splits and cost metrics.

Modules: :mod:`~spoken100.baselines.models` (networks and the registry of published facts),
:mod:`~spoken100.baselines.efficientnet` (the EfficientNet-B0 feature extractor),
:mod:`~spoken100.data.inputs` (the shared preprocessing), :mod:`~spoken100.data.splits`
(speaker folds) and :mod:`~spoken100.baselines.metrics` (parameters, MACs, CPU latency).
"""
