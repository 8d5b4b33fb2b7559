"""Wall-clock timing of the chapter's steps, recorded into one dict for its "Time" table.

Chapter 3 reports how long each step took (near zero where a cached result was reused). Every
step used to repeat ``started = time.perf_counter(); ...; timing[name] = time.perf_counter() - started``;
:func:`timed` is that pattern as a context manager, so each cell states only what it times.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager


@contextmanager
def timed(timing: MutableMapping[str, float], name: str) -> Iterator[None]:
    """Record the seconds the ``with`` block takes as ``timing[name]`` (``time.perf_counter``).

    The entry is written when the block finishes; a block that raises records nothing, as the
    inline pattern did. A name timed again is overwritten.
    """
    started = time.perf_counter()
    yield
    timing[name] = time.perf_counter() - started
