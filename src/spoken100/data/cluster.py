"""Run many independent tasks on a Dask cluster without a shared filesystem, losing nothing.

The paper profile spreads two kinds of work: baseline training runs (model x task x fold) and
architecture-search candidate evaluations. Both are functions that write their artefacts under
the data home (:func:`spoken100.data.paths.data_home`) and are skipped when the artefact exists.
This module sends such functions to Dask workers and brings their artefacts back:

1. the client connects to a scheduler (:func:`connect`; the address comes from the caller, a
   profile key, or the ``SPOKEN100_DASK_SCHEDULER`` environment variable, :func:`scheduler_address`);
2. each task runs on a worker through :func:`run_isolated`: in a fresh, private data home, after
   checking that the worker runs the same code as the client (:func:`~spoken100.data.codehash.code_fingerprint`
   of the function), and returns its value together with every file it wrote, as bytes;
3. the client writes those files under its own data home (:func:`store_files`), each atomically,
   with a run's completion marker (``result.json``) last, so a run is never found finished with
   a file missing;
   a file that exists already is never written again.

So workers need the ``spoken100`` package at the client's commit and nothing else: no corpus, no
shared folder (the inputs travel with the tasks, scattered once to every worker with :func:`share`).

**Faults.** When a worker dies mid-task, Dask's scheduler reruns the task on another worker (up to
its ``distributed.scheduler.allowed-failures``, 3 by default); nothing of the dead attempt reaches
the client, because files travel only with a finished result. :func:`run_tasks` stores each
result as it arrives, and when the client itself is interrupted (Ctrl-C) it cancels what is still
pending: every finished task's artefacts are in place and a rerun submits only the rest.

Start the cluster with Dask's own commands (README, "Running on a cluster or a GPU")::

    dask scheduler --port 8786
    dask worker tcp://SCHEDULER:8786 --nthreads 1 --nworkers 4
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from spoken100.data import atomic
from spoken100.data.codehash import code_fingerprint
from spoken100.data.paths import ENV_HOME, data_home

#: The environment variable holding the scheduler's address (e.g. ``tcp://10.0.0.5:8786``).
ENV_SCHEDULER = "SPOKEN100_DASK_SCHEDULER"

#: File names that mark an artefact as complete; written after every other file of their folder.
DONE_MARKERS = frozenset({"result.json"})

#: Seconds to wait for the scheduler before giving up with a clear message.
CONNECT_TIMEOUT_S = 30

# One task at a time per worker process may own the data home: the environment is process-wide.
_HOME_LOCK = threading.Lock()


class ClusterError(RuntimeError):
    """The cluster cannot be reached or does not run the client's code; the message says which."""


@dataclass(frozen=True)
class Task:
    """One unit of work: a unique ``key`` (also Dask's task key), the arguments, and a label."""

    key: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    label: str = ""


def scheduler_address(explicit: str | None = None) -> str | None:
    """The scheduler to use: ``explicit`` (a profile key or argument), else ``$SPOKEN100_DASK_SCHEDULER``.

    ``None`` means no cluster: the caller runs locally, as it always has.
    """
    address = explicit or os.environ.get(ENV_SCHEDULER) or None
    return address.strip() if address else None


def connect(address: str, timeout: float = CONNECT_TIMEOUT_S):
    """A :class:`distributed.Client` for ``address``; :class:`ClusterError` in one line if unreachable.

    The client is not made Dask's default, so nothing else in the process is redirected to it.
    """
    from distributed import Client  # deferred: importing distributed costs a second; only cluster runs need it

    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ClusterError(
            f"could not reach the Dask scheduler at {address} ({ENV_SCHEDULER} or the profile's scheduler key): {reason}"
        ) from None


def share(client, value: Any, timeout: float = CONNECT_TIMEOUT_S):
    """Send ``value`` (e.g. the model inputs) to every worker once; pass the returned future to tasks.

    Waits up to ``timeout`` seconds for a first worker (workers may still be starting, or
    restarting after a crash); :class:`ClusterError` in one line if none comes.
    """
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise ClusterError(f"no Dask worker joined the scheduler at {client.scheduler.address} within "
                           f"{timeout:.0f} s; start some with `dask worker`") from None  # fmt: skip
    return client.scatter([value], broadcast=True, hash=False)[0]  # in a list: a dict would be split by key


