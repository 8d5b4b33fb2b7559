"""The SpokeN-100 folder layout, shared by the real release and the stand-in.

``<root>/{english,german,french,mandarin}_numbers/<Speaker>/<number>.wav`` with
numbers 0-99 (paper-facts §1.4, inferred from the companion repository's loaders).
"""

from __future__ import annotations

from pathlib import Path

#: Languages in the paper's label order (``{"English": 0, "Mandarin": 1, "German": 2, "French": 3}``).
LANGUAGES: tuple[str, ...] = ("english", "mandarin", "german", "french")

#: The numbers spoken in every language.
NUMBERS: tuple[int, ...] = tuple(range(100))

#: Sample rate of the published clips (all the paper's loaders use 44.1 kHz).
SAMPLE_RATE = 44_100

AUDIO_SUFFIX = ".wav"


def language_folder(language: str) -> str:
    """Folder name of a language, e.g. ``"english"`` -> ``"english_numbers"``."""
    return f"{language}_numbers"


def language_of_folder(folder: str) -> str | None:
    """Inverse of :func:`language_folder`; ``None`` for a folder that is not a language."""
    if folder.endswith("_numbers") and folder[: -len("_numbers")] in LANGUAGES:
        return folder[: -len("_numbers")]
    return None


def clip_path(root: Path, language: str, speaker: str, number: int) -> Path:
    """Where a clip lives in the layout."""
    return Path(root) / language_folder(language) / speaker / f"{number}{AUDIO_SUFFIX}"


def find_layout_root(path: Path, max_depth: int = 2) -> Path | None:
    """Return the folder under ``path`` (at most ``max_depth`` levels down) holding language folders.

    Archives are not consistent about a top-level folder, so both ``SpokeN-100/english_numbers``
    and ``english_numbers`` at the top are accepted.
    """
    path = Path(path)
    frontier = [path]
    for _ in range(max_depth + 1):
        nxt = []
        for folder in frontier:
            if not folder.is_dir():
                continue
            children = sorted(p for p in folder.iterdir() if p.is_dir())
            if any(language_of_folder(c.name) for c in children):
                return folder
            nxt.extend(children)
        frontier = nxt
    return None
