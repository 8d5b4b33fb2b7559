"""Synthetic-to-real transfer: the Free Spoken Digit Dataset (FSDD) as a test set of human speech.

SpokeN-100 is synthetic (ElevenLabs; here possibly the espeak-ng stand-in). To ask how a
number-task model trained on it fares on *real* people, its digits 0-9 are tested on FSDD
(Z. Jackson et al., https://github.com/Jakobovski/free-spoken-digit-dataset, licence CC BY-SA 4.0):
mono 8 kHz WAV files named ``{digit}_{speaker}_{take}.wav``, 50 takes of each digit per speaker,
all speakers male, English. The dataset's own convention puts takes 0-4 in the test set.

Where the recordings come from (:func:`fsdd_dir`), in this order:

1. the folder named by the ``SPOKEN100_FSDD`` environment variable;
2. ``<data home>/fsdd``, which :func:`fetch_fsdd` fills from the pinned release archive
   (:data:`FSDD_URL`, verified against :data:`FSDD_SHA256`);
3. ``<shared>/data/fsdd`` in the developers' reference folder (``SPOKEN100_SHARED``), never needed
   by users.

A folder may hold the WAV files directly or in a ``recordings/`` sub-folder (the repository's layout).

Preprocessing is the corpus's (:mod:`spoken100.data.inputs`): the clip is read at 44.1 kHz as the
paper's loader does (librosa upsamples the 8 kHz file, so nothing above 4 kHz exists in it), then
resampled to exactly 8,000 samples and, for the spectrogram models, turned into the 128 x 32 log-mel.

Trimming (``trim=True``, the default) cuts leading and trailing silence with
:func:`spoken100.data.segment.trim_silence`, the rule (and parameters) that trimmed every clip of the
stand-in corpus; the published SpokeN-100 clips were cut tightly by forced alignment. FSDD is only
"trimmed to near minimal silence": in the three-speaker copy measured, about a quarter of the clips
keep more than 40 ms of silence at one end, a few more than half a second. Because the paper's preprocessing stretches every clip to the same
8,000 samples, leftover silence changes the time and frequency scale the model sees, so comparing
trimmed synthetic clips with untrimmed real ones would confound the synthetic-to-real gap with a
preprocessing difference. ``trim=False`` gives the files as they are, for that comparison.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from spoken100.baselines.stats import confusion
from spoken100.data.audio import clip_info, load_clip, resample_to_length
from spoken100.data.clipmap import map_clips
from spoken100.data.fetch import FetchError, check_archive_members, retrieve
from spoken100.data.index import sha256_file
from spoken100.data.inputs import INPUT_SHAPES, log_mel
from spoken100.data.layout import SAMPLE_RATE
from spoken100.data.paths import data_home, shared_dir
from spoken100.data.segment import TrimParams, trim_silence
from spoken100.data.tasks import DIGIT_CLASSES

if TYPE_CHECKING:
    from torch import nn

#: Environment variable naming a local copy of FSDD (a folder of WAV files or holding ``recordings/``).
ENV_FSDD = "SPOKEN100_FSDD"
FSDD_REPOSITORY = "https://github.com/Jakobovski/free-spoken-digit-dataset"
#: The pinned release. v1.0.9 holds 2,500 recordings of 5 speakers (george, jackson, nicolas, theo,
#: yweweler); the later v1.0.10 adds a sixth speaker (lucas).
FSDD_VERSION = "v1.0.9"
FSDD_URL = f"{FSDD_REPOSITORY}/archive/{FSDD_VERSION}.tar.gz"
#: sha256 and size of the v1.0.9 archive, as recorded by TensorFlow Datasets
#: (tensorflow_datasets/audio/spoken_digit/checksums.tsv). GitHub generates tag archives on demand;
#: should the bytes ever change, the download fails verification and :func:`fetch_fsdd` says so.
FSDD_SHA256 = "8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0"
FSDD_ARCHIVE_SIZE = 11_975_353
FSDD_LICENCE = "Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0)"
FSDD_SAMPLE_RATE = 8000
#: Speaker metadata from the dataset's ``metadata.py`` at v1.0.9; lucas (added in v1.0.10) as described in the
#: developers' reference copy of the dataset. Every speaker is male.
FSDD_SPEAKERS: dict[str, dict[str, str]] = {
    "george": {"gender": "male", "accent": "Greek"},
    "jackson": {"gender": "male", "accent": "US"},
    "lucas": {"gender": "male", "accent": "German"},
    "nicolas": {"gender": "male", "accent": "Belgian French"},
    "theo": {"gender": "male", "accent": "US"},
    "yweweler": {"gender": "male", "accent": "German"},
}
#: Takes 0-4 of every digit and speaker are the dataset's official test set.
FSDD_TEST_TAKES = range(5)
FSDD_COLUMNS = [
    "path", "digit", "speaker", "index", "duration_s", "sample_rate", "channels", "frames",
    "split", "gender", "accent", "number", "language", "sha256",
]  # fmt: skip
PROBLEM_COLUMNS = ["path", "problem"]
_NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[A-Za-z0-9-]+)_(?P<index>\d+)\.wav$", re.IGNORECASE)


# ---- where the recordings are ------------------------------------------------------------------


def _recordings(folder: Path) -> Path:
    """The folder that holds the WAV files: ``folder/recordings`` when present, else ``folder``."""
    sub = folder / "recordings"
    return sub if sub.is_dir() else folder


def _has_wavs(folder: Path) -> bool:
    return folder.is_dir() and any(p.suffix.lower() == ".wav" for p in _recordings(folder).iterdir())


def fsdd_candidates() -> list[tuple[str, Path]]:
    """The places :func:`fsdd_dir` looks, in order, as ``(description, folder)`` pairs."""
    candidates = []
    env = os.environ.get(ENV_FSDD)
    if env:
        candidates.append((f"${ENV_FSDD}", Path(env)))
    candidates.append(("the data home", data_home() / "fsdd"))
    shared = shared_dir()
    if shared is not None:
        candidates.append(("the reference folder", shared / "data" / "fsdd"))
    return candidates


def fsdd_dir() -> Path | None:
    """The first FSDD copy found (see the module docstring for the order), or ``None``.

    A candidate counts only if it holds WAV files (directly or in ``recordings/``).
    """
    for _, folder in fsdd_candidates():
        if _has_wavs(folder):
            return folder
    return None


def fsdd_status() -> str:
    """One paragraph saying which FSDD copy is used, or how to get one when there is none."""
    folder = fsdd_dir()
    if folder is not None:
        n = sum(1 for p in _recordings(folder).iterdir() if p.suffix.lower() == ".wav")
        return f"FSDD: {n} recordings in {folder} (licence: {FSDD_LICENCE}; source: {FSDD_REPOSITORY})."
    notes = []
    env = os.environ.get(ENV_FSDD)
    if env:
        notes.append(f" ${ENV_FSDD} is set to {env}, which holds no WAV files.")
    return (
        "The Free Spoken Digit Dataset (FSDD) is not available." + "".join(notes) + " Get it by typing "
        f"`spoken100 fetch --fsdd` in a terminal (`make book` tries it when the network allows), which "
        f"downloads the {FSDD_VERSION} release of {FSDD_REPOSITORY} ({FSDD_URL}, about 12 MB, verified "
        f"against sha256 {FSDD_SHA256}) into {data_home() / 'fsdd'}; then rebuild the book. Or unpack a local "
        f"copy of the archive: `spoken100 fetch --fsdd --zip /path/to/archive.tar.gz` (in Python: "
        f"`spoken100.baselines.fsdd.fetch_fsdd(archive=...)`); or set {ENV_FSDD} to an unpacked folder of its "
        f"recordings. Licence: {FSDD_LICENCE}."
    )


# ---- download and safe extraction ---------------------------------------------------------------


def _check_tar_members(archive: Path) -> None:
    try:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
    except (tarfile.TarError, EOFError, OSError) as err:
        raise FetchError(f"{archive}: not a valid tar archive ({err}); the download may be partial") from err
    for info in members:
        name = info.name
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
            raise FetchError(f"{archive}: refusing entry {name!r} with an absolute path")
        if ".." in parts:
            raise FetchError(f"{archive}: refusing entry {name!r} that points outside the folder ('..')")
        if info.issym() or info.islnk():
            raise FetchError(f"{archive}: refusing entry {name!r}, a link")
        if not (info.isfile() or info.isdir()):
            raise FetchError(f"{archive}: refusing entry {name!r}, not a regular file or folder")


def _unpack(archive: Path, staging: Path) -> None:
    if zipfile.is_zipfile(archive):
        check_archive_members(archive)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
    elif tarfile.is_tarfile(archive):
        _check_tar_members(archive)
        with tarfile.open(archive) as tf:
            if hasattr(tarfile, "data_filter"):
                tf.extractall(staging, filter="data")
            else:  # pragma: no cover - Python < 3.11.4; members were checked above
                tf.extractall(staging)
    else:
        raise FetchError(f"{archive}: neither a zip nor a tar archive; the download may be partial")


def _find_recordings(top: Path, max_depth: int = 3) -> Path | None:
    """The folder under ``top`` that holds the most ``{digit}_{speaker}_{take}.wav`` files."""
    best, best_count = None, 0
    for folder in [top, *[p for p in top.rglob("*") if p.is_dir()]]:
        if len(folder.relative_to(top).parts) > max_depth:
            continue
        count = sum(1 for p in folder.iterdir() if p.is_file() and _NAME.match(p.name))
        if count > best_count:
            best, best_count = folder, count
    return best


def _download(url: str, known_hash: str | None, progress: bool, timeout: float) -> Path:
    folder = data_home() / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    fname = "free-spoken-digit-dataset-" + url.rstrip("/").rsplit("/", 1)[-1]
    hint = f"Download it by hand from {FSDD_REPOSITORY} and pass it: fetch_fsdd(archive='/path/to/{fname}')."
    return retrieve(url, known_hash, fname, folder, hint, progress=progress, timeout=timeout)


def fetch_fsdd(
    url: str = FSDD_URL,
    archive: str | Path | None = None,
    destination: str | Path | None = None,
    *,
    known_hash: str | None = None,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Get FSDD into ``destination`` (default ``<data home>/fsdd``) and return that folder.

    url: the archive to download (a ``.zip`` or ``.tar.gz`` of the repository); by default the pinned
        :data:`FSDD_VERSION` release, verified against :data:`FSDD_SHA256`.
    archive: a local archive to unpack instead of downloading (no network is used).
    known_hash: sha256 the archive must have. Default: :data:`FSDD_SHA256` when downloading
        :data:`FSDD_URL`, no check for another URL or a local archive.
    progress, timeout: of the download.

    Every archive entry is checked first (no absolute paths, ``..`` or links) and the archive is unpacked
    into a temporary folder; the folder of recordings inside it replaces ``destination/recordings`` only
    when complete. An attribution file records the source, the archive's sha256 and the licence, which
    requires attribution and share-alike for any redistribution. Unpacking the same archive again is
    skipped.
    """
    destination = Path(destination) if destination is not None else data_home() / "fsdd"
    if archive is None:
        expected = known_hash or (FSDD_SHA256 if url == FSDD_URL else None)
        archive = _download(url, expected, progress, timeout)
    else:
        archive = Path(archive)
        if not archive.is_file():
            raise FetchError(f"{archive}: no such file")
    digest = sha256_file(archive)
    if known_hash and digest != known_hash.lower():
        raise FetchError(f"{archive}: sha256 {digest} does not match the expected {known_hash}")
    marker = destination / ".archive.sha256"
    if marker.is_file() and marker.read_text().strip() == digest and _has_wavs(destination):
        return destination

    destination.mkdir(parents=True, exist_ok=True)
    staging = destination / ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _unpack(archive, staging)
        found = _find_recordings(staging)
        if found is None:
            raise FetchError(f"{archive}: no {{digit}}_{{speaker}}_{{take}}.wav files inside; is this FSDD?")
        target = destination / "recordings"
        if target.exists():
            shutil.rmtree(target)
        found.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    (destination / "ATTRIBUTION.md").write_text(
        "# Free Spoken Digit Dataset (FSDD)\n\n"
        f"- Source: {FSDD_REPOSITORY} (Zohar Jackson and contributors)\n"
        f"- Archive: {archive.name}, sha256 {digest}\n"
        f"- Licence: {FSDD_LICENCE}; redistribution must keep this attribution and licence.\n"
    )
    marker.write_text(digest + "\n")
    return destination


