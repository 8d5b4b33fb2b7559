"""Dask cluster runs: the same artefacts as a local run, nothing lost when a worker dies or the client stops.

The integration tests start a real :class:`distributed.LocalCluster` (two worker processes, one
thread each, loopback only) once for the module.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from spoken100.baselines.experiment import plan_runs, run_all
from spoken100.data import cluster
from spoken100.data.splits import Fold

distributed = pytest.importorskip("distributed")

SPEAKERS = ["a", "b", "c", "d", "e", "f"]
GENDERS = dict(zip(SPEAKERS, ["female", "male"] * 3, strict=True))
FOLDS = [Fold(1, ("a", "b", "c", "d"), ("e", "f")), Fold(2, ("c", "d", "e", "f"), ("a", "b"))]


def _data(n_per_speaker: int = 32):
    rng = np.random.default_rng(0)
    speakers = np.repeat(SPEAKERS, n_per_speaker)
    y = np.tile(np.arange(4), len(speakers) // 4)
    X = rng.normal(size=(len(speakers), 128, 32)).astype(np.float32)
    X[:, :8, :] += y[:, None, None]
    return X, y, speakers


def _specs(epochs: int = 2):
    """Four runs of about a second each on one thread: long enough to kill a worker in the middle of one."""
    return plan_runs(["cnn_2d"], ["language"], FOLDS, ["paper", "honest"], epochs=epochs, genders=GENDERS,
                     corpus_digest="synthetic", n_val_speakers=2, batch_size=8, max_batches=None,
                     speakers_present=SPEAKERS)  # fmt: skip


def _run(specs, home: Path, monkeypatch, **kwargs):
    monkeypatch.setenv("SPOKEN100_HOME", str(home))
    X, y, speakers = _data()
    return run_all(specs, {"logmel": X}, {"language": y}, speakers, threads=1, progress=False, **kwargs)


def _without_timings(value):
    """``value`` with every ``seconds``/``*_seconds`` key dropped, at any depth (timings differ run to run)."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if not (k == "seconds" or k.endswith("_seconds"))}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _artefacts(home: Path, stage: str = "runs") -> dict[str, object]:
    """Every file under ``cache/<stage>``, comparable across machines (timings and where it ran left out)."""
    out: dict[str, object] = {}
    for path in sorted((home / "cache" / stage).rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(home).as_posix()
        if path.suffix == ".json":
            record = _without_timings(json.loads(path.read_text()))
            if isinstance(record, dict) and isinstance(record.get("config"), dict):
                record["config"].pop("scheduler")  # where a search ran, stated with its settings
            out[name] = record
        elif path.suffix == ".npz":
            with np.load(path) as stored:
                out[name] = {k: stored[k].tolist() for k in stored.files}
        elif path.suffix == ".pt":
            out[name] = {k: v.tolist() for k, v in torch.load(path, weights_only=True).items()}
        else:
            out[name] = path.read_bytes()
    return out


@pytest.fixture(scope="module")
def local_cluster():
    import dask

    # one death per task is forgiven, a second gives up on it (KilledWorker): keeps the crash test short
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=40) as lc:  # fmt: skip
        yield lc


@pytest.fixture(scope="module")
def local_artefacts(tmp_path_factory):
    """The local run's artefacts, the yardstick of every cluster run."""
    home = tmp_path_factory.mktemp("local")
    with pytest.MonkeyPatch.context() as mp:
        _run(_specs(), home, mp)
    return _artefacts(home)


# ---- the pieces, without a cluster ------------------------------------------------------------
def test_the_scheduler_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(cluster.ENV_SCHEDULER, raising=False)
    assert cluster.scheduler_address() is None
    monkeypatch.setenv(cluster.ENV_SCHEDULER, " tcp://10.0.0.5:8786 ")
    assert cluster.scheduler_address() == "tcp://10.0.0.5:8786"
    assert cluster.scheduler_address("tcp://other:1") == "tcp://other:1"


def test_an_unreachable_scheduler_is_one_clear_line():
    with pytest.raises(cluster.ClusterError) as err:
        cluster.connect("tcp://127.0.0.1:9", timeout=2)
    message = str(err.value)
    assert "tcp://127.0.0.1:9" in message and cluster.ENV_SCHEDULER in message and "\n" not in message


