"""Generate the espeak-ng stand-in corpus in the SpokeN-100 layout.

Parallel over cores, resumable (clips already on disk are kept once they are verified: a clip
that is empty, not a WAV file, truncated, or of another size than it was written with, e.g. after
a power loss, is generated again), atomic (each clip is written to a temporary file and renamed), deterministic (the same settings give the same bytes), and
keyed: the output folder's name is a hash of everything that shapes the audio, so a change of
voices, texts, trimming or espeak-ng version generates a new folder instead of mixing clips.

Each (speaker, language) sequence is rendered in a fresh worker process (``maxtasksperchild=1``),
always the full sequence 0-99 in order, because the espeak-ng library carries a little state from
one utterance to the next: a resumed run then writes exactly the bytes a full run would have.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tqdm import tqdm

from spoken100.data import atomic
from spoken100.data.audio import encode_wav, wav_damage
from spoken100.data.codehash import code_fingerprint
from spoken100.data.layout import LANGUAGES, NUMBERS, SAMPLE_RATE, clip_path
from spoken100.data.paths import data_home
from spoken100.data.segment import TrimParams
from spoken100.data.speakers import Voice, voices
from spoken100.data.synth import (
    LANGUAGE_VOICES,
    SynthesisError,
    espeak_version,
    ignored_variant_error,
    probe,
    render_sequence,
)
from spoken100.data.texts import spoken_text

MANIFEST = "generation.json"
TIMING = "generation-timing.json"
#: Size in bytes of every clip as verified complete: later runs compare sizes instead of reading headers.
SIZES = "clip-sizes.json"
LAYOUT_DIR = "SpokeN-100"


def generation_settings(trim: TrimParams = TrimParams()) -> dict:
    """Everything that determines the stand-in's audio, for the manifest and the key."""
    return {
        # the rendering code (synthesis, resampling, trimming, encoding): editing it makes a new stand-in
        "generator_code": code_fingerprint(_render_task),
        "espeak_ng_version": espeak_version(),
        "language_voices": LANGUAGE_VOICES,
        "sample_rate": SAMPLE_RATE,
        "format": "WAV, mono, PCM 16-bit",
        "resampler": "soxr HQ, 22050 -> 44100 Hz",
        "trim": {"method": "rolling standard deviation", **trim.as_dict()},
        "voices": [vars(v) for v in voices()],
        "texts": {lang: [spoken_text(n, lang) for n in NUMBERS] for lang in LANGUAGES},
    }


