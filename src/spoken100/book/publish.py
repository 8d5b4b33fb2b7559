"""Put a freshly rendered book in place without ever leaving a half-copied site behind.

The HTML is copied next to the destination first, then swapped in with renames. If the build
failed there is nothing to copy and the last good site stays where readers find it.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def publish_html(built: Path, dest: Path) -> Path:
    """Replace ``dest`` with a copy of the rendered site ``built``; return ``dest``.

    built: jupyter-book's output folder (``<book>/_build/html``); it must hold ``index.html``.
    dest: where readers open the book (``_build/html`` by default).

    Raises FileNotFoundError, naming the folder, when ``built`` has no ``index.html``; ``dest`` is
    then left as it was.
    """
    built, dest = Path(built), Path(dest)
    if not (built / "index.html").is_file():
        raise FileNotFoundError(f"{built}: no index.html - the book was not rendered; {dest} is left as it was")
    new, old = dest.with_name(dest.name + ".new"), dest.with_name(dest.name + ".old")
    for leftover in (new, old):
        shutil.rmtree(leftover, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(built, new)
    if dest.exists():
        dest.rename(old)
    new.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest
