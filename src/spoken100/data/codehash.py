"""Fingerprints of the code that computes an artefact, so that cache keys see code changes.

Every cached stage (per-clip features, model inputs, training runs, searches, deployments) keys its
artefacts by its parameters, its inputs and :func:`code_fingerprint` of the function that computes
them. No version constant needs bumping by hand: edit the F0 code and chapter 2 recomputes the F0
values, and nothing else.

**The rule.** The fingerprint of a function is a sha256 over

* its own code (``inspect.getsource``, parsed: comments, docstrings and layout do not count, so
  editing prose never recomputes anything), and
* recursively, everything of the ``spoken100`` package that code refers to: functions and classes
  by their code (again with what *they* refer to; ``functools.cache`` wrappers are unwrapped),
  modules by their whole code (an attribute such as ``tflite.to_int8`` may reach any part of the
  module), and module-level constants by their ``repr`` (sets sorted, memory addresses dropped) and
  by the functions and classes they hold (a registry such as ``BASELINES`` maps names to model
  classes, whose code then counts);
* names imported inside a function body are resolved the same way.

Left out: private mutable module state (an ``_UNDERSCORE`` dict, list or set is a run-time cache,
not configuration), dunder names (``__file__`` would tie keys to the checkout's path), and the cache
plumbing itself (:data:`NEUTRAL_MODULES`: where and how artefacts are stored, never what they hold).

So a function's key changes when its own code, a helper it calls, a dataclass it is given or a
constant it reads changes, and not when an unrelated function in the same module does, nor when the
checkout moves. Third-party libraries are outside the rule (their versions are pinned; add
:func:`package_versions` to a key where a library's version decides the result, as the TensorFlow
conversions do).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib
import importlib.util
import inspect
import re
import textwrap
import types
from collections.abc import Iterable
from importlib import metadata
from typing import Any

PACKAGE = "spoken100"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


#: Cache plumbing: where and how artefacts are stored, never what they hold. Left out of every
#: fingerprint, so that moving the checkout or editing the storage code keeps the caches.
NEUTRAL_MODULES = frozenset({"spoken100.data.paths", "spoken100.data.atomic", "spoken100.data.codehash"})
#: How deep constants are searched for the functions and classes they hold (a dict of dataclasses of classes).
_MAX_DEPTH = 4


def _module_name(obj: Any) -> str | None:
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    module = getattr(obj, "__module__", None)
    return module if isinstance(module, str) else None


def _ours(obj: Any) -> bool:
    """Whether ``obj`` (a module, function, class) belongs to the package and is not cache plumbing."""
    module = _module_name(obj)
    if module is None or module in NEUTRAL_MODULES:
        return False
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _normalized(source: str) -> str:
    """The code of ``source`` without comments, docstrings and layout (an edit of prose changes no key)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def _source(obj: Any) -> str:
    try:
        return _normalized(inspect.getsource(obj))
    except (OSError, TypeError):  # built at run time (no source file): fall back to its name
        return f"<no source: {getattr(obj, '__qualname__', repr(obj))}>"


def _stable_repr(value: Any) -> str:
    """``repr(value)`` that is the same in every process: sets sorted, memory addresses dropped."""
    if isinstance(value, set | frozenset):
        return f"{type(value).__name__}({sorted(map(_stable_repr, value))})"
    if type(value).__repr__ is object.__repr__:  # a plain object: its class, not its address
        return f"<{type(value).__module__}.{type(value).__qualname__} instance>"
    return _ADDRESS.sub("", repr(value))


_MISSING = object()


def _import_target(module_name: str, name: str) -> Any:
    module = importlib.import_module(module_name)
    found = getattr(module, name, _MISSING)
    return importlib.import_module(f"{module_name}.{name}") if found is _MISSING else found


def _referenced(source: str, namespace: dict[str, Any], package: str) -> list[tuple[str, Any]]:
    """``(name, object)`` for the names in ``source`` that ``namespace`` defines, plus what the source imports.

    package: the package of the module the source comes from (for relative imports in function bodies).
    """
    found: list[tuple[str, Any]] = []
    for node in ast.walk(ast.parse(textwrap.dedent(source))):
        if isinstance(node, ast.Name) and node.id in namespace and not node.id.startswith("__"):
            found.append((node.id, namespace[node.id]))
        elif isinstance(node, ast.ImportFrom):
            base = (
                importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                if node.level
                else node.module
            )
            if base and base.split(".")[0] == PACKAGE:
                found += [(a.asname or a.name, _import_target(base, a.name)) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, importlib.import_module(a.name)) for a in node.names if a.name.split(".")[0] == PACKAGE]
    return found


def _walk_value(name: str, value: Any, owner: str, seen: dict[str, str], depth: int = 0) -> None:
    """A constant: its text, and the package's functions and classes it holds (e.g. a registry of models)."""
    value = inspect.unwrap(value) if callable(value) and hasattr(value, "__wrapped__") else value
    if isinstance(value, types.ModuleType) or inspect.isfunction(value) or inspect.isclass(value):
        if _ours(value):
            _walk(value, seen)
        return
    if isinstance(value, functools.partial):
        _walk_value(name, value.func, owner, seen, depth + 1)
    if depth == 0:
        if name.startswith("_") and isinstance(value, dict | list | set):
            return  # private mutable module state (a run-time cache), not configuration
        if not (
            isinstance(value, str | int | float | bool | tuple | frozenset | set | dict | list) or _ours(type(value))
        ):
            return
        seen.setdefault(f"value {owner}:{name}", _stable_repr(value))
    if depth >= _MAX_DEPTH:
        return
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, f.name) for f in dataclasses.fields(value)]
    else:
        return
    for item in items:
        _walk_value(name, item, owner, seen, depth + 1)


def _walk(obj: Any, seen: dict[str, str]) -> None:
    """Add ``obj`` and what it refers to (within the package) to ``seen`` (label -> text)."""
    if isinstance(obj, types.ModuleType):
        label = f"module {obj.__name__}"
        if label not in seen and _ours(obj):
            seen[label] = _source(obj)
        return
    target = inspect.unwrap(obj) if callable(obj) else obj
    if not (inspect.isfunction(target) or inspect.isclass(target)) or not _ours(target):
        return
    label = f"{target.__module__}.{target.__qualname__}"
    if label in seen:
        return
    source = _source(target)
    seen[label] = source
    module = inspect.getmodule(target)
    namespace = dict(vars(module)) if module else {}
    if inspect.isfunction(target) and target.__closure__:
        namespace.update(zip(target.__code__.co_freevars, (c.cell_contents for c in target.__closure__), strict=True))
    package = module.__name__ if module and hasattr(module, "__path__") else target.__module__.rpartition(".")[0]
    try:
        raw = inspect.getsource(target)
    except (OSError, TypeError):
        return
    for name, ref in _referenced(raw, namespace, package):
        if ref is not target:
            _walk_value(name, ref, label, seen)


@functools.cache
def _fingerprint_cached(obj: Any) -> str:
    seen: dict[str, str] = {}
    _walk(obj, seen)
    digest = hashlib.sha256()
    for label in sorted(seen):
        digest.update(f"{label}\n{seen[label]}\n".encode())
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