def _writes_three_files(n: int) -> int:
    from spoken100.data.paths import cache_dir

    folder = cache_dir("demo", f"run{n}")
    (folder / "result.json").write_text("{}")  # the marker written first must still come back last
    time.sleep(0.01)
    (folder / "weights.pt").write_bytes(b"w" * n)
    time.sleep(0.01)
    (folder / "predictions.npz").write_bytes(b"p")
    return n * 10


def test_a_task_runs_in_a_private_home_and_returns_its_files_markers_last(isolated_home):
    result = cluster.run_isolated(_writes_three_files, cluster.code_fingerprint(_writes_three_files), 3)
    assert result["value"] == 30
    names = [name for name, _ in result["files"]]
    assert names == ["cache/demo/run3/weights.pt", "cache/demo/run3/predictions.npz", "cache/demo/run3/result.json"]
    assert dict(result["files"])["cache/demo/run3/weights.pt"] == b"www"
    assert not (isolated_home / "cache" / "demo").exists()  # nothing written into the caller's home
    assert os.environ["SPOKEN100_HOME"] == str(isolated_home)  # the environment is put back


def test_a_worker_with_other_code_refuses_the_task():
    with pytest.raises(cluster.ClusterError, match="other code than the client"):
        cluster.run_isolated(_writes_three_files, "0" * 64, 1)


def test_stored_files_are_never_written_twice_nor_outside_the_home(isolated_home):
    files = [("cache/x/a.bin", b"new"), ("cache/x/result.json", b"{}")]
    (isolated_home / "cache" / "x").mkdir(parents=True)
    (isolated_home / "cache" / "x" / "a.bin").write_bytes(b"old")
    written = cluster.store_files(files, isolated_home)
    assert [p.name for p in written] == ["result.json"]
    assert (isolated_home / "cache" / "x" / "a.bin").read_bytes() == b"old"
    with pytest.raises(cluster.ClusterError, match="outside the data home"):
        cluster.store_files([("../escape.txt", b"x")], isolated_home)
    assert not (isolated_home.parent / "escape.txt").exists()


# ---- a real LocalCluster ------------------------------------------------------------------------
def test_cross_validation_on_the_cluster_gives_the_local_artefacts(local_cluster, local_artefacts, tmp_path,
                                                                   monkeypatch):  # fmt: skip
    home = tmp_path / "cluster"
    results = _run(_specs(), home, monkeypatch, scheduler=local_cluster.scheduler_address)
    assert all(r.folder.is_relative_to(home) for r in results)
    assert _artefacts(home) == local_artefacts
    assert not list(home.rglob(".*part*"))  # no temporary file left behind

    submitted = []
    monkeypatch.setattr(cluster, "run_tasks", lambda client, fn, tasks, **kw: submitted.append(tasks))
    _run(_specs(), home, monkeypatch, scheduler=local_cluster.scheduler_address)
    assert not submitted  # a rerun finds every run finished and submits nothing


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(local_cluster, local_artefacts, tmp_path, monkeypatch):
    address = local_cluster.scheduler_address
    killed: list[int] = []

    def kill_a_busy_worker():
        with distributed.Client(address, set_as_default=False) as watcher:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed:
                busy = [w for w, keys in watcher.processing().items() if any("train_run-" in str(k) for k in keys)]
                if busy:
                    pid = watcher.run(os.getpid, workers=[busy[0]])[busy[0]]
                    time.sleep(0.2)  # let the run get going on it
                    if any("train_run-" in str(k) for k in watcher.processing().get(busy[0], ())):
                        os.kill(pid, signal.SIGKILL)  # still in the middle of that run
                        killed.append(pid)
                time.sleep(0.05)

    watcher = threading.Thread(target=kill_a_busy_worker)
    watcher.start()
    home = tmp_path / "cluster"
    _run(_specs(), home, monkeypatch, scheduler=address)
    watcher.join()
    assert killed, "the test never saw a worker busy with a run"
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)  # that worker is gone, yet every run finished
    assert _artefacts(home) == local_artefacts


