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
#: Modules that read audio files themselves; only the data layer may.
AUDIO_MODULES = {"soundfile", "audioread", "wave", "scipy.io.wavfile"}
AUDIO_CALLS = {("librosa", "load"), ("sf", "read"), ("soundfile", "read"), ("sf", "info"), ("soundfile", "info")}


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


def spoken100_imports(source: str, module: str) -> list[tuple[int, str]]:
    """``(line, imported module)`` for every import of a ``spoken100`` module in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "spoken100"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against the module's package
                package = module.split(".")[: -node.level] if not module.endswith("__init__") else module.split(".")
                base = ".".join([*package, base] if base else package)
            if base.split(".")[0] != "spoken100":
                continue
            if base == "spoken100":  # from spoken100 import data, open_corpus, ...
                for alias in node.names:
                    sub = PACKAGE / alias.name
                    target = f"spoken100.{alias.name}" if sub.is_dir() or sub.with_suffix(".py").is_file() else base
                    found.append((node.lineno, target))
            else:
                found.append((node.lineno, base))
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
    """Places in ``source`` that read audio files without the data layer."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        bad += [f"{module}:{node.lineno} imports {n}" for n in names if n in AUDIO_MODULES]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in AUDIO_CALLS:
                bad.append(f"{module}:{node.lineno} calls {node.value.id}.{node.attr}")
    return bad


def package_modules() -> list[tuple[str, str]]:
    return [(module_name(p), p.read_text()) for p in sorted(PACKAGE.rglob("*.py"))]


def test_every_module_belongs_to_a_layer():
    unknown = {m for m, _ in package_modules() if layer_of(m) not in ALLOWED}
    assert not unknown, f"modules outside the layers: {sorted(unknown)}"


def test_imports_point_down_and_chapters_stay_apart():
    problems = [v for module, source in package_modules() for v in layer_violations(source, module)]
    assert not problems, "\n".join(problems)


def test_only_the_data_layer_reads_audio():
    problems = [v for m, s in package_modules() if layer_of(m) != "data" for v in audio_reads(s, m)]
    assert not problems, "\n".join(problems)


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


def test_the_checker_catches_audio_reads_outside_the_data_layer():
    source = "import soundfile as sf\nimport librosa\n\ndef f(p):\n    return librosa.load(p), sf.read(p)\n"
    found = audio_reads(source, "spoken100.acoustics.pitch")
    assert any("imports soundfile" in f for f in found)
    assert any("librosa.load" in f for f in found) and any("sf.read" in f for f in found)
    assert audio_reads("import numpy as np\n", "spoken100.acoustics.pitch") == []