def _written_files(home: Path) -> list[tuple[str, bytes]]:
    """Every file under ``home`` as ``(relative path, bytes)``, markers last, the rest by modification time.

    Files stamped in the same clock tick come in name order; only the markers' place matters (they
    must land after the files they vouch for).
    """
    paths = [p for p in home.rglob("*") if p.is_file()]
    paths.sort(key=lambda p: (p.name in DONE_MARKERS, p.stat().st_mtime_ns, str(p)))
    return [(p.relative_to(home).as_posix(), p.read_bytes()) for p in paths]


def run_isolated(function: Callable, fingerprint: str, /, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Worker side: run ``function(*args, **kwargs)`` in a private data home; return value and files.

    fingerprint: the client's :func:`code_fingerprint` of ``function``. A worker whose code differs
    refuses the task (its artefacts would be filed under keys of code it does not run).
    Returns ``{"value": ..., "files": [(relative path, bytes), ...]}``; the private data home is
    deleted afterwards, so a worker keeps nothing between tasks.
    """
    mine = code_fingerprint(function)
    if mine != fingerprint:
        raise ClusterError(
            f"this worker runs other code than the client ({function.__qualname__}: {mine[:12]} here, "
            f"{fingerprint[:12]} there); install the client's commit of spoken100 on every worker"
        )
    with _HOME_LOCK:
        previous = os.environ.get(ENV_HOME)
        home = Path(tempfile.mkdtemp(prefix="spoken100-task-"))
        os.environ[ENV_HOME] = str(home)
        try:
            value = function(*args, **kwargs)
            return {"value": value, "files": _written_files(home)}
        finally:
            if previous is None:
                os.environ.pop(ENV_HOME, None)
            else:
                os.environ[ENV_HOME] = previous
            shutil.rmtree(home, ignore_errors=True)


def store_files(files: Iterable[tuple[str, bytes]], home: Path | None = None) -> list[Path]:
    """Write a task's files under ``home`` (the client's data home), atomically and in order.

    A file that exists is left as it is (a result is never written twice); a path that would leave
    ``home`` is refused. Returns the paths written.
    """
    home = Path(home or data_home()).resolve()
    written = []
    for relative, data in files:
        target = (home / relative).resolve()
        if not target.is_relative_to(home):
            raise ClusterError(f"a task returned a file outside the data home: {relative}")
        if target.exists():
            continue
        atomic.write_bytes(target, data)
        written.append(target)
    return written


def run_tasks(
    client,
    function: Callable,
    tasks: Sequence[Task],
    on_result: Callable[[Task, Any], None],
    *,
    on_error: Callable[[Task, BaseException], bool] | None = None,
    retries: int = 0,
    progress: bool = True,
    desc: str = "tasks",
) -> None:
    """Run ``function`` for every task on the cluster; store each result's files, then call ``on_result``.

    Results are handled in the order they finish. A task that fails (it raised, or it killed
    workers until the scheduler gave up: ``distributed.KilledWorker``) goes to ``on_error``, which
    returns ``True`` when it handled it (e.g. recorded a crashed candidate); otherwise the first
    such error is raised here once every other task has finished and been stored, so one failure
    never throws away work in flight. retries: reruns of a task that raised (0 by default: the
    tasks are deterministic, and a dead worker is handled by the scheduler itself). On any exit,
    including Ctrl-C, the tasks still pending are cancelled.
    """
    from distributed import as_completed  # deferred: see connect

    if not tasks:
        return
    fingerprint = code_fingerprint(function)
    home = data_home()  # resolved once: a task run in this process swaps the environment's home
    by_key = {task.key: task for task in tasks}
    if len(by_key) != len(tasks):
        raise ClusterError("task keys must be unique")
    futures = [
        client.submit(run_isolated, function, fingerprint, *task.args, key=task.key, retries=retries, pure=False,
                      **task.kwargs)
        for task in tasks
    ]  # fmt: skip
    failures: list[BaseException] = []
    try:
        with tqdm(total=len(tasks), desc=desc, unit="task", disable=not progress) as bar:
            for future in as_completed(futures, loop=client.loop):
                task = by_key[future.key]
                if future.status == "finished":
                    result = future.result()
                    store_files(result["files"], home)
                    on_result(task, result["value"])
                else:
                    error = (future.exception() if future.status == "error"
                             else ClusterError(f"task {task.key} was {future.status} by the cluster"))  # fmt: skip
                    if not (on_error and on_error(task, error)):
                        failures.append(error)
                bar.update(1)
    finally:
        client.cancel([f for f in futures if not f.done()])
    if failures:
        raise failures[0]
