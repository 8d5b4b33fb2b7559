"""The paper's two tasks and the constants every chapter shares: classes, labels, input length.

Language identification (4 classes, the paper's label order) and number recognition (0-99, 100
classes). Every clip is resampled to :data:`N_SAMPLES` samples before any model sees it
(paper-facts §4.1).
"""

from __future__ import annotations

from spoken100.data.layout import LANGUAGES, NUMBERS

#: Classes of each task.
TASK_CLASSES: dict[str, int] = {"language": len(LANGUAGES), "number": len(NUMBERS)}
#: A task's name with its number of classes, for figure titles and table headers.
TASK_TITLES: dict[str, str] = {task: f"{task} ({n} classes)" for task, n in TASK_CLASSES.items()}
#: The task of a model with this many outputs.
TASK_OF_CLASSES: dict[int, str] = {n: task for task, n in TASK_CLASSES.items()}
#: Classes of digit recognition (0-9): the numbers below ten, which spoken-digit corpora such as
#: FSDD hold, and among which a restricted scoring answers.
DIGIT_CLASSES: int = sum(1 for n in NUMBERS if n < 10)
#: Samples of every model input (the paper resamples each clip to this length).
N_SAMPLES = 8000
#: The paper's names of the tasks in its published model files (``languages_*.h5``, ``numbers_*.h5``).
PUBLISHED_TASK: dict[str, str] = {"language": "languages", "number": "numbers"}


def chance(task: str) -> float:
    """Accuracy of guessing (one over the number of classes) for ``task``; ``"digit"`` is the 0-9 scoring."""
    return 1.0 / (DIGIT_CLASSES if task == "digit" else TASK_CLASSES[task])