def generation_key(settings: dict) -> str:
    """Short hash of the generation settings: the stand-in folder's name."""
    blob = json.dumps(settings, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def standin_home(trim: TrimParams = TrimParams()) -> Path:
    """Folder of the stand-in for the current settings: ``<data home>/standin/<key>``."""
    return data_home() / "standin" / generation_key(generation_settings(trim))


def _render_task(task: tuple[Path, Voice, str, list[int], TrimParams]) -> tuple[str, str, list[str], int]:
    """Worker: render one speaker's full sequence in one language and write the missing clips.

    Returns the speaker, the language, the sha256 of every clip (0-99) and how many were written,
    so the distinctness check needs to read no files for what was just rendered.
    """
    root, voice, language, missing, trim = task
    texts = [spoken_text(n, language) for n in NUMBERS]
    digests = []
    for number, clip in zip(NUMBERS, render_sequence(texts, language, voice, trim), strict=True):
        data = encode_wav(clip)
        digests.append(hashlib.sha256(data).hexdigest())
        if number in missing:
            atomic.write_bytes(clip_path(root, language, voice.speaker, number), data)
    return voice.speaker, language, digests, len(missing)


def _probe_task(task: tuple[Voice, str, bool]) -> bytes:
    return probe(*task)


def _in_fresh_processes(func: Callable, tasks: Iterable, n_jobs: int) -> multiprocessing.pool.IMapIterator:
    """Run ``func`` over ``tasks`` with a new worker process per task, results as they finish."""
    context = multiprocessing.get_context("fork")
    pool = context.Pool(n_jobs, maxtasksperchild=1)
    try:
        yield from pool.imap_unordered(func, tasks)
    finally:
        pool.terminate()
        pool.join()


def check_variants(selected: list[Voice], n_jobs: int) -> None:
    """Every speaker's variant must change the audio in every language (fresh process per render)."""
    tasks = [(v, lang, flag) for v in selected for lang in LANGUAGES for flag in (True, False)]
    context = multiprocessing.get_context("fork")
    with context.Pool(n_jobs, maxtasksperchild=1) as pool:
        renders = pool.map(_probe_task, tasks, chunksize=1)
    for i in range(0, len(tasks), 2):
        if renders[i] == renders[i + 1]:
            voice, language, _ = tasks[i]
            raise ignored_variant_error(voice, language)


def check_distinct(root: Path, speakers: list[str], known: dict[tuple[str, str], list[str]] | None = None) -> None:
    """Every speaker's rendering of each (language, number) must differ from every other's.

    known: sha256 of the clips 0-99 per (speaker, language) already at hand (from the workers);
        the others are read from ``root``.

    Identical renderings mean espeak-ng ignored a speaker's settings; fail loudly, naming them.
    """
    if len(speakers) < 2:
        return
    known = dict(known or {})
    for language in LANGUAGES:
        for speaker in speakers:
            if (speaker, language) not in known:
                known[speaker, language] = [
                    hashlib.sha256(clip_path(root, language, speaker, n).read_bytes()).hexdigest() for n in NUMBERS
                ]
        for i, number in enumerate(NUMBERS):
            seen: dict[str, str] = {}
            for speaker in speakers:
                digest = known[speaker, language][i]
                if digest in seen:
                    raise SynthesisError(
                        f"speakers {seen[digest]} and {speaker} rendered {language} {number} identically; "
                        "espeak-ng ignored their settings"
                    )
                seen[digest] = speaker


def _clip_damage(path: Path, size: int, expected: int | None) -> str | None:
    """Why a clip on disk cannot be kept, or ``None``: its size against the record, else its header."""
    if size == 0:
        return "empty file (0 bytes)"
    if expected is not None:
        return None if size == expected else f"{size:,} bytes, not the {expected:,} it was written with"
    return wav_damage(path)


def _read_sizes(path: Path) -> dict[str, int]:
    try:
        sizes = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # absent or unreadable: every clip's header is checked instead
    return {str(k): int(v) for k, v in sizes.items()} if isinstance(sizes, dict) else {}


def _record_sizes(path: Path, known: dict[str, int], root: Path, selected: list[Voice]) -> None:
    """Record the size of every (now verified) clip of ``selected``; skipped if the folder is read-only."""
    sizes = dict(known)
    for voice in selected:
        for language in LANGUAGES:
            folder = clip_path(root, language, voice.speaker, 0).parent
            for entry in os.scandir(folder):
                if entry.name.endswith(".wav") and not entry.name.startswith("."):  # not a temporary file
                    sizes[f"{language}_numbers/{voice.speaker}/{entry.name}"] = entry.stat().st_size
    if sizes != known:
        try:
            atomic.write_json(path, sizes, if_changed=True)
        except OSError:
            pass  # only an optimisation: the next run checks the headers again


def generate_standin(
    speakers: list[str] | None = None,
    n_jobs: int | None = None,
    trim: TrimParams = TrimParams(),
    home: Path | None = None,
    progress: bool = True,
) -> Path:
    """Generate (or complete) the stand-in corpus and return its layout root.

    speakers: stand-in speaker names to generate (default: all 32).
    n_jobs: parallel processes (default: every core).
    home: output folder (default: :func:`standin_home`), holding ``SpokeN-100/`` and the manifest.
    """
    settings = generation_settings(trim)
    home = Path(home) if home is not None else data_home() / "standin" / generation_key(settings)
    root = home / LAYOUT_DIR
    selected = voices(speakers)
    names = [v.speaker for v in selected]
    sizes_file = home / SIZES
    known_sizes = _read_sizes(sizes_file)
    todo, damaged = [], {}
    for voice in selected:
        for language in LANGUAGES:
            folder = clip_path(root, language, voice.speaker, 0).parent
            present = {entry.name: entry.stat().st_size for entry in os.scandir(folder)} if folder.is_dir() else {}
            missing = []
            for number in NUMBERS:
                path = clip_path(root, language, voice.speaker, number)
                if path.name not in present:
                    missing.append(number)
                    continue
                relpath = path.relative_to(root).as_posix()
                problem = _clip_damage(path, present[path.name], known_sizes.get(relpath))
                if problem:
                    damaged[relpath] = problem
                    missing.append(number)
            if missing:
                todo.append((root, voice, language, missing, trim))
    if damaged:
        first = ", ".join(f"{root / p}: {why}" for p, why in list(damaged.items())[:3])
        print(f"regenerating {len(damaged):,} damaged clips ({first}{', ...' if len(damaged) > 3 else ''})",
              file=sys.stderr, flush=True)  # fmt: skip
    manifest = home / MANIFEST
    if not todo and manifest.is_file():
        _record_sizes(sizes_file, known_sizes, root, selected)
        return root

    start = time.perf_counter()
    jobs = n_jobs or os.cpu_count() or 1
    check_variants(selected, jobs)  # fail before any clip is written
    n_clips = sum(len(t[3]) for t in todo)
    with tqdm(total=n_clips, desc="Generating stand-in clips", unit="clip", disable=not progress) as bar:
        rendered = {}
        for speaker, language, digests, written in _in_fresh_processes(_render_task, todo, jobs):
            rendered[speaker, language] = digests
            bar.update(written)
    check_distinct(root, names, rendered)
    elapsed = time.perf_counter() - start

    existing = json.loads(manifest.read_text()) if manifest.is_file() else {}
    generated = sorted(set(existing.get("speakers", [])) | set(names))
    atomic.write_json(manifest, {**settings, "key": generation_key(settings), "speakers": generated})
    _record_sizes(sizes_file, known_sizes, root, selected)
    atomic.write_json(
        home / TIMING,
        {"clips_generated": n_clips, "elapsed_s": round(elapsed, 2), "n_jobs": jobs,
         "cpu_count": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()},
    )  # fmt: skip
    return root
