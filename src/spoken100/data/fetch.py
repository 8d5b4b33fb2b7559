"""Download and unpack the real SpokeN-100 from Zenodo (record 10810044), safely.

A download is trusted only after it passed every check, and only then is its checksum recorded:

1. :func:`spoken100.data.download.download_resumable` fetches ``SpokeN-100.zip.part`` into
   ``<data home>/downloads`` (a dropped connection resumes; the partial file is kept between runs);
2. the file must be a complete zip archive (not an HTML page sent with HTTP 200; every entry's CRC
   correct) holding ``<language>_numbers/<Speaker>/<n>.wav`` clips (:func:`check_archive`);
3. its sha256 must equal :data:`ZENODO_SHA256` when that is known. **No published checksum or size
   of the archive was available to this project** (``paper-facts.md`` §1.4: "zip size: not found";
   Zenodo's record page was not reachable from here), so none is pinned: the first download that
   passes step 2 has its sha256 recorded in ``SpokeN-100.zip.sha256`` next to it, and every later
   download must match that record.

A file that fails is moved aside to ``SpokeN-100.zip.failed`` (replacing an earlier failed one)
and the message says so; nothing is recorded for it. ``spoken100 fetch --force`` forgets the
download, the record and the unpacked copy's marker, and starts over.

Extraction checks every entry first (no absolute paths, no ``..``, no links), unpacks into a
temporary sibling folder, and swaps it in for ``<data home>/real/SpokeN-100`` only when complete.
An archive that lies inside the folder it would replace is refused, so that no file the user
passed in is ever deleted.

The archive must hold WAV clips: the release is WAV as far as is known (paper-facts §1.4), and the
whole companion (index, audit, chapters) reads ``.wav`` files. An archive of FLAC or MP3 files is
refused at fetch with the count of files of each extension, instead of unpacking to a corpus that
then indexes to 0 clips (convert such files to 16-bit WAV first).
"""

from __future__ import annotations

import collections
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pooch
import requests

from spoken100.data import atomic
from spoken100.data.download import DownloadError, download_resumable, say_on_stderr
from spoken100.data.index import sha256_file
from spoken100.data.layout import AUDIO_SUFFIX, find_layout_root, language_of_folder
from spoken100.data.paths import data_home