def test_an_interrupted_client_keeps_finished_runs_and_the_rerun_resumes(local_cluster, local_artefacts, tmp_path,
                                                                         monkeypatch):  # fmt: skip
    address = local_cluster.scheduler_address
    real_store = cluster.store_files
    stored = []

    def interrupt_at_the_second_result(files, home=None):
        if stored:
            raise KeyboardInterrupt
        stored.append(real_store(files, home))
        return stored[-1]

    monkeypatch.setattr(cluster, "store_files", interrupt_at_the_second_result)
    home = tmp_path / "cluster"
    with pytest.raises(KeyboardInterrupt):
        _run(_specs(), home, monkeypatch, scheduler=address)
    finished = sorted(p.parent.name for p in home.rglob("result.json"))
    assert len(finished) == 1

    monkeypatch.setattr(cluster, "store_files", real_store)
    real_run_tasks = cluster.run_tasks
    submitted = []

    def counting_run_tasks(client, function, tasks, **kw):
        submitted.extend(t.label for t in tasks)
        return real_run_tasks(client, function, tasks, **kw)

    monkeypatch.setattr(cluster, "run_tasks", counting_run_tasks)
    _run(_specs(), home, monkeypatch, scheduler=address)
    assert len(submitted) == len(_specs()) - 1 and finished[0] not in submitted
    assert _artefacts(home) == local_artefacts


def test_the_environment_variable_sends_runs_to_the_cluster(local_cluster, local_artefacts, tmp_path, monkeypatch):
    monkeypatch.setenv(cluster.ENV_SCHEDULER, local_cluster.scheduler_address)
    seen = []
    real_connect = cluster.connect
    monkeypatch.setattr(cluster, "connect", lambda address, **kw: seen.append(address) or real_connect(address, **kw))
    home = tmp_path / "cluster"
    _run(_specs(), home, monkeypatch)
    assert seen == [local_cluster.scheduler_address]
    assert _artefacts(home) == local_artefacts


def _fails_or_dies(n: int, how: str) -> int:
    if n == 2:
        if how == "raise":
            raise ValueError("task 2 fails (injected)")
        os._exit(3)  # the worker process dies, every time it gets this task
    from spoken100.data.paths import cache_dir

    (cache_dir("demo") / f"{n}.txt").write_text(str(n))
    return n


@pytest.mark.parametrize("how", ["raise", "die"])
def test_a_failing_task_never_costs_the_others_their_results(local_cluster, isolated_home, how):
    tasks = [cluster.Task(key=f"demo-{how}-{n}", args=(n, how), label=str(n)) for n in range(4)]
    done, failed = [], []
    with distributed.Client(local_cluster.scheduler_address, set_as_default=False) as client:

        def record(task, error):
            failed.append((int(task.label), type(error).__name__))
            return task.label != "2"  # only task 2's failure is left to raise

        with pytest.raises((ValueError, distributed.KilledWorker)):
            cluster.run_tasks(client, _fails_or_dies, tasks, lambda t, v: done.append(v), on_error=record,
                              progress=False)  # fmt: skip
        assert (2, "ValueError" if how == "raise" else "KilledWorker") in failed
        # every other task finished and was stored before the error was raised; a task that shared
        # the dying worker's queue may have been given up with it (Dask counts a death against
        # every task the worker held), and then it went to on_error, never silently lost
        assert sorted(done + [n for n, _ in failed]) == [0, 1, 2, 3]
        if how == "raise":
            assert sorted(done) == [0, 1, 3]
        stored = sorted(p.name for p in (isolated_home / "cache" / "demo").iterdir())
        assert stored == [f"{n}.txt" for n in sorted(done)]
        client.wait_for_workers(2, timeout=60)  # the nannies restart what died; leave the cluster whole


# ---- the architecture search on the cluster -----------------------------------------------------
TIMINGS = ("train_seconds", "eval_seconds")


def test_a_one_generation_search_on_the_cluster_gives_the_local_artefacts(local_cluster, tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tflite_micro")
    from dataclasses import replace

    from spoken100.nas import search

    from .test_nas_search import SMALL, task_data

    data = task_data(n_per=3)
    config = replace(SMALL, population=3, generations=1, max_train_clips=24, int8_val_clips=8)
    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path / "local"))
    local = search.search(data, config, progress=False)
    monkeypatch.setenv("SPOKEN100_HOME", str(tmp_path / "cluster"))
    remote = search.search(data, replace(config, scheduler=local_cluster.scheduler_address), progress=False)
    columns = [c for c in local.candidates.columns if c not in TIMINGS]
    assert local.candidates.feasible.astype(bool).any()  # something was trained and converted
    pd.testing.assert_frame_equal(remote.candidates[columns], local.candidates[columns])
    assert _artefacts(tmp_path / "cluster", "nas") == _artefacts(tmp_path / "local", "nas")
