"""Chapter 6 on human voices: the deployed int8 models in TensorFlow Lite Micro on the assembled prompts.

The human clips are chapter 4's (:func:`spoken100.data.assemble.prompt_corpus`: one telephone speaker
per language, 8 kHz, each number joined word by word). Each deployed model's int8 bytes run in the
TFLite Micro interpreter, the firmware's interpreter (:func:`spoken100.nas.tflite.run_tflm`), on the
clips prepared as for the board (44.1 kHz, resampled to 8,000 samples, peak-normalised when the
model was trained so), exactly as on the synthetic test speakers. :func:`predict_examples` runs
``spoken100 predict`` (:func:`spoken100.nas.predict.predict_file`) on one human clip per language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spoken100.data.corpus import Corpus
from spoken100.data.inputs import corpus_inputs, targets
from spoken100.data.tasks import TASK_CLASSES, chance
from spoken100.nas import tflite
from spoken100.nas.deploy_inputs import model_inputs
from spoken100.nas.predict import Prediction, predict_file

CHANCE = {task: chance(task) for task in TASK_CLASSES}
HUMAN_TFLM = "TFLite Micro, human voice"
SYNTHETIC_TFLM = "TFLite Micro, synthetic test speakers (all languages)"


def human_tflm_table(deployments: Sequence[Any], human: Corpus, isolated: bool = True) -> pd.DataFrame:
    """One row per deployed model and language: its TFLite Micro accuracy on the human clips, with chance.

    deployments: :class:`~spoken100.nas.deployment.Deployment` objects (``name``, ``task``, ``tflite``,
    ``normalize`` and, when present, ``tflm_accuracy`` on the synthetic test speakers are used).
    """
    X = corpus_inputs(human.root, human.index, "waveform", progress=False)
    languages = human.index.language.to_numpy()
    rows = []
    for d in deployments:
        if d.task not in CHANCE:
            continue
        outputs = tflite.run_tflm(d.tflite, model_inputs(X, d.normalize), isolated=isolated)
        hits = np.asarray(outputs).argmax(axis=1) == targets(human.index, d.task)
        for language in human.languages:
            mine = languages == language
            rows.append({"model": d.name, "task": d.task, "language": language, "clips": int(mine.sum()),
                         HUMAN_TFLM: float(hits[mine].mean()) if mine.any() else float("nan"),
                         SYNTHETIC_TFLM: float(getattr(d, "tflm_accuracy", float("nan"))),
                         "chance": CHANCE[d.task]})  # fmt: skip
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Example:
    """One ``spoken100 predict`` run on a human clip: the clip, its truth, the command and the prediction."""

    language: str
    number: int
    text: str
    clip: Path
    command: str
    prediction: Prediction


def predict_examples(model_path: str | Path, human: Corpus, number: int = 42) -> list[Example]:
    """``spoken100 predict MODEL CLIP`` on the human clip of ``number`` in every language of ``human``."""
    examples = []
    for language in human.languages:
        rows = human.index[(human.index.language == language) & (human.index.number == number)]
        if rows.empty:
            continue
        row = rows.iloc[0]
        clip = human.root / row.path
        examples.append(Example(language, int(row.number), str(row.text), clip,
                                f"spoken100 predict {model_path} {clip}", predict_file(model_path, clip)))  # fmt: skip
    return examples