# ---- index ---------------------------------------------------------------------------------------


def fsdd_scan(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Index an FSDD folder: ``(index, problems)``; files that cannot be used are problems, not errors.

    Columns of ``index`` (:data:`FSDD_COLUMNS`): ``path`` (relative to ``folder``), ``digit``,
    ``speaker``, ``index`` (the take), ``duration_s``, ``sample_rate``, ``channels``, ``frames``,
    ``split`` (``"test"`` for takes 0-4, the dataset's convention, else ``"train"``), ``gender`` and
    ``accent`` (``"unknown"`` for speakers not in :data:`FSDD_SPEAKERS`), ``number`` (= digit) and
    ``language`` (``"english"``) so that :func:`spoken100.data.inputs.targets` and
    :func:`spoken100.baselines.stats.accuracy_by` work unchanged, and ``sha256`` (the cache key of
    :func:`~spoken100.data.clipmap.map_clips`). Rows are sorted by speaker, digit and take.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder. {fsdd_status()}")
    wav_dir = _recordings(folder)
    rows, problems = [], []
    for item in sorted(wav_dir.iterdir()):
        rel = item.relative_to(folder).as_posix()
        if item.name.startswith(".") or item.is_dir():
            continue
        if item.suffix.lower() != ".wav":
            if wav_dir != folder:  # a README next to the recordings/ folder is expected
                problems.append((rel, "not a .wav file"))
            continue
        match = _NAME.match(item.name)
        if match is None:
            problems.append((rel, "file name is not {digit}_{speaker}_{take}.wav"))
            continue
        if item.stat().st_size == 0:
            problems.append((rel, "empty file"))
            continue
        try:
            info = clip_info(item)
        except Exception as err:  # soundfile raises LibsndfileError/RuntimeError variants
            problems.append((rel, f"unreadable audio ({str(err).strip() or type(err).__name__})"))
            continue
        if info.frames == 0:
            problems.append((rel, "no audio frames"))
            continue
        speaker = match["speaker"].lower()
        meta = FSDD_SPEAKERS.get(speaker, {"gender": "unknown", "accent": "unknown"})
        take = int(match["index"])
        rows.append({
            "path": rel, "digit": int(match["digit"]), "speaker": speaker, "index": take,
            "duration_s": info.frames / info.samplerate, "sample_rate": int(info.samplerate),
            "channels": int(info.channels), "frames": int(info.frames),
            "split": "test" if take in FSDD_TEST_TAKES else "train", "gender": meta["gender"],
            "accent": meta["accent"], "number": int(match["digit"]), "language": "english",
            "sha256": sha256_file(item),
        })  # fmt: skip
    index = pd.DataFrame(rows, columns=FSDD_COLUMNS)
    index = index.astype({"digit": int, "index": int, "sample_rate": int, "channels": int, "frames": int,
                          "number": int, "duration_s": float})  # fmt: skip
    index = index.sort_values(["speaker", "digit", "index"], ignore_index=True)
    return index, pd.DataFrame(problems, columns=PROBLEM_COLUMNS)


def fsdd_index(folder: str | Path | None = None) -> pd.DataFrame:
    """The FSDD index of ``folder`` (default :func:`fsdd_dir`); see :func:`fsdd_scan` for the columns.

    Files that cannot be used do not stop the scan: they are left out, and listed (path, problem) in
    ``index.attrs["problems"]``. Use :func:`fsdd_scan` to get them as a second return value.
    """
    if folder is None:
        folder = fsdd_dir()
        if folder is None:
            raise FileNotFoundError(fsdd_status())
    index, problems = fsdd_scan(folder)
    index.attrs["problems"] = problems
    index.attrs["folder"] = str(folder)
    return index


# ---- model inputs --------------------------------------------------------------------------------


def trim_settings(trim: bool | TrimParams | dict | None) -> dict | None:
    """``trim`` as the plain dict the per-clip functions take (``None``: no trimming); ``True`` = default rule."""
    if trim is None or trim is False:
        return None
    if trim is True:
        return TrimParams().as_dict()
    if isinstance(trim, TrimParams):
        return trim.as_dict()
    return dict(trim)


def load_trimmed(path: str | Path, trim: bool | TrimParams | dict | None = True) -> np.ndarray:
    """A clip read at 44.1 kHz like the paper's loader, with edge silence cut when ``trim`` says so.

    trim: ``True`` (the stand-in corpus's :class:`~spoken100.data.segment.TrimParams`), a ``TrimParams`` or
        its dict, or ``False``/``None`` for no trimming. A clip the rule finds silent is kept whole.
    """
    signal = load_clip(path)
    params = trim_settings(trim)
    if params is not None:
        trimmed = trim_silence(signal, SAMPLE_RATE, TrimParams(**params))
        if trimmed.size:
            signal = trimmed
    return signal


def waveform_to_input(waveform: np.ndarray, kind: str) -> np.ndarray:
    """The model input of ``kind`` from an 8,000-sample waveform (itself, or its 128 x 32 log-mel)."""
    if kind not in INPUT_SHAPES:
        raise ValueError(f"kind must be one of {', '.join(INPUT_SHAPES)}, not {kind!r}")
    return np.asarray(waveform, dtype=np.float32) if kind == "waveform" else log_mel(waveform)


def fsdd_clip_input(path: str | Path, kind: str = "logmel", trim: dict | None = None) -> dict[str, np.ndarray]:
    """One FSDD clip's model input, as ``{"input": array}``: 44.1 kHz, trimmed, 8,000 samples, log-mel.

    trim: :class:`~spoken100.data.segment.TrimParams` as a dict, or ``None`` for no trimming (a plain dict
        so that it can be part of :func:`~spoken100.data.clipmap.map_clips`' cache key).
    """
    if kind not in INPUT_SHAPES:
        raise ValueError(f"kind must be one of {', '.join(INPUT_SHAPES)}, not {kind!r}")
    return {"input": waveform_to_input(resample_to_length(load_trimmed(path, trim)), kind)}


def fsdd_inputs(
    folder: str | Path,
    index: pd.DataFrame,
    kind: str = "logmel",
    *,
    trim: bool | TrimParams = True,
    n_jobs: int = -1,
    progress: bool = True,
) -> np.ndarray:
    """Model inputs of ``kind`` for the rows of an FSDD index, ``(len(index), *INPUT_SHAPES[kind])`` float32.

    folder: the folder ``index.path`` is relative to (the one given to :func:`fsdd_index`).
    index: :func:`fsdd_index` or any subset of its rows; the output follows its order.
    kind: ``"waveform"`` (8,000 samples) or ``"logmel"`` (128 x 32), as for the corpus.
    trim: cut edge silence first (see the module docstring for why this is the default).
    n_jobs, progress: passed to :func:`~spoken100.data.clipmap.map_clips`, which caches per chunk of clips.
    """
    if kind not in INPUT_SHAPES:
        raise ValueError(f"kind must be one of {', '.join(INPUT_SHAPES)}, not {kind!r}")
    _, arrays = map_clips(
        fsdd_clip_input,
        Path(folder),
        index,
        {"kind": kind, "trim": trim_settings(trim)},
        name="spoken100.baselines.fsdd.fsdd_clip_input",
        n_jobs=n_jobs,
        progress=progress,
        desc=f"FSDD {kind} inputs",
    )
    return arrays.get("input", np.empty((0, *INPUT_SHAPES[kind]), dtype=np.float32)).astype(np.float32)


# ---- evaluation ----------------------------------------------------------------------------------


@dataclass
class DigitEvaluation:
    """A number-task model on spoken digits, read two ways.

    restricted: the prediction is the argmax over the logits of classes 0-9 only (the model is told
        the answer is a digit); ``accuracy`` and ``confusion`` (10 x 10, rows true, columns predicted)
        use it. Chance: 10 %.
    unrestricted: the argmax over all of the model's classes (0-99), as the model would answer on its
        own; ``accuracy_unrestricted`` uses it, and ``out_of_range`` is the share of clips it calls a
        number above 9 (chance: 1 %).
    per_speaker: one row per speaker with ``n``, ``accuracy`` and ``accuracy_unrestricted``.
    """

    accuracy: float
    accuracy_unrestricted: float
    out_of_range: float
    confusion: pd.DataFrame
    per_speaker: pd.DataFrame
    predictions: np.ndarray
    predictions_unrestricted: np.ndarray

    def summary(self) -> dict[str, float]:
        """The three headline numbers, for a results table."""
        return {"accuracy": self.accuracy, "accuracy_unrestricted": self.accuracy_unrestricted,
                "out_of_range": self.out_of_range}  # fmt: skip


#: FSDD's classes: the spoken digits 0-9 (restricted scoring answers among these; chance 1 / N_DIGITS).
N_DIGITS = DIGIT_CLASSES


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def digit_scores(
    logits: np.ndarray, digits: np.ndarray, speakers: np.ndarray | Sequence[str] | None = None
) -> DigitEvaluation:
    """Score class logits (or probabilities) of a number-task model on clips of the digits ``digits``.

    logits: ``(n_clips, n_classes)`` with ``n_classes >= 10``; column ``k`` is the number ``k``.
    digits: the true digit (0-9) of every clip.
    speakers: the speaker of every clip, for ``per_speaker`` (default: one group, ``"all"``).
    """
    logits = np.asarray(logits)
    digits = np.asarray(digits, dtype=np.int64)
    if logits.ndim != 2 or logits.shape[1] < N_DIGITS:
        raise ValueError(f"logits must be (n_clips, n_classes >= {N_DIGITS}), not {logits.shape}")
    if len(logits) != len(digits):
        raise ValueError(f"{len(logits)} rows of logits but {len(digits)} digits")
    if len(digits) and (digits.min() < 0 or digits.max() >= N_DIGITS):
        raise ValueError("digits must lie in 0-9")
    restricted = logits[:, :N_DIGITS].argmax(1) if len(logits) else np.zeros(0, np.int64)
    unrestricted = logits.argmax(1) if len(logits) else np.zeros(0, np.int64)
    speakers = np.asarray(speakers) if speakers is not None else np.full(len(digits), "all")
    per = pd.DataFrame({"speaker": speakers, "hit": restricted == digits, "hit_u": unrestricted == digits})
    per_speaker = (
        per.groupby("speaker", sort=True)
        .agg(n=("hit", "size"), accuracy=("hit", "mean"), accuracy_unrestricted=("hit_u", "mean"))
        .reset_index()
    )
    return DigitEvaluation(
        accuracy=_mean(restricted == digits),
        accuracy_unrestricted=_mean(unrestricted == digits),
        out_of_range=_mean(unrestricted >= N_DIGITS),
        confusion=confusion(digits, restricted, labels=range(N_DIGITS)),
        per_speaker=per_speaker,
        predictions=restricted,
        predictions_unrestricted=unrestricted,
    )


def evaluate_digits(
    model: nn.Module,
    X: np.ndarray,
    digits: np.ndarray,
    *,
    speakers: np.ndarray | Sequence[str] | None = None,
    device: str = "cpu",
) -> DigitEvaluation:
    """Run a trained number-task model (a ``torch.nn.Module``) on FSDD inputs and score it.

    model: e.g. :func:`spoken100.baselines.train.load_model` of a number-task run.
    X: its inputs (:func:`fsdd_inputs` of the model's input kind); digits, speakers: per row of ``X``.
    See :class:`DigitEvaluation` for the restricted (classes 0-9) and unrestricted readings.
    """

    from spoken100.baselines.train import predict  # deferred: torch; the per-clip input workers must not load it

    return digit_scores(predict(model, X, device), digits, speakers)
