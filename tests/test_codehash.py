"""Cache keys see the code: editing a function recomputes exactly its artefacts, and no others."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from spoken100.data import clipmap, codehash
from spoken100.data.codehash import code_fingerprint

HELPERS = """
SCALE = {scale}

def helper(x):
    return x * SCALE
"""
FEATURES = """
import numpy as np
from spoken100.data.audio import read_mono
from spoken100_testpkg import helpers

def peak(path):
    y, _ = read_mono(path)
    return {{"peak": float(np.abs(y).max()) {peak_extra}}}

def scaled_rms(path):
    y, _ = read_mono(path)
    return {{"rms": helpers.helper(float(np.sqrt(np.mean(y ** 2))))}}

def unrelated():
    return {unrelated}
"""


def _write_package(root, *, scale=1.0, peak_extra="", unrelated=0):
    """A throw-away package ``spoken100_testpkg`` whose module names start with ``spoken100``."""
    pkg = root / "spoken100_testpkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text(textwrap.dedent(HELPERS.format(scale=scale)))
    (pkg / "features.py").write_text(textwrap.dedent(FEATURES.format(peak_extra=peak_extra, unrelated=unrelated)))
    for name in [m for m in sys.modules if m.startswith("spoken100_testpkg")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    codehash.clear_cache()
    return importlib.import_module("spoken100_testpkg.features")


def _corpus(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    rows = []
    for i in range(6):
        path = root / f"{i}.wav"
        sf.write(path, np.sin(np.linspace(0, 20 * (i + 1), 4000)) * 0.1 * (i + 1), 8000, subtype="PCM_16")
        rows.append({"path": path.name, "sha256": f"digest-{i}"})
    return root, pd.DataFrame(rows)


def test_fingerprints_follow_the_source_of_a_function_and_what_it_uses(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(codehash, "PACKAGE", "spoken100_testpkg")
    first = _write_package(tmp_path)
    before = {name: code_fingerprint(getattr(first, name)) for name in ("peak", "scaled_rms", "unrelated")}

    edited_peak = _write_package(tmp_path, peak_extra="+ 0.0")
    after = {name: code_fingerprint(getattr(edited_peak, name)) for name in before}
    assert after["peak"] != before["peak"]
    assert after["scaled_rms"] == before["scaled_rms"] and after["unrelated"] == before["unrelated"]

    edited_constant = _write_package(tmp_path, scale=2.0)  # a constant read by a helper of scaled_rms
    again = {name: code_fingerprint(getattr(edited_constant, name)) for name in before}
    assert again["scaled_rms"] != before["scaled_rms"]
    assert again["peak"] == before["peak"] and again["unrelated"] == before["unrelated"]


def test_map_clips_recomputes_exactly_the_artefacts_of_the_edited_function(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path / "home"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(codehash, "PACKAGE", "spoken100_testpkg")
    root, index = _corpus(tmp_path)
    calls: list[str] = []
    real_run_chunk = clipmap._run_chunk

    def counting_run_chunk(func, *args):
        calls.append(func.__name__)
        return real_run_chunk(func, *args)

    monkeypatch.setattr(clipmap, "_run_chunk", counting_run_chunk)

    def run(module):
        kwargs = {"n_jobs": 1, "progress": False, "chunk_size": 2}
        peak, _ = clipmap.map_clips(module.peak, root, index, name="peak", **kwargs)
        rms, _ = clipmap.map_clips(module.scaled_rms, root, index, name="rms", **kwargs)
        return peak, rms

    peak, rms = run(_write_package(tmp_path))
    assert calls.count("peak") == 3 and calls.count("scaled_rms") == 3  # 6 clips, 3 chunks each
    calls.clear()
    run(_write_package(tmp_path))  # nothing changed: everything is read from the cache
    assert calls == []
    new_peak, new_rms = run(_write_package(tmp_path, peak_extra="+ 1.0"))
    assert calls == ["peak"] * 3  # only the edited function's chunks were recomputed
    np.testing.assert_allclose(new_peak["peak"], peak["peak"] + 1.0)
    pd.testing.assert_frame_equal(new_rms, rms)


def test_the_search_key_includes_the_search_space(tmp_path, monkeypatch):
    """Editing the search space (``nas/genome.py``) moves the search to a new folder: no old snapshots."""
    from spoken100.nas import genome, search

    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path))
    data = {"data_key": "d", "fit": ["a", "b"], "val": ["c"]}
    config = search.SearchConfig(task="language")
    codehash.clear_cache()
    before = search.search_folder(data, config)
    real_source = codehash._source

    def edited(obj):
        text = real_source(obj)
        return text + "\n# a new gene" if obj is genome else text

    monkeypatch.setattr(codehash, "_source", edited)
    codehash.clear_cache()
    assert search.search_folder(data, config) != before
    monkeypatch.setattr(codehash, "_source", real_source)
    codehash.clear_cache()
    assert search.search_folder(data, config) == before


def test_fingerprints_are_the_same_in_every_process():
    """No memory address or hash-seeded set order leaks into a key (joblib workers, later sessions)."""
    import os
    import subprocess

    code = (
        "from spoken100.data.codehash import code_fingerprint\n"
        "from spoken100.data import generate\nfrom spoken100.nas import search\n"
        "print(code_fingerprint(generate._render_task), code_fingerprint(search.search))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout  # fmt: skip
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_stable_repr_drops_addresses_and_sorts_sets():
    class Plain:
        pass

    assert codehash._stable_repr(frozenset({"b", "a"})) == codehash._stable_repr(frozenset({"a", "b"}))
    assert "0x" not in codehash._stable_repr({"f": test_stable_repr_drops_addresses_and_sorts_sets})
    assert "0x" not in codehash._stable_repr(Plain()) and "Plain" in codehash._stable_repr(Plain())


REGISTRY = '''
import functools

_RUNTIME_CACHE = {{}}


class Small:
    def forward(self, x):
        return x * {small}


MODELS = {{"small": Small}}


@functools.cache
def basis(n):
    return n + {basis}


def build(name):
    """Build a model.{doc}"""
    _RUNTIME_CACHE[name] = True  # remember what was built{comment}
    return MODELS[name]().forward(basis(1))
'''


def _write_registry(root, **values):
    settings = {"small": 2, "basis": 0, "doc": "", "comment": "", **values}
    pkg = root / "spoken100_testpkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "registry.py").write_text(textwrap.dedent(REGISTRY.format(**settings)))
    for name in [m for m in sys.modules if m.startswith("spoken100_testpkg")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    codehash.clear_cache()
    return importlib.import_module("spoken100_testpkg.registry")


def test_fingerprints_see_classes_in_registries_and_cached_helpers_but_not_prose_or_state(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(codehash, "PACKAGE", "spoken100_testpkg")
    base = code_fingerprint(_write_registry(tmp_path).build)
    assert code_fingerprint(_write_registry(tmp_path, small=3).build) != base  # a class reached through a dict
    assert code_fingerprint(_write_registry(tmp_path, basis=1).build) != base  # a functools.cache helper
    assert code_fingerprint(_write_registry(tmp_path, doc=" Edited.", comment=" (edited)").build) == base
    module = _write_registry(tmp_path)
    module.build("small")  # fills the run-time cache
    codehash.clear_cache()
    assert code_fingerprint(module.build) == base


def test_keys_do_not_depend_on_where_the_checkout_lives():
    from spoken100.baselines import train

    seen: dict[str, str] = {}
    codehash._walk(train.train_run, seen)
    assert not any("spoken100.data.paths" in label for label in seen)
    assert not any(str(Path(train.__file__).parent) in text for text in seen.values())
