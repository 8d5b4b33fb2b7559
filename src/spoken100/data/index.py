"""The corpus index: one row per clip, the same columns for the real release and the stand-in.

Columns: path (relative to the layout root), language, speaker, gender, number, text,
duration_s, sample_rate, channels, subtype, frames, size, sha256.

Indexing reads every header and hashes every file; rows are cached by (path, size, mtime) so a
rerun over an unchanged folder touches no audio. Files that cannot be indexed (bad names, empty,
truncated or unreadable audio, broken links, folders that cannot be listed, unknown folders) are
returned as problems instead of stopping the scan.
"""

from __future__ import annotations

import collections
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from spoken100.data import atomic
from spoken100.data.audio import clip_info, wav_truncation
from spoken100.data.layout import AUDIO_SUFFIX, language_of_folder
from spoken100.data.paths import cache_dir

INDEX_COLUMNS = [
    "path", "language", "speaker", "gender", "number", "text",
    "duration_s", "sample_rate", "channels", "subtype", "frames", "size", "sha256",
]  # fmt: skip
PROBLEM_COLUMNS = ["path", "problem"]
_AUDIO_COLUMNS = ["sample_rate", "channels", "subtype", "frames", "sha256"]


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_file(root: Path) -> Path:
    key = hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:16]
    return cache_dir("index") / f"{key}.csv"