ZENODO_RECORD = "10810044"
ZENODO_URL = f"https://zenodo.org/records/{ZENODO_RECORD}/files/SpokeN-100.zip?download=1"
ARCHIVE = "SpokeN-100.zip"
#: sha256 of the published archive. None: no checksum of it was published where this project could
#: read it (see the module docstring); the first verified download's checksum is recorded instead.
ZENODO_SHA256: str | None = None
LOCAL_COPY_HINT = (
    f"Download {ARCHIVE} by hand from https://zenodo.org/records/{ZENODO_RECORD} and run "
    f"`spoken100 fetch --zip /path/to/{ARCHIVE}`, or point the book at an unpacked copy: "
    "`make book DATA=/path/to/SpokeN-100`."
)
_HTML_STARTS = (b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")


class FetchError(RuntimeError):
    """The archive could not be downloaded, verified or safely unpacked."""


def check_archive_members(archive: Path) -> list[zipfile.ZipInfo]:
    """Every entry of ``archive``, after refusing absolute paths, ``..`` and links."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            bad = zf.testzip()
    except zipfile.BadZipFile as err:
        raise FetchError(f"{archive}: not a valid zip archive ({err}); the download may be partial") from err
    except (OSError, EOFError, zipfile.LargeZipFile) as err:
        raise FetchError(f"{archive}: cannot be read as a zip archive ({err})") from err
    if bad is not None:
        raise FetchError(f"{archive}: entry {bad!r} is corrupt (CRC mismatch); the download may be partial")
    for info in members:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
            raise FetchError(f"{archive}: refusing entry {name!r} with an absolute path")
        if ".." in parts:
            raise FetchError(f"{archive}: refusing entry {name!r} that points outside the folder ('..')")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise FetchError(f"{archive}: refusing entry {name!r}, a symbolic link")
    return members


def check_archive_layout(archive: Path, members: list[zipfile.ZipInfo]) -> int:
    """The number of ``.wav`` clips in the archive's language folders; refuse an archive with none.

    The message counts the files of each extension found there (e.g. ``1,200 .flac``), so an
    archive of FLAC or MP3 files says what it holds instead of unpacking to an empty corpus.
    """
    found: collections.Counter[str] = collections.Counter()
    clips = language_folders = 0
    for info in members:
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        where = [i for i, part in enumerate(parts) if language_of_folder(part)]
        if not where:
            continue
        language_folders += 1
        if info.is_dir() or len(parts) - where[0] != 3:  # <language>_numbers/<Speaker>/<file>
            continue
        suffix = PurePosixPath(parts[-1]).suffix.lower() or "(no extension)"
        found[suffix] += 1
        clips += suffix == AUDIO_SUFFIX
    if not language_folders:
        raise FetchError(f"{archive}: no <language>_numbers folders inside; is this the SpokeN-100 archive?")
    if not clips:
        what = ", ".join(f"{n:,} {ext}" for ext, n in found.most_common()) or "no files"
        raise FetchError(
            f"{archive}: no {AUDIO_SUFFIX} clips in the <language>_numbers/<Speaker>/ folders (found: {what}); "
            f"the companion reads {AUDIO_SUFFIX} clips only: convert the clips to 16-bit WAV first"
        )
    return clips


def check_archive(archive: Path) -> int:
    """Check ``archive`` completely (a zip, safe entries, intact, WAV clips); return its clip count."""
    archive = Path(archive)
    with open(archive, "rb") as fh:
        start = fh.read(512).lstrip().lower()
    if start.startswith(_HTML_STARTS):
        raise FetchError(
            f"{archive}: an HTML page, not a zip archive (the server answered with a web page, e.g. an error, "
            "a login or a rate limit)"
        )
    return check_archive_layout(archive, check_archive_members(archive))


def _inside(path: Path, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except OSError:
        return False


def extract_safely(archive: Path, destination: Path) -> Path:
    """Unpack ``archive`` to ``destination/SpokeN-100`` after checking it; return the layout root.

    The archive is unpacked into a temporary sibling folder; only when that is complete does it
    replace ``destination/SpokeN-100`` (the earlier copy is moved aside first and put back if the
    swap fails). An archive lying inside ``destination/SpokeN-100`` is refused before anything is
    touched, since swapping would delete it.
    """
    archive, destination = Path(archive), Path(destination)
    final = destination / "SpokeN-100"
    if _inside(archive, final):
        raise FetchError(
            f"{archive}: lies inside {final}, which unpacking replaces; move the archive elsewhere "
            f"(e.g. {destination.parent / 'downloads'}) and run the command again"
        )
    check_archive(archive)
    destination.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".SpokeN-100.partial-", dir=destination))
    old = None
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
        root = find_layout_root(staging)
        if root is None:
            raise FetchError(f"{archive}: no <language>_numbers folders inside; is this the SpokeN-100 archive?")
        if root == staging:  # the archive has no top folder: make one to rename
            root = staging / "SpokeN-100"
            root.mkdir()
            for child in list(staging.iterdir()):
                if child != root:
                    child.rename(root / child.name)
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=".SpokeN-100.old-", dir=destination))
            final.rename(old / "SpokeN-100")
        try:
            root.rename(final)
        except OSError:
            if old is not None:
                (old / "SpokeN-100").rename(final)
                old = None
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return final


def retrieve(
    url: str,
    known_sha256: str | None,
    fname: str,
    folder: Path,
    hint: str,
    *,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``folder/fname`` with pooch, verifying ``known_sha256`` when given.

    Every failure becomes a :class:`FetchError` that ends with ``hint`` (how to use a local copy).
    """
    try:
        return Path(pooch.retrieve(
            url, known_hash=f"sha256:{known_sha256}" if known_sha256 else None, fname=fname, path=folder,
            progressbar=progress, downloader=pooch.HTTPDownloader(progressbar=progress, timeout=timeout),
        ))  # fmt: skip
    except requests.exceptions.HTTPError as err:
        raise FetchError(f"could not download {url}: {err}.\n{hint}") from err
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
        raise FetchError(f"could not download {url}: {err.__class__.__name__} (offline?).\n{hint}") from err
    except requests.exceptions.RequestException as err:  # e.g. ChunkedEncodingError: the connection dropped
        raise FetchError(f"could not download {url}: {err.__class__.__name__}; run it again.\n{hint}") from err
    except ValueError as err:  # pooch: checksum mismatch (the bad file is removed)
        raise FetchError(f"{url}: {err}\n{hint}") from err


def move_aside(path: Path) -> Path:
    """Move a file that failed its checks to ``<name>.failed`` (replacing an earlier one); return that."""
    failed = path.with_name(f"{path.name.removesuffix('.part')}.failed")
    os.replace(path, failed)
    return failed


def _verify(path: Path, record: Path) -> str:
    """Check a downloaded file completely and return its sha256; move it aside and raise if it fails.

    The archive checks run every time, also for a file whose checksum was recorded before: an
    earlier version of this companion recorded checksums of files it had not checked.
    """
    try:
        check_archive(path)
        digest = sha256_file(path)
        known = record.read_text().strip() if record.is_file() else None
        if ZENODO_SHA256 is not None and digest != ZENODO_SHA256:
            raise FetchError(f"{path}: sha256 {digest} is not the published archive's ({ZENODO_SHA256})")
        if known and digest != known:
            raise FetchError(
                f"{path}: sha256 {digest} does not match the one recorded at the first download in {record} "
                f"({known}). If that first download was bad, start over with `spoken100 fetch --force`"
            )
    except FetchError as err:
        failed = move_aside(path)
        raise FetchError(f"{err}\nThe file was moved to {failed}; nothing was recorded for it.") from None
    return digest


def forget_download(folder: Path) -> list[Path]:
    """Delete the download, its partial file and its recorded checksum (``fetch --force``); return them."""
    gone = []
    for name in (ARCHIVE, f"{ARCHIVE}.part", f"{ARCHIVE}.sha256"):
        path = Path(folder) / name
        if path.is_file():
            path.unlink()
            gone.append(path)
    return gone


def download(
    url: str = ZENODO_URL,
    folder: Path | None = None,
    timeout: float = 30.0,
    progress: bool = True,
    *,
    force: bool = False,
    attempts: int | None = None,
    backoff_s: float = 2.0,
    say: Callable[[str], None] = say_on_stderr,
) -> Path:
    """Download the archive to ``folder/SpokeN-100.zip``, verified before it is trusted (module docstring).

    An earlier complete download is reused when it still passes; one that fails is moved aside
    and downloaded again. ``force`` forgets the earlier download and its record first.
    """
    folder = Path(folder) if folder is not None else data_home() / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    target, part, record = folder / ARCHIVE, folder / f"{ARCHIVE}.part", folder / f"{ARCHIVE}.sha256"
    if force:
        for path in forget_download(folder):
            say(f"--force: deleted {path}")
    if target.is_file():
        try:
            digest = _verify(target, record)
        except FetchError as err:
            say(f"the earlier download failed its check and is downloaded again: {err}")
        else:
            if not record.is_file():
                atomic.write_text(record, digest + "\n")
            return target
    if part.is_file():
        say(f"resuming the partial download {part} ({part.stat().st_size:,} bytes)")
    try:
        download_resumable(
            url, part, timeout=timeout, progress=progress, backoff_s=backoff_s, say=say,
            **({"attempts": attempts} if attempts else {}),
        )  # fmt: skip
    except DownloadError as err:
        raise FetchError(f"{err}.\n{LOCAL_COPY_HINT}") from err
    try:
        digest = _verify(part, record)
    except FetchError as err:
        raise FetchError(f"{url}: the download failed its check: {err}\n{LOCAL_COPY_HINT}") from None
    os.replace(part, target)
    if not record.is_file():
        atomic.write_text(record, digest + "\n")
        say(f"recorded the sha256 of {target} in {record}; later downloads must match it")
    return target


def fetch(
    url: str = ZENODO_URL,
    archive: Path | None = None,
    destination: Path | None = None,
    progress: bool = True,
    *,
    force: bool = False,
    say: Callable[[str], None] = say_on_stderr,
    **download_options,
) -> Path:
    """Get the real SpokeN-100 into ``<data home>/real/SpokeN-100`` and return that folder.

    archive: a local copy of ``SpokeN-100.zip`` to use instead of downloading (never modified,
        moved or deleted).
    force: download again (forgetting the earlier download and its recorded checksum) and unpack
        again even when the unpacked copy is up to date.
    """
    destination = Path(destination) if destination is not None else data_home() / "real"
    if archive is None:
        archive = download(url, progress=progress, force=force, say=say, **download_options)
    elif not Path(archive).is_file():
        raise FetchError(f"{archive}: no such file")
    marker = destination / "SpokeN-100.sha256"
    digest = sha256_file(Path(archive))
    final = destination / "SpokeN-100"
    if not force and marker.is_file() and marker.read_text().strip() == digest and final.is_dir():
        return final
    root = extract_safely(Path(archive), destination)
    atomic.write_text(marker, digest + "\n")
    return root
