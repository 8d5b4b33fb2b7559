"""Where the companion keeps data, caches and downloads.

Resolution order: the ``SPOKEN100_HOME`` environment variable (the Makefile sets it to the
repository's ``data/`` folder); else ``data/`` of the source checkout the package is installed
from (editable installs); else the user's cache folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "SPOKEN100_HOME"
ENV_SHARED = "SPOKEN100_SHARED"


def source_checkout() -> Path | None:
    """The companion's source checkout this package runs from (editable install), if any.

    Found by walking up from this file to the first folder holding both ``pyproject.toml`` and
    ``_toc.yml``, so it does not depend on how deep the module sits in the package.
    """
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file() and (folder / "_toc.yml").is_file():
            return folder
    return None


def data_home() -> Path:
    """Root folder for generated corpora, downloads and caches (created on demand)."""
    env = os.environ.get(ENV_HOME)
    if env:
        home = Path(env)
    else:
        checkout = source_checkout()
        home = checkout / "data" if checkout else Path(platformdirs.user_cache_dir("spoken100"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def cache_dir(*parts: str) -> Path:
    """A sub-folder of ``data_home()/cache`` (created on demand)."""
    folder = data_home().joinpath("cache", *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shared_dir(required: bool = False) -> Path | None:
    """The developers' reference folder (``../shared``), reached only through ``SPOKEN100_SHARED``.

    Users never need it; where a feature would use it and it is absent, the caller says so.
    """
    env = os.environ.get(ENV_SHARED)
    if env and Path(env).is_dir():
        return Path(env)
    if required:
        raise FileNotFoundError(
            f"The reference folder is not available: set {ENV_SHARED} to its path "
            "(in this repository's development setup it is ../shared)."
        )
    return None
