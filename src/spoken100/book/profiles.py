"""Build profiles: one YAML file per profile holds every notebook's papermill parameters.

``profiles/<name>.yml`` has a ``corpus`` section (parameters every notebook receives, such as
``n_speakers``) and a ``notebooks`` section keyed by notebook name.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from spoken100.data import paper_facts

PROFILE_NAMES = ("smoke", "default", "paper", "paper-rehearsal", "reference")


class ProfileError(ValueError):
    """A profile is missing or has settings the notebooks cannot take."""


def load_profile(path: Path) -> dict:
    """Read and check a profile file."""
    path = Path(path)
    if not path.is_file():
        raise ProfileError(f"{path}: no such profile (profiles: {', '.join(PROFILE_NAMES)})")
    profile = yaml.safe_load(path.read_text()) or {}
    if not isinstance(profile, dict):
        raise ProfileError(f"{path}: a profile must be a mapping")
    unknown = set(profile) - {"description", "corpus", "notebooks"}
    if unknown:
        raise ProfileError(f"{path}: unknown section(s) {sorted(unknown)}")
    n = (profile.get("corpus") or {}).get("n_speakers")
    most = int(paper_facts.figure("n_speakers").value)
    if n is not None and (not isinstance(n, int) or not 2 <= n <= most or n % 2):
        raise ProfileError(f"{path}: corpus.n_speakers must be an even number from 2 to {most} or null, got {n!r}")
    return profile


def notebook_parameters(profile: dict, notebook: str, profile_name: str, data: str) -> dict:
    """The papermill parameters of one notebook under a profile."""
    params = {"data": data, "profile": profile_name}
    params.update(profile.get("corpus") or {})
    params.update((profile.get("notebooks") or {}).get(notebook) or {})
    return params
