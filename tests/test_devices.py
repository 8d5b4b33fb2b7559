"""The reproducing page names each chapter's device, as seen on the machine that executed it."""

from __future__ import annotations

import json

import torch

from spoken100.book import devices
from spoken100.book.buildinfo import build_info_markdown


def test_chapter_4_names_cuda_when_torch_sees_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "NVIDIA Test GPU")
    assert devices.chapter_device("04_baselines", {}) == "PyTorch on CUDA GPU (NVIDIA Test GPU)"
    forced = devices.chapter_device("04_baselines", {"device": "cpu"})  # the profile's key wins
    assert forced.startswith("PyTorch on CPU") and "forced" in forced


def test_chapter_4_on_a_machine_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert devices.chapter_device("04_baselines", None).startswith("PyTorch on CPU (")


def test_the_keras_chapters_name_the_tensorflow_build(monkeypatch):
    monkeypatch.setattr(devices, "_installed", lambda name: name == "tensorflow-cpu")
    assert "tensorflow-cpu build" in devices.chapter_device("05_evonas")
    assert devices.chapter_device("02_voices").startswith("CPU (")


def test_the_build_information_has_a_device_column(tmp_path):
    timings = tmp_path / "timings"
    timings.mkdir()
    (timings / "04_baselines.json").write_text(json.dumps({"notebook": "04_baselines", "seconds": 12.0,
                                                           "device": "PyTorch on CUDA GPU (X)"}))  # fmt: skip
    (timings / "01_generation_audit.json").write_text(json.dumps({"notebook": "01_generation_audit", "seconds": 3}))
    profile = tmp_path / "p.yml"
    profile.write_text("description: test\n")
    corpus = {"kind": "standin", "label": "stand-in", "n_clips": 10, "n_expected": 10, "n_speakers": 2,
              "subset": False, "digest": "0" * 64}  # fmt: skip
    text = build_info_markdown(corpus, profile, timings)
    assert "| notebook `04_baselines` (execution) | 12.0 | PyTorch on CUDA GPU (X) |" in text
    assert "| notebook `01_generation_audit` (execution) | 3.0 | not recorded |" in text


def test_a_cluster_build_says_the_work_ran_on_the_workers(monkeypatch):
    monkeypatch.setenv("SPOKEN100_DASK_SCHEDULER", "tcp://10.0.0.5:8786")
    assert "Dask workers of tcp://10.0.0.5:8786" in devices.chapter_device("05_evonas", {"scheduler": None})
    assert devices.chapter_device("01_generation_audit", {}).startswith("CPU (")  # not spread out
