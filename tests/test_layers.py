"""The package's layers: imports point down, chapters stay apart, and only the data layer reads audio.

Layers, bottom to top: ``data`` -> ``acoustics`` -> the chapters (``audit``, ``voices``,
``embeddings``, ``baselines``, ``nas``) -> ``book`` -> ``cli``. Every ``spoken100`` import in every
module (at the top or inside a function) is checked, by reading the source, not by importing it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "spoken100"
CHAPTERS = ("audit", "voices", "embeddings", "baselines", "nas")
#: What each layer may import (besides itself); a chapter may import only itself among the chapters.
ALLOWED = {
    "data": {"data"},
    "acoustics": {"data", "acoustics"},
    **{chapter: {"data", "acoustics", "style", chapter} for chapter in CHAPTERS},
    "style": {"style"},
    "book": {"data", "acoustics", "style", "book", "top", *CHAPTERS},
    "cli": {"data", "acoustics", "style", "book", "top", *CHAPTERS},
    "top": {"data"},
}
#: The one module that opens sound files (reading and writing).
AUDIO_MODULE = "spoken100.data.audio"
#: Libraries that open sound files, and the calls of other libraries that do.
AUDIO_MODULES = {"soundfile", "audioread", "wave", "scipy.io.wavfile", "pydub", "torchaudio"}
AUDIO_CALLS = {"load", "get_duration", "stream", "read", "info", "SoundFile", "blocks"}
AUDIO_OWNERS = {"librosa", "sf", "soundfile", "core"}


def layer_of(module: str) -> str:
    """``spoken100.data.audio`` -> ``data``; ``spoken100`` -> ``top``; ``spoken100.cli`` -> ``cli``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "top"
    return parts[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").is_file()


def spoken100_imports(source: str, module: str) -> list[tuple[int, str]]:
    """``(line, imported module)`` for every import of a ``spoken100`` module in ``source``.

    Also ``importlib.import_module("spoken100...")`` with a literal name.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("spoken100"):
                found.append((node.lineno, str(node.args[0].value)))
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "spoken100"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against the module's package (a package is its own)
                here = module.split(".") if is_package(module) else module.split(".")[:-1]
                package = here[: len(here) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            if base.split(".")[0] != "spoken100":
                continue
            for alias in node.names:  # from spoken100.voices import plots: the submodule, else the module
                sub = PACKAGE.parent / base.replace(".", "/") / alias.name
                target = f"{base}.{alias.name}" if sub.is_dir() or sub.with_suffix(".py").is_file() else base
                found.append((node.lineno, target))
    return found


def layer_violations(source: str, module: str) -> list[str]:
    """Imports in ``source`` (the text of ``module``) that point up or across the layers."""
    own = layer_of(module)
    bad = []
    for line, target in spoken100_imports(source, module):
        if layer_of(target) not in ALLOWED[own] | {own}:
            bad.append(f"{module}:{line} imports {target} ({own} may import only {sorted(ALLOWED[own])})")
    return bad


def audio_reads(source: str, module: str) -> list[str]:
    """Places in ``source`` that open sound files without :mod:`spoken100.data.audio`."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if node.module.split(".")[0] == "librosa":  # from librosa import load
                bad += [
                    f"{module}:{node.lineno} imports librosa's {a.name}" for a in node.names if a.name in AUDIO_CALLS
                ]
        bad += [f"{module}:{node.lineno} imports {n}" for n in names if n in AUDIO_MODULES]
        if isinstance(node, ast.Attribute) and node.attr in AUDIO_CALLS:
            owner = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
            if owner in AUDIO_OWNERS:
                bad.append(f"{module}:{node.lineno} calls {owner}.{node.attr}")
    return bad


def package_modules() -> list[tuple[str, str]]:
    return [(module_name(p), p.read_text()) for p in sorted(PACKAGE.rglob("*.py"))]


def test_every_module_belongs_to_a_layer():
    unknown = {m for m, _ in package_modules() if layer_of(m) not in ALLOWED}
    assert not unknown, f"modules outside the layers: {sorted(unknown)}"


def test_imports_point_down_and_chapters_stay_apart():
    problems = [v for module, source in package_modules() for v in layer_violations(source, module)]
    assert not problems, "\n".join(problems)


def test_only_the_audio_module_opens_sound_files():
    problems = [v for m, s in package_modules() if m != AUDIO_MODULE for v in audio_reads(s, m)]
    assert not problems, "\n".join(problems)


#: Modules that must load neither torch nor TensorFlow: the package and its data layer (every CLI
#: call and worker process), `predict` (TFLite Micro only), the summaries, and the per-clip input
#: functions of chapter 4 that run in worker processes.
LIGHT_MODULES = ("spoken100", "spoken100.data.corpus", "spoken100.data.inputs", "spoken100.nas.predict",
                 "spoken100.book.summary", "spoken100.baselines.fsdd", "spoken100.baselines.augment",
                 "spoken100.baselines.robustness", "spoken100.cli")  # fmt: skip
HEAVY = ("torch", "tensorflow", "keras")


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_light_modules_do_not_load_torch_or_tensorflow(module):
    import subprocess
    import sys

    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"importing {module} loads {loaded}"


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("spoken100.nas.search", "from spoken100.baselines.inputs import load_clip\n", "imports spoken100.baselines"),
        ("spoken100.nas.deploy", "def f():\n    from spoken100.book import buildinfo\n", "imports spoken100.book"),
        ("spoken100.voices.stats", "from spoken100 import audit\n", "imports spoken100.audit"),
        ("spoken100.data.index", "from spoken100.acoustics.pitch import pyin_f0\n", "imports spoken100.acoustics"),
    ],
)
def test_the_checker_catches_upward_and_sideways_imports(module, source, expected):
    (violation,) = layer_violations(source, module)
    assert expected in violation


def test_the_checker_catches_audio_reads_outside_the_audio_module():
    source = "import soundfile as sf\nimport librosa\n\ndef f(p):\n    return librosa.load(p), sf.read(p)\n"
    found = audio_reads(source, "spoken100.acoustics.pitch")
    assert any("imports soundfile" in f for f in found)
    assert any("librosa.load" in f for f in found) and any("sf.read" in f for f in found)
    others = ("from librosa import load\n", "x = librosa.core.load(p)\n", "f = sf.SoundFile(p)\n",
              "d = librosa.get_duration(path=p)\n")  # fmt: skip
    assert all(len(audio_reads(s, "spoken100.data.index")) == 1 for s in others)
    assert audio_reads("import numpy as np\ny = librosa.resample(x, orig_sr=1, target_sr=2)\n", "m") == []


def test_relative_imports_resolve_against_the_package():
    assert spoken100_imports("from . import plots\n", "spoken100.voices") == [(1, "spoken100.voices.plots")]
    assert spoken100_imports("from .stats import f\n", "spoken100.voices.plots") == [(1, "spoken100.voices.stats")]
    assert spoken100_imports("from ..data import audio\n", "spoken100.voices.plots") == [(1, "spoken100.data.audio")]
    found = spoken100_imports("import importlib\nimportlib.import_module('spoken100.book.runner')\n", "spoken100.nas.x")
    assert found == [(2, "spoken100.book.runner")]
