"""Atomic file writes: write to a temporary file in the same folder, then rename.

A crash or an interrupt never leaves a half-written artefact under the final name. The file gets
the permissions a plain ``open(target, "w")`` would give it (``0666`` less the umask), not the
``0600`` of :func:`tempfile.mkstemp`, so that outputs stay readable by whoever the user shares
them with.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back: there is no other portable way)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    Raises :class:`IsADirectoryError` (naming ``target``) before anything is written when
    ``target`` is an existing folder: renaming a file onto it would fail only at the end.
    """
    target = Path(target)
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name", str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.part-", suffix=target.suffix, dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
    finally:
        os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(target: Path, data: bytes) -> None:
    """Atomically write ``data`` to ``target``."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: Path, text: str) -> None:
    """Atomically write ``text`` (UTF-8) to ``target``."""
    write_bytes(target, text.encode("utf-8"))


def write_text_if_changed(target: Path, text: str) -> bool:
    """Write only when the content differs, so that Make sees an unchanged timestamp.

    Returns True when the file was (re)written.
    """
    target = Path(target)
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return False
    write_text(target, text)
    return True


def write_json(target: Path, obj: Any, if_changed: bool = False) -> bool:
    """Atomically write ``obj`` as indented, key-sorted JSON (stable bytes for the same object)."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if if_changed:
        return write_text_if_changed(target, text)
    write_text(target, text)
    return True
