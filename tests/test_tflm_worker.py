"""Issue 13 (12): the TFLite Micro worker is not broken by the user's files in the current folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spoken100.nas import tflite

SHADOW = "raise SystemExit('SHADOWED: the current folder was imported')\n"


@pytest.fixture
def hostile_cwd(tmp_path, monkeypatch):
    """A current folder holding an ``inspect.py`` and a ``numpy.py`` that stop any Python importing them."""
    folder = tmp_path / "work"
    folder.mkdir()
    for name in ("inspect.py", "numpy.py"):
        (folder / name).write_text(SHADOW)
    monkeypatch.chdir(folder)
    return folder


def test_the_worker_command_keeps_the_current_folder_off_the_import_path_but_honours_pythonpath(tmp_path, hostile_cwd):
    probe = tmp_path / "lib"
    probe.mkdir()
    (probe / "probe_worker.py").write_text("import inspect, numpy\nprint(inspect.__file__)\n")
    # an empty entry (here the trailing one when PYTHONPATH was unset) means the current folder
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(probe), os.environ.get("PYTHONPATH", "")])}
    isolated = subprocess.run(tflite.worker_command("probe_worker"), capture_output=True, text=True,
                              env=tflite.worker_environment(env))  # fmt: skip
    assert isolated.returncode == 0, isolated.stderr
    assert Path(isolated.stdout.strip()).parent != hostile_cwd and "SHADOWED" not in isolated.stderr
    plain = subprocess.run([sys.executable, "-m", "probe_worker"], capture_output=True, text=True, env=env)
    assert "SHADOWED" in plain.stderr  # the command the worker was started with before


def test_the_worker_environment_drops_empty_pythonpath_entries():
    env = tflite.worker_environment({"PYTHONPATH": os.pathsep.join(["", "/lib", "", "/other", ""]), "HOME": "/h"})
    assert env["PYTHONPATH"] == os.pathsep.join(["/lib", "/other"]) and env["HOME"] == "/h"
    assert "PYTHONPATH" not in tflite.worker_environment({"PYTHONPATH": os.pathsep})


def test_the_worker_runs_a_model_from_a_hostile_folder(hostile_cwd):
    pytest.importorskip("tflite_micro")
    import tflite_micro

    model = Path(tflite_micro.__file__).parent / "python" / "tflite_micro" / "sine_float.tflite"
    if not model.is_file():
        pytest.skip("tflite_micro ships no sine_float.tflite here")
    outputs, _ = tflite._run_worker(model.read_bytes(), np.zeros((1, 1), np.float32), 16_384, timeout=60)
    assert outputs.shape == (1, 1) and np.isfinite(outputs).all()
