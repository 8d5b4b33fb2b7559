"""The build-information snippet included by the book's introduction and reproducing pages.

Everything in it is read from this build's own records: the corpus summary written by
``spoken100 prepare``, the profile file, and the timing record of every executed notebook.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path

import yaml

from spoken100 import __version__
from spoken100.book.summary import glued_values
from spoken100.data import paper_facts
from spoken100.data.codehash import package_versions


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def build_info_markdown(corpus: dict, profile_path: Path, timings: Path) -> str:
    """Markdown describing which corpus and profile this build used, how long each stage took and on what device."""
    profile = yaml.safe_load(Path(profile_path).read_text()) or {}
    kind = "stand-in" if corpus["kind"] == "standin" else "real SpokeN-100"
    badge_class = "warning" if corpus["kind"] == "standin" else "tip"
    all_speakers = int(paper_facts.figure("n_speakers").value)
    lines = [
        # A colon fence: a backtick fence cannot have backticks in its title (the box would not open).
        f":::{{admonition}} Built from the {kind} corpus, profile `{Path(profile_path).stem}`",
        f":class: {badge_class}",
        "",
        f"- **Corpus:** {corpus['label']}.",
        f"- **Clips:** {corpus['n_clips']:,} of {corpus['n_expected']:,} expected "
        f"({corpus['n_speakers']} speakers{f', a subset of the {all_speakers}' if corpus['subset'] else ''}).",
        f"- **Profile:** `{Path(profile_path).stem}` - {profile.get('description', '')}.",
        f"- **Corpus checksum:** `{corpus['digest'][:16]}`"
        + (f"; stand-in generation key `{corpus['generation_key']}`" if corpus.get("generation_key") else "")
        + ".",
        f"- **Code:** spoken100 {__version__}, commit {_git_commit()}; Python {platform.python_version()}.",
        ":::",
        "",
        "| stage | seconds | device |",
        "|---|---|---|",
    ]
    timing = corpus.get("timing")
    if timing:
        lines.append(
            f"| stand-in generation ({timing['clips_generated']:,} clips, {timing['n_jobs']} processes; "
            f"last run that generated clips) | {timing['elapsed_s']:.1f} | CPU (espeak-ng) |"
        )
    for record in sorted(Path(timings).glob("*.json")):
        entry = json.loads(record.read_text())
        device = entry.get("device", "not recorded")
        lines.append(f"| notebook `{entry['notebook']}` (execution) | {entry['seconds']:.1f} | {device} |")
    return "\n".join(lines) + "\n"


def benchmarks_markdown(folder: Path) -> str:
    """Tables of the benchmark records in ``folder`` (written by ``make bench``), one per benchmark.

    Each record is a JSON object with ``benchmark``, ``cpu_count``, ``machine`` and ``results``: a
    list of ``{"stage", "seconds", "clips"?, "clips_per_s"?, "target_s"?, "verdict"?}`` (``verdict``: a
    comparison in words, shown where there is no time target, e.g. a ratio against another framework).
    """
    records = sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else []
    if not records:
        return "No benchmark results were present when this book was built: run `make bench`, then `make book`.\n"
    lines: list[str] = []
    for path in records:
        record = json.loads(path.read_text())
        lines += [
            f"**{record.get('benchmark', path.stem)}** ({record.get('cpu_count', '?')} cores, "
            f"{record.get('machine', 'unknown machine')}; {record.get('note', '')})".replace("; )", ")"),
            "",
            "| stage | clips | seconds | clips/s | target |",
            "|---|---:|---:|---:|---|",
        ]
        for row in record.get("results", []):
            clips = f"{row['clips']:,}" if row.get("clips") else ""
            rate = f"{row['clips_per_s']:,}" if row.get("clips_per_s") else ""
            target = row.get("target_s")
            verdict = row.get("verdict", "") if target is None else (
                f"≤ {target} s: {'met' if row['seconds'] <= target else 'missed'}")  # fmt: skip
            lines.append(f"| {row['stage']} | {clips} | {row['seconds']:.2f} | {rate} | {verdict} |")
        lines.append("")
    return "\n".join(lines)


#: Distributions whose versions decide this build's numbers, in the order the reproducibility page lists them.
KEY_PACKAGES = (
    "numpy", "scipy", "pandas", "scikit-learn", "librosa", "soundfile", "praat-parselmouth", "umap-learn",
    "torch", "tensorflow-cpu", "tensorflow", "keras", "tflite-micro", "deap", "papermill", "myst-nb",
    "jupyter-book", "sphinx",
)  # fmt: skip


def _command_version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=10).stdout
        return out.strip().splitlines()[0] if out.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.0f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def environment_markdown() -> str:
    """The software and hardware of this build: package versions, eSpeak NG, OS, CPU, memory, GPU.

    Read at build time from the running environment (``importlib.metadata``), so the page states
    what actually ran, not what a requirements file asked for.
    """

    lines = ["| component | version |", "|---|---|", f"| Python | {platform.python_version()} |"]
    lines += [f"| {name} | {version} |" for name, version in package_versions(KEY_PACKAGES).items()]
    gpu = _command_version(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
    lines.append(f"| eSpeak NG | {_command_version(['espeak-ng', '--version'])} |")
    lines += [
        "",
        "| hardware | |",
        "|---|---|",
        f"| operating system | {platform.platform()} |",
        f"| CPU | {_cpu_model()}, {os.cpu_count()} logical cores |",
        f"| memory | {_memory_gib()} |",
        f"| GPU | {'none (CPU only)' if gpu == 'not installed' else gpu} |",
    ]
    return "\n".join(lines) + "\n"


#: Glued keys that measure time, not results, or estimate a cost from measured times (chapter 5's
#: ``paper_search_core_hours``): left out of the fingerprints, which must not change between reruns.
_TIMING_WORDS = ("seconds", "minutes", "hours")


def results_fingerprints(notebooks_dir: Path) -> dict[str, tuple[int, str]]:
    """Per executed chapter: how many values it glued and a sha256 over them (timings left out).

    Two builds with the same corpus, profile and code must give the same fingerprints (the
    chapters are seeded and deterministic); a reviewer compares them with the published ones.
    """

    prints = {}
    for path in sorted(Path(notebooks_dir).glob("*.ipynb")):
        values = {k: v for k, v in glued_values(path).items() if not any(w in f"_{k}_" for w in _TIMING_WORDS)}
        text = json.dumps(values, sort_keys=True, default=repr)
        prints[path.stem] = (len(values), hashlib.sha256(text.encode()).hexdigest()[:16])
    return prints


def reproducibility_markdown(notebooks_dir: Path) -> str:
    """The environment tables and the chapters' result fingerprints for the reproducing page."""
    lines = [environment_markdown(), "", "| chapter | glued results | sha256 (first 16) |", "|---|---:|---|"]
    for stem, (n, digest) in results_fingerprints(notebooks_dir).items():
        lines.append(f"| `{stem}` | {n} | `{digest}` |")
    return "\n".join(lines) + "\n"
