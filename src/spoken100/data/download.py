"""Download one large file over HTTP: resumed after a dropped connection, never a traceback.

:func:`download_resumable` streams ``url`` into a ``.part`` file with :mod:`requests`. When the
connection drops (``ChunkedEncodingError``, a reset, a read timeout, a body shorter than its
``Content-Length``), it says so and continues from the bytes it has, with an HTTP ``Range``
request; a server that ignores ranges gets the download again from the start, which is said too.
The partial file is kept between runs, so the next call resumes where the last one stopped.

This module only moves bytes. Whether the file is what was asked for (an archive rather than an
HTML error page, the right checksum) is for the caller to decide before it trusts the file:
:mod:`spoken100.data.fetch` validates, then records or compares checksums.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests
from tqdm import tqdm

#: How many times one call tries before giving up, as long as the tries bring new bytes.
ATTEMPTS = 5
#: Bytes per read: a dropped connection loses at most the block being read.
CHUNK = 1 << 16
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class DownloadError(RuntimeError):
    """The file could not be downloaded; the message says why and what was kept."""


def say_on_stderr(message: str) -> None:
    """Default reporter: one line on stderr (stdout stays for the command's result)."""
    print(message, file=sys.stderr, flush=True)


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def _resumes_at(response: requests.Response, offset: int) -> tuple[bool, int | None]:
    """Whether ``response`` continues a download at ``offset``, and the full size when it says."""
    length = response.headers.get("Content-Length")
    if response.status_code == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match and int(match.group(1)) == offset:
            return True, None if match.group(3) == "*" else int(match.group(3))
        return False, None
    return False, int(length) if length and length.isdigit() else None


def download_resumable(
    url: str,
    part: Path,
    *,
    timeout: float = 30.0,
    attempts: int = ATTEMPTS,
    backoff_s: float = 2.0,
    progress: bool = True,
    say: Callable[[str], None] = say_on_stderr,
) -> Path:
    """Download ``url`` into ``part`` (continuing what is there) and return ``part`` when complete.

    Raises :class:`DownloadError` when the server refuses (HTTP error), cannot be reached, or the
    connection keeps dropping; the bytes received so far stay in ``part`` for the next call.
    A server that never answers, before any byte has arrived (offline, a wrong address), is not retried.
    """
    part = Path(part)
    part.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        offset = _size(part)
        before = offset
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        answered = False
        try:
            with requests.get(url, stream=True, timeout=timeout, headers=headers) as response:
                answered = True
                if response.status_code == 416 and offset:  # the kept part does not fit this file
                    say(f"{part}: the server cannot continue this partial download; starting again from 0 bytes")
                    part.unlink()
                    continue
                response.raise_for_status()
                resumed, total = _resumes_at(response, offset)
                if offset and not resumed:
                    say(f"{url}: the server does not resume downloads; starting again from 0 bytes")
                    offset = 0
                if total is None and not resumed:
                    length = response.headers.get("Content-Length", "")
                    total = int(length) if length.isdigit() else None
                with (
                    open(part, "ab" if resumed else "wb") as fh,
                    tqdm(total=total, initial=offset, unit="B", unit_scale=True, desc=part.name,
                         disable=not progress, file=sys.stderr) as bar,
                ):  # fmt: skip
                    for block in response.iter_content(CHUNK):
                        fh.write(block)
                        bar.update(len(block))
            got = _size(part)
            if total is not None and got < total:
                raise requests.exceptions.ChunkedEncodingError(f"the body ended after {got:,} of {total:,} bytes")
            return part
        except requests.exceptions.HTTPError as err:
            raise DownloadError(f"could not download {url}: {err}") from err
        except requests.exceptions.RequestException as err:
            got = _size(part)
            what = f"{type(err).__name__}: {_reason(err)}"
            if not answered and before == 0:
                raise DownloadError(
                    f"could not download {url}: {what} (no answer: offline, or a wrong address?)"
                ) from err
            if attempt == attempts:
                raise DownloadError(
                    f"could not download {url}: the connection dropped {attempts} times ({what}); the "
                    f"{got:,} bytes received are kept in {part}, and the next fetch resumes from there"
                ) from err
            say(
                f"{url}: the connection dropped after {got:,} bytes ({what}); "
                f"resuming (try {attempt + 1} of {attempts}) ..."
            )
            time.sleep(backoff_s * attempt)
    raise DownloadError(f"could not download {url}: the server kept refusing to continue the download")


def _reason(err: BaseException) -> str:
    """The first line of a requests error, shortened (they nest urllib3's errors several deep)."""
    return (str(err).strip() or type(err).__name__).splitlines()[0][:300]
