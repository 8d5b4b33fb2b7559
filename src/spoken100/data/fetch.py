"""Download and unpack the real SpokeN-100 from Zenodo (record 10810044), safely.

The download goes through pooch (progress bar, temporary file, checksum). Zenodo's checksum of
the archive was not available to this project, so the first download records its sha256 next to
the archive and every later use verifies against that record. Extraction checks every entry
first (no absolute paths, no ``..``, no links) and unpacks into a temporary folder that is
renamed into place only when complete.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

import pooch
import requests

from spoken100.data.index import sha256_file
from spoken100.data.layout import find_layout_root
from spoken100.data.paths import data_home

ZENODO_RECORD = "10810044"
ZENODO_URL = f"https://zenodo.org/records/{ZENODO_RECORD}/files/SpokeN-100.zip?download=1"
ARCHIVE = "SpokeN-100.zip"
LOCAL_COPY_HINT = (
    f"Download {ARCHIVE} by hand from https://zenodo.org/records/{ZENODO_RECORD} and run "
    f"`spoken100 fetch --zip /path/to/{ARCHIVE}`, or point the book at an unpacked copy: "
    "`make book DATA=/path/to/SpokeN-100`."
)


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


def extract_safely(archive: Path, destination: Path) -> Path:
    """Unpack ``archive`` to ``destination/SpokeN-100`` after checking it; return the layout root."""
    archive, destination = Path(archive), Path(destination)
    check_archive_members(archive)
    final = destination / "SpokeN-100"
    staging = destination / ".SpokeN-100.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
        root = find_layout_root(staging)
        if root is None:
            raise FetchError(f"{archive}: no <language>_numbers folders inside; is this the SpokeN-100 archive?")
        if final.exists():
            shutil.rmtree(final)
        root.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
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
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
        raise FetchError(f"could not download {url}: {err.__class__.__name__} (offline?).\n{hint}") from err
    except requests.exceptions.HTTPError as err:
        raise FetchError(f"could not download {url}: {err}.\n{hint}") from err
    except ValueError as err:  # pooch: checksum mismatch (the bad file is removed)
        raise FetchError(f"{url}: {err}\n{hint}") from err


def download(url: str = ZENODO_URL, folder: Path | None = None, timeout: float = 30.0, progress: bool = True) -> Path:
    """Download the archive with pooch, verified against the recorded checksum when there is one."""
    folder = Path(folder) if folder is not None else data_home() / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / f"{ARCHIVE}.sha256"
    known = record.read_text().strip() if record.is_file() else None
    path = retrieve(url, known, ARCHIVE, folder, LOCAL_COPY_HINT, progress=progress, timeout=timeout)
    if known is None:
        record.write_text(sha256_file(path) + "\n")
    return path


def fetch(url: str = ZENODO_URL, archive: Path | None = None, destination: Path | None = None,
          progress: bool = True) -> Path:  # fmt: skip
    """Get the real SpokeN-100 into ``<data home>/real/SpokeN-100`` and return that folder.

    archive: a local copy of ``SpokeN-100.zip`` to use instead of downloading.
    """
    destination = Path(destination) if destination is not None else data_home() / "real"
    if archive is None:
        archive = download(url, progress=progress)
    elif not Path(archive).is_file():
        raise FetchError(f"{archive}: no such file")
    marker = destination / "SpokeN-100.sha256"
    digest = sha256_file(Path(archive))
    if marker.is_file() and marker.read_text().strip() == digest and (destination / "SpokeN-100").is_dir():
        return destination / "SpokeN-100"
    root = extract_safely(Path(archive), destination)
    marker.write_text(digest + "\n")
    return root
