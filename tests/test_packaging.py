"""Packaging installs what the package imports: pyproject.toml, requirements.txt and environment.yml agree.

Everything here reads files (the sources with ``ast``, the TOML and YAML files); nothing is built,
installed or written.

* Every third-party import under ``src/spoken100`` (top level or inside functions) names a
  distribution that ``[project].dependencies`` declares, or, for the modules listed in
  ``EXTRA_MODULES``, one of the extras they may need.
* Every distribution pyproject declares (core and extras) is pinned exactly in requirements.txt,
  and the pin satisfies the declared lower bound, so ``make setup`` installs what the package declares.
* environment.yml (the conda environment for Binder) carries the same pins as requirements.txt.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "spoken100"

# Modules that may import what only an optional extra provides (module -> extras).
EXTRA_MODULES: dict[str, frozenset[str]] = {
    "spoken100.book.browsercheck": frozenset({"check"}),
    "spoken100.book.sitecheck": frozenset({"check"}),
}

# Imports that are deliberately not declared anywhere: optional backends, imported inside
# ``try: ... except ImportError`` with a message that says what to install. Allowed only guarded,
# only in the module named here (import name -> modules). None today: Dask, the one cluster
# engine, is a pinned dependency.
GUARDED_OPTIONAL: dict[str, frozenset[str]] = {}

# Import names that importlib.metadata.packages_distributions() does not map (or maps to only one
# of the distributions that provide it). Normalised distribution names.
FALLBACK_DISTRIBUTIONS: dict[str, frozenset[str]] = {
    # a top-level extension module; Python 3.11's packages_distributions() misses it
    "parselmouth": frozenset({"praat-parselmouth"}),
    # requirements.txt pins tensorflow-cpu; the full build provides the same import
    "tensorflow": frozenset({"tensorflow-cpu", "tensorflow"}),
}

IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


@dataclass(frozen=True)
class Import:
    """One ``import x`` / ``from x import y`` statement: its top-level name, line and whether an
    enclosing ``try`` catches ImportError."""

    name: str
    lineno: int
    guarded: bool


@dataclass(frozen=True)
class Declared:
    """The distributions pyproject.toml declares: core dependencies and each optional extra
    (normalised names, mapped to their specifiers)."""

    core: Mapping[str, str]
    extras: Mapping[str, Mapping[str, str]]

    def all(self) -> dict[str, str]:
        """Every declared distribution, core and extras, name -> specifier."""
        out = dict(self.core)
        for deps in self.extras.values():
            out.update(deps)
        return out


def normalise(name: str) -> str:
    """A distribution name normalised per PEP 503: lowercase, runs of ``-_.`` replaced by ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(line: str) -> tuple[str, str]:
    """Split a requirement string such as ``"keras>=3"`` or ``"numpy==2.4.6 ; python_version>'3'"``
    into its normalised name and its version specifier (extras and markers dropped)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;#]*)", line)
    if not match:
        raise ValueError(f"not a requirement: {line!r}")
    return normalise(match.group(1)), match.group(3).strip()


def read_pyproject(path: Path = ROOT / "pyproject.toml") -> Declared:
    """The core dependencies and optional extras of pyproject.toml, read with tomllib."""
    project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    core = dict(parse_requirement(r) for r in project.get("dependencies", []))
    extras = {
        extra: dict(parse_requirement(r) for r in reqs)
        for extra, reqs in project.get("optional-dependencies", {}).items()
    }
    return Declared(core, extras)


def read_pins(lines: list[str]) -> dict[str, str]:
    """Requirement lines (requirements.txt, environment.yml's pip section) as normalised name ->
    specifier; blank lines, comments and pip options (``-e .``, ``-r file``) are skipped."""
    pins = {}
    for raw in lines:
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if not line or line.startswith("-"):
            continue
        name, spec = parse_requirement(line)
        pins[name] = spec
    return pins


def read_requirements(path: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """requirements.txt as normalised name -> specifier (``==1.2.3`` for an exact pin)."""
    return read_pins(path.read_text(encoding="utf-8").splitlines())


def iter_imports(source: str, filename: str = "<string>") -> Iterator[Import]:
    """Every absolute import in ``source`` (module level, in functions, under ``TYPE_CHECKING``),
    with its top-level name and whether it sits in the body of a ``try`` whose handlers catch
    ImportError (``ImportError``, ``ModuleNotFoundError``, ``Exception`` or a bare ``except``)."""

    def catches_import_error(handler: ast.ExceptHandler) -> bool:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        return any(isinstance(t, ast.Name) and t.id in IMPORT_ERRORS | {"Exception"} for t in types)

    def visit(node: ast.AST, guarded: bool) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name.split(".")[0], node.lineno, guarded)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield Import(node.module.split(".")[0], node.lineno, guarded)
        if isinstance(node, ast.Try | ast.TryStar):
            body_guarded = guarded or any(catches_import_error(h) for h in node.handlers)
            for child in node.body:
                yield from visit(child, body_guarded)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                yield from visit(child, guarded)
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child, guarded)

    yield from visit(ast.parse(source, filename), False)


def is_third_party(name: str) -> bool:
    """True for an import name that is neither the standard library, ``__future__`` nor spoken100."""
    return name not in sys.stdlib_module_names and name not in {"__future__", PACKAGE}


@functools.cache
def _installed_map() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions_for(name: str) -> set[str]:
    """The normalised distributions that may provide the import ``name``: what the installed
    environment says (packages_distributions) plus FALLBACK_DISTRIBUTIONS; when neither knows the
    name, the name itself (most distributions are named like their import)."""
    found = {normalise(d) for d in _installed_map().get(name, [])} | set(FALLBACK_DISTRIBUTIONS.get(name, ()))
    return found or {normalise(name)}


def check_source(
    source: str,
    module: str,
    declared: Declared,
    extra_modules: Mapping[str, Set[str]] = EXTRA_MODULES,
    guarded_optional: Mapping[str, Set[str]] = GUARDED_OPTIONAL,
) -> list[str]:
    """Problems with the third-party imports of one module's source, one line each: an import no
    declared distribution provides, or one only an extra provides when ``module`` may not need
    that extra. An import listed in ``guarded_optional`` for ``module`` passes if it is guarded."""
    allowed_extras = extra_modules.get(module, frozenset())
    allowed = set(declared.core)
    for extra in allowed_extras:
        allowed |= set(declared.extras.get(extra, {}))
    problems = []
    for imp in iter_imports(source, module):
        if not is_third_party(imp.name):
            continue
        candidates = distributions_for(imp.name)
        if candidates & allowed:
            continue
        where = f"{module}:{imp.lineno}: import {imp.name}"
        if module in guarded_optional.get(imp.name, ()):
            if not imp.guarded:
                problems.append(f"{where} is an optional backend but not inside try/except ImportError")
            continue
        in_extras = sorted(e for e, deps in declared.extras.items() if candidates & set(deps))
        if in_extras:
            problems.append(
                f"{where} needs {'/'.join(sorted(candidates))}, only in extra(s) {in_extras}; "
                f"declare it in [project].dependencies or list {module} in EXTRA_MODULES"
            )
        else:
            problems.append(f"{where} needs {'/'.join(sorted(candidates))}, which pyproject.toml does not declare")
    return problems


def source_modules(src: Path = SRC) -> dict[str, Path]:
    """Every module under src/spoken100 as dotted name -> path."""
    modules = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def read_environment(path: Path = ROOT / "environment.yml") -> tuple[dict[str, str], dict[str, str]]:
    """environment.yml's conda dependencies and its pip section, each as normalised name -> spec
    (a conda ``name=1.2`` is returned as ``==1.2``)."""
    env = yaml.safe_load(path.read_text(encoding="utf-8"))
    conda, pip_lines = {}, []
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict):
            pip_lines += dep.get("pip", [])
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(==?)?\s*([^\s=]*)", str(dep))
        name, version = normalise(match.group(1)), match.group(3)
        conda[name] = f"=={version}" if version else ""
    return conda, read_pins(pip_lines)


# ---- the checks on this repository --------------------------------------------------------------


def test_src_imports_are_declared():
    declared = read_pyproject()
    problems = []
    for module, path in source_modules().items():
        problems += check_source(path.read_text(encoding="utf-8"), module, declared)
    assert not problems, "\n".join(problems)


def test_allowances_are_current():
    """EXTRA_MODULES and GUARDED_OPTIONAL name existing modules and extras and are still needed."""
    declared = read_pyproject()
    modules = source_modules()
    for module, extras in EXTRA_MODULES.items():
        assert module in modules, f"EXTRA_MODULES names {module}, which does not exist"
        assert extras <= set(declared.extras), f"{module}: extras {sorted(extras - set(declared.extras))} undeclared"
        # without its allowance the module must fail: otherwise the entry is stale
        assert check_source(modules[module].read_text(encoding="utf-8"), module, declared, extra_modules={}), (
            f"{module} no longer needs {sorted(extras)}; drop it from EXTRA_MODULES"
        )
    for name, owners in GUARDED_OPTIONAL.items():
        for module in owners:
            assert module in modules, f"GUARDED_OPTIONAL names {module}, which does not exist"
            imports = [i for i in iter_imports(modules[module].read_text(encoding="utf-8")) if i.name == name]
            assert imports, f"{module} no longer imports {name}; drop it from GUARDED_OPTIONAL"


def test_declared_distributions_are_pinned():
    pins = read_requirements()
    problems = []
    for name, spec in sorted(read_pyproject().all().items()):
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{name}: declared in pyproject.toml, missing from requirements.txt")
        elif not re.fullmatch(r"==[^,;\s*]+", pin):
            problems.append(f"{name}: requirements.txt has {pin!r}, not an exact == pin")
        elif spec and not SpecifierSet(spec).contains(pin[2:], prereleases=True):
            problems.append(f"{name}: the pin {pin} does not satisfy pyproject's {spec!r}")
    assert not problems, "\n".join(problems)


def test_environment_yml_matches_requirements():
    pins = read_requirements()
    conda, pip = read_environment()
    problems = []
    for name, pin in sorted(pins.items()):
        got = pip.get(name, conda.get(name))
        if got != pin:
            problems.append(f"{name}: requirements.txt {pin!r}, environment.yml {got!r}")
    for name, spec in sorted(pip.items()):
        if name not in pins:
            problems.append(f"{name}: in environment.yml's pip section ({spec!r}), not in requirements.txt")
    assert not problems, "\n".join(problems)


# ---- the checker itself can fail ----------------------------------------------------------------

DECLARED = Declared(core={"numpy": ">=1.26"}, extras={"check": {"selenium": ">=4"}})
GUARDED = {"ray": frozenset({"spoken100.baselines.experiment"})}  # an optional import allowed in one module


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        (
            "import notarealpackage_xyz\n",
            "spoken100.fake",
            "notarealpackage-xyz, which pyproject.toml does not declare",
        ),
        ("def f():\n    from notarealpackage_xyz.sub import g\n", "spoken100.fake", "spoken100.fake:2:"),
        ("from selenium import webdriver\n", "spoken100.fake", "only in extra(s) ['check']"),
        ("import ray\n", "spoken100.baselines.experiment", "not inside try/except ImportError"),
        ("try:\n    import ray\nexcept ImportError:\n    pass\n", "spoken100.fake", "does not declare"),
    ],
)
def test_checker_reports(source, module, expected):
    problems = check_source(source, module, DECLARED, guarded_optional=GUARDED)
    assert len(problems) == 1 and expected in problems[0], problems


def test_checker_passes_declared_imports():
    source = (
        "from __future__ import annotations\nimport os, json\nimport numpy as np\n"
        "from spoken100.data import layout\nfrom . import sibling\n"
        "try:\n    import ray\nexcept ImportError:\n    ray = None\n"
    )
    assert check_source(source, "spoken100.baselines.experiment", DECLARED, guarded_optional=GUARDED) == []
    assert check_source("import selenium\n", "spoken100.book.browsercheck", DECLARED) == []
