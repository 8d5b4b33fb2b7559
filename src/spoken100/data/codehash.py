"""Fingerprints of the code that computes an artefact, so that cache keys see code changes.

Every cached stage (per-clip features, model inputs, training runs, searches, deployments) keys its
artefacts by its parameters, its inputs and :func:`code_fingerprint` of the function that computes
them. No version constant needs bumping by hand: edit the F0 code and chapter 2 recomputes the F0
values, and nothing else.

**The rule.** The fingerprint of a function is a sha256 over

* its own source (``inspect.getsource``), and
* recursively, everything of the ``spoken100`` package that source refers to: functions and classes
  by their source (again with what *they* refer to), modules by their whole source (an attribute
  such as ``tflite.to_int8`` may reach any part of the module), and module-level constants by
  their ``repr``;
* names imported inside a function body are resolved the same way.

So a function's key changes when its own code, a helper it calls, a dataclass it is given or a
constant it reads changes, and not when an unrelated function in the same module does. Third-party
libraries are outside the rule (their versions are pinned; add :func:`package_versions` to a key where
a library's version decides the result, as the TensorFlow conversions do).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import re
import textwrap
import types
from collections.abc import Iterable
from importlib import metadata
from typing import Any

PACKAGE = "spoken100"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _ours(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) if not isinstance(obj, types.ModuleType) else obj.__name__
    return isinstance(module, str) and (module == PACKAGE or module.startswith(PACKAGE + "."))


def _source(obj: Any) -> str:
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):  # built at run time (no source file): fall back to its name
        return f"<no source: {getattr(obj, '__qualname__', repr(obj))}>"


def _stable_repr(value: Any) -> str:
    """``repr(value)`` that is the same in every process: sets sorted, memory addresses dropped."""
    if isinstance(value, set | frozenset):
        return f"{type(value).__name__}({sorted(map(_stable_repr, value))})"
    if type(value).__repr__ is object.__repr__:  # a plain object: its class, not its address
        return f"<{type(value).__module__}.{type(value).__qualname__} instance>"
    return _ADDRESS.sub("", repr(value))


def _referenced(source: str, namespace: dict[str, Any]) -> list[Any]:
    """Objects that the names in ``source`` denote in ``namespace`` (plus names imported in the source)."""
    tree = ast.parse(source)
    found: list[Any] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in namespace:
            found.append(namespace[node.id])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            module = importlib.import_module(node.module)
            for alias in node.names:
                found.append(
                    getattr(module, alias.name, None) or importlib.import_module(f"{node.module}.{alias.name}")
                )
        elif isinstance(node, ast.Import):
            found += [importlib.import_module(a.name) for a in node.names if a.name.split(".")[0] == PACKAGE]
    return found


def _walk(obj: Any, seen: dict[str, str]) -> None:
    """Add ``obj`` and what it refers to (within the package) to ``seen`` (label -> text)."""
    if isinstance(obj, types.ModuleType):
        label = f"module {obj.__name__}"
        if label in seen:
            return
        seen[label] = _source(obj)
        return
    if isinstance(obj, functools.partial):
        _walk(obj.func, seen)
        seen[f"partial {obj.func.__qualname__}"] = repr((obj.args, sorted(obj.keywords.items())))
        return
    target = inspect.unwrap(obj) if callable(obj) else obj
    if inspect.isfunction(target) or inspect.isclass(target):
        label = f"{target.__module__}.{target.__qualname__}"
        if label in seen:
            return
        source = _source(target)
        seen[label] = source
        namespace = dict(vars(inspect.getmodule(target) or types.ModuleType("_")))
        if inspect.isfunction(target) and target.__closure__:
            namespace.update(
                zip(target.__code__.co_freevars, (c.cell_contents for c in target.__closure__), strict=True)
            )
        for ref in _referenced(source, namespace):
            if ref is target:
                continue
            if isinstance(ref, types.ModuleType) or inspect.isfunction(ref) or inspect.isclass(ref):
                if _ours(ref):
                    _walk(ref, seen)
            elif isinstance(ref, str | int | float | bool | tuple | frozenset | set | dict | list) or _ours(type(ref)):
                seen.setdefault(f"value {label}:{id(ref)}", _stable_repr(ref))


@functools.cache
def _fingerprint_cached(obj: Any) -> str:
    seen: dict[str, str] = {}
    _walk(obj, seen)
    # constants are labelled by id (which changes between runs): key them by their text only
    entries = sorted(
        (label.split(":")[0] if label.startswith("value ") else label, text) for label, text in seen.items()
    )
    digest = hashlib.sha256()
    for name, text in entries:
        digest.update(f"{name}\n{text}\n".encode())
    return digest.hexdigest()[:16]


def code_fingerprint(*objects: Any) -> str:
    """A short sha256 of the code of ``objects`` (functions, classes, modules) and all they use in the package."""
    if len(objects) == 1:
        return _fingerprint_cached(objects[0])
    return hashlib.sha256("".join(_fingerprint_cached(o) for o in objects).encode()).hexdigest()[:16]


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed versions of the named distributions (absent ones left out), from ``importlib.metadata``."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def clear_cache() -> None:
    """Forget computed fingerprints (after a module's source changed in this process, as in the tests)."""
    _fingerprint_cached.cache_clear()


__all__ = ["clear_cache", "code_fingerprint", "package_versions"]