def _listing(folder: Path) -> list[Path] | str:
    """The entries of ``folder`` (sorted, hidden ones left out), or why it cannot be listed."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as err:
        return f"cannot list the folder ({err.strerror or type(err).__name__})"


def _unreadable(path: Path, err: OSError) -> str:
    """The problem to report for a file that cannot even be looked at."""
    if path.is_symlink() and not path.exists():
        return f"broken symbolic link (its target {os.readlink(path)} does not exist)"
    return f"cannot read the file ({err.strerror or type(err).__name__})"


def scan_layout(root: Path) -> tuple[list[tuple[Path, str, str, int]], list[tuple[str, str]]]:
    """Walk the layout: (file, language, speaker, number) for well-named clips, and problems."""
    root = Path(root)
    clips: list[tuple[Path, str, str, int]] = []
    problems: list[tuple[str, str]] = []

    def rel(p: Path) -> str:
        return p.relative_to(root).as_posix()

    def listing(folder: Path) -> list[Path]:
        entries = _listing(folder)
        if isinstance(entries, str):
            problems.append((rel(folder) if folder != root else ".", entries))
            return []
        return entries

    for top in listing(root):
        language = language_of_folder(top.name) if top.is_dir() else None
        if language is None:
            kind = "folder" if top.is_dir() else "file"
            problems.append((rel(top), f"unknown language {kind} (expected <language>_numbers)"))
            continue
        for speaker_dir in listing(top):
            if not speaker_dir.is_dir():
                problems.append((rel(speaker_dir), "file outside a speaker folder"))
                continue
            for item in listing(speaker_dir):
                if item.is_dir():
                    problems.append((rel(item), "unexpected sub-folder in a speaker folder"))
                elif item.suffix.lower() != AUDIO_SUFFIX:
                    problems.append((rel(item), f"not a {AUDIO_SUFFIX} file"))
                elif not item.stem.isdigit():
                    problems.append((rel(item), "non-numeric file name"))
                elif not 0 <= int(item.stem) <= 99:
                    problems.append((rel(item), f"number {int(item.stem)} outside 0-99"))
                else:
                    clips.append((item, language, speaker_dir.name, int(item.stem)))
    return clips, problems


def describe_problems(problems: pd.DataFrame | list[tuple[str, str]], limit: int = 4) -> str:
    """The problems counted by kind, most common first: ``"27 files: not a .wav file; 2 files: empty file"``."""
    kinds = [p for _, p in problems] if isinstance(problems, list) else list(problems["problem"])
    counts = collections.Counter(k.split(" (")[0].split(":")[0] for k in kinds)
    parts = [f"{n:,} {'file' if n == 1 else 'files'}: {kind}" for kind, n in counts.most_common(limit)]
    if len(counts) > limit:
        parts.append(f"{sum(n for _, n in counts.most_common()[limit:]):,} files with other problems")
    return "; ".join(parts)


def _audio_facts(path: Path) -> dict | str:
    """Header facts and checksum of one file, or the reason it cannot be read."""
    try:
        if path.stat().st_size == 0:
            return "empty file"
        truncated = wav_truncation(path)
    except OSError as err:
        return _unreadable(path, err)
    if truncated:
        return truncated
    try:
        info = clip_info(path)
    except Exception as err:  # soundfile raises LibsndfileError/RuntimeError variants
        return f"unreadable audio ({str(err).strip() or type(err).__name__})"
    if info.frames == 0:
        return "no audio frames"
    try:
        digest = sha256_file(path)
    except OSError as err:
        return _unreadable(path, err)
    return {
        "sample_rate": int(info.samplerate),
        "channels": int(info.channels),
        "subtype": str(info.subtype),
        "frames": int(info.frames),
        "sha256": digest,
    }


def build_index(
    root: Path,
    gender_of: Callable[[str], str],
    text_of: Callable[[int, str], str],
    progress: bool = True,
    use_cache: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Index the clips under a layout ``root``; return ``(index, problems)``.

    gender_of: speaker name -> "female" / "male" / "unknown".
    text_of: (number, language) -> the words behind the clip.
    """
    root = Path(root)
    clips, problems = scan_layout(root)
    cache_path = _cache_file(root)
    cached: dict[str, dict] = {}
    if use_cache and cache_path.is_file():
        # Read every cached field as text: mtime_ns is compared as a string, and a numeric
        # column would never match (every file would be re-hashed on every run).
        table = pd.read_csv(cache_path, keep_default_na=False, dtype=str)
        cached = {row["path"]: row for row in table.to_dict("records")}

    rows, fresh = [], []
    for path, language, speaker, number in tqdm(clips, desc="Indexing clips", unit="clip", disable=not progress):
        relpath = path.relative_to(root).as_posix()
        try:
            stat = path.stat()
        except OSError as err:
            problems.append((relpath, _unreadable(path, err)))
            continue
        hit = cached.get(relpath)
        if hit is not None and hit["size"] == str(stat.st_size) and hit["mtime_ns"] == str(stat.st_mtime_ns):
            facts = {k: hit[k] for k in _AUDIO_COLUMNS}
            facts.update({k: int(facts[k]) for k in ("sample_rate", "channels", "frames")})
        else:
            facts = _audio_facts(path)
            if isinstance(facts, str):
                problems.append((relpath, facts))
                continue
        fresh.append({"path": relpath, "size": stat.st_size, "mtime_ns": str(stat.st_mtime_ns), **facts})
        rows.append({
            "path": relpath, "language": language, "speaker": speaker, "gender": gender_of(speaker),
            "number": number, "text": text_of(number, language), **facts, "size": stat.st_size,
        })  # fmt: skip
    if use_cache:
        with atomic.atomic_path(cache_path) as tmp:
            pd.DataFrame(fresh, columns=["path", "size", "mtime_ns", *_AUDIO_COLUMNS]).to_csv(tmp, index=False)

    index = pd.DataFrame(rows, columns=[c for c in INDEX_COLUMNS if c != "duration_s"])
    index = index.astype({"number": int, "sample_rate": int, "channels": int, "frames": int, "size": int})
    index.insert(INDEX_COLUMNS.index("duration_s"), "duration_s", index["frames"] / index["sample_rate"])
    problem_table = pd.DataFrame(problems, columns=PROBLEM_COLUMNS).sort_values("path", ignore_index=True)
    return index[INDEX_COLUMNS], problem_table


def index_digest(index: pd.DataFrame) -> str:
    """A checksum of the whole corpus: paths and file checksums, order-independent."""
    digest = hashlib.sha256()
    for path, sha in sorted(zip(index["path"], index["sha256"], strict=True)):
        digest.update(f"{path}\t{sha}\n".encode())
    return digest.hexdigest()
