"""FSDD: where the copy is found, fetching from a local archive, the index, the inputs and digit scoring."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from spoken100.baselines import fsdd
from spoken100.baselines.fsdd import (
    FSDD_COLUMNS,
    FSDD_REPOSITORY,
    FSDD_SHA256,
    digit_scores,
    evaluate_digits,
    fetch_fsdd,
    fsdd_dir,
    fsdd_index,
    fsdd_inputs,
    fsdd_scan,
    fsdd_status,
    load_trimmed,
)
from spoken100.data.audio import load_clip, resample_to_length
from spoken100.data.fetch import FetchError
from spoken100.data.index import sha256_file
from spoken100.data.inputs import log_mel
from spoken100.data.segment import trim_silence

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPOKEN100_SHARED", ROOT.parent / "shared"))
REAL_FSDD = SHARED / "data" / "fsdd"


@pytest.fixture(autouse=True)
def no_outside_copies(monkeypatch):
    """Tests see only the FSDD copies they make (not the developers' reference folder)."""
    monkeypatch.delenv(fsdd.ENV_FSDD, raising=False)
    monkeypatch.delenv("SPOKEN100_SHARED", raising=False)


def _digit_clip(digit: int, silence_s: float = 0.15, sr: int = 8000) -> np.ndarray:
    t = np.arange(int(0.3 * sr)) / sr
    voiced = 0.4 * np.sin(2 * np.pi * (300 + 40 * digit) * t) * np.hanning(len(t))
    pad = np.zeros(int(silence_s * sr))
    return np.concatenate([pad, voiced, pad])


def _write_fsdd(folder: Path, speakers=("alice", "jackson"), digits=range(10), takes=range(1)) -> Path:
    rec = folder / "recordings"
    rec.mkdir(parents=True, exist_ok=True)
    for speaker in speakers:
        for digit in digits:
            for take in takes:
                sf.write(rec / f"{digit}_{speaker}_{take}.wav", _digit_clip(digit), 8000, subtype="PCM_16")
    return folder


# ---- where the copy is ---------------------------------------------------------------------------


def test_fsdd_dir_order_and_status(tmp_path, monkeypatch, isolated_home):
    assert fsdd_dir() is None
    status = fsdd_status()
    assert FSDD_REPOSITORY in status and "fetch_fsdd" in status and FSDD_SHA256 in status

    shared = tmp_path / "shared"
    _write_fsdd(shared / "data" / "fsdd", digits=[1])
    monkeypatch.setenv("SPOKEN100_SHARED", str(shared))
    assert fsdd_dir() == shared / "data" / "fsdd"

    (isolated_home / "fsdd").mkdir(parents=True)  # an empty folder does not count
    assert fsdd_dir() == shared / "data" / "fsdd"
    _write_fsdd(isolated_home / "fsdd", digits=[2])
    assert fsdd_dir() == isolated_home / "fsdd"

    own = tmp_path / "mine"
    own.mkdir()
    sf.write(own / "3_bob_0.wav", _digit_clip(3), 8000)  # WAV files directly in the folder
    monkeypatch.setenv(fsdd.ENV_FSDD, str(own))
    assert fsdd_dir() == own
    assert "1 recordings" in fsdd_status()

    monkeypatch.setenv(fsdd.ENV_FSDD, str(tmp_path / "missing"))
    assert fsdd_dir() == isolated_home / "fsdd"  # falls through to the next place


# ---- index ---------------------------------------------------------------------------------------


def test_index_reports_bad_files_without_failing(tmp_path):
    folder = _write_fsdd(tmp_path / "fsdd", takes=range(6))
    rec = folder / "recordings"
    (folder / "README.md").write_text("licence")  # next to recordings/: ignored
    (rec / "notes.txt").write_text("x")
    (rec / "seven_alice_0.wav").write_bytes(b"")
    (rec / "4_alice_99.wav").write_bytes(b"")
    (rec / "5_alice_98.wav").write_bytes(b"RIFF not really a wav file")
    index, problems = fsdd_scan(folder)
    assert list(index.columns) == FSDD_COLUMNS
    assert len(index) == 2 * 10 * 6
    assert set(index.digit) == set(range(10)) and set(index.speaker) == {"alice", "jackson"}
    assert index.sample_rate.eq(8000).all() and index.duration_s.between(0.59, 0.61).all()
    assert (index.split == np.where(index["index"] < 5, "test", "train")).all()
    assert index.loc[index.speaker == "jackson", "accent"].eq("US").all()
    assert index.loc[index.speaker == "alice", "gender"].eq("unknown").all()
    assert (index.number == index.digit).all() and index.language.eq("english").all()
    reasons = dict(zip(problems.path, problems.problem, strict=True))
    assert set(reasons) == {
        f"recordings/{n}" for n in ("notes.txt", "seven_alice_0.wav", "4_alice_99.wav", "5_alice_98.wav")
    }
    assert reasons["recordings/notes.txt"] == "not a .wav file"
    assert reasons["recordings/seven_alice_0.wav"] == "file name is not {digit}_{speaker}_{take}.wav"
    assert reasons["recordings/4_alice_99.wav"] == "empty file"
    assert reasons["recordings/5_alice_98.wav"].startswith("unreadable audio")
    again = fsdd_index(folder)
    pd.testing.assert_frame_equal(again, index)
    assert len(again.attrs["problems"]) == 4


def test_index_without_a_copy_says_how_to_get_one():
    with pytest.raises(FileNotFoundError, match="fetch_fsdd"):
        fsdd_index()


# ---- inputs --------------------------------------------------------------------------------------


def test_trimming_cuts_edge_silence(tmp_path):
    path = tmp_path / "1_bob_0.wav"
    sf.write(path, _digit_clip(1, silence_s=0.3), 8000)
    whole, trimmed = load_trimmed(path, trim=False), load_trimmed(path)
    assert len(whole) == pytest.approx(0.9 * 44_100, abs=2)
    assert 0.3 * 44_100 < len(trimmed) < 0.4 * 44_100  # the voiced 0.3 s plus at most 20 ms each side


def test_inputs_follow_the_corpus_preprocessing_and_are_cached(tmp_path, monkeypatch):
    folder = _write_fsdd(tmp_path / "fsdd", speakers=("alice",), digits=[0, 5, 9])
    index = fsdd_index(folder)
    mel = fsdd_inputs(folder, index, "logmel", n_jobs=1, progress=False)
    wave = fsdd_inputs(folder, index, "waveform", n_jobs=1, progress=False)
    assert mel.shape == (3, 128, 32) and wave.shape == (3, 8000) and mel.dtype == np.float32
    path = folder / index.path[1]
    expected = resample_to_length(trim_silence(load_clip(path), 44_100))
    np.testing.assert_allclose(wave[1], expected, atol=1e-6)
    np.testing.assert_allclose(mel[1], log_mel(expected), atol=1e-4)
    untrimmed = fsdd_inputs(folder, index.iloc[[1]], "waveform", trim=False, n_jobs=1, progress=False)
    np.testing.assert_allclose(untrimmed[0], resample_to_length(load_clip(path)), atol=1e-6)
    assert not np.allclose(untrimmed[0], wave[1])

    def fail(*args, **kwargs):
        raise AssertionError("recomputed despite the cache")

    monkeypatch.setattr(fsdd, "load_trimmed", fail)
    np.testing.assert_array_equal(fsdd_inputs(folder, index, "logmel", n_jobs=1, progress=False), mel)


# ---- fetching ------------------------------------------------------------------------------------


def _fsdd_zip(tmp_path: Path, extra: dict[str, bytes] | None = None) -> Path:
    source = _write_fsdd(tmp_path / "source", speakers=("theo",), digits=[0, 1, 2])
    archive = tmp_path / "fsdd.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("free-spoken-digit-dataset-1.0.9/README.md", "FSDD")
        for f in sorted((source / "recordings").iterdir()):
            zf.write(f, f"free-spoken-digit-dataset-1.0.9/recordings/{f.name}")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return archive


def test_fetch_from_a_local_zip(tmp_path, monkeypatch, isolated_home):
    archive = _fsdd_zip(tmp_path)
    folder = fetch_fsdd(archive=archive)
    assert folder == isolated_home / "fsdd" and fsdd_dir() == folder
    assert sorted(p.name for p in (folder / "recordings").iterdir()) == ["0_theo_0.wav", "1_theo_0.wav", "2_theo_0.wav"]
    assert "CC BY-SA 4.0" in (folder / "ATTRIBUTION.md").read_text()
    assert len(fsdd_index(folder)) == 3 and not list(folder.glob(".partial*"))

    monkeypatch.setattr(fsdd, "_unpack", lambda *a: pytest.fail("unpacked the same archive twice"))
    assert fetch_fsdd(archive=archive) == folder
    assert fetch_fsdd(archive=archive, known_hash=sha256_file(archive)) == folder
    with pytest.raises(FetchError, match="does not match"):
        fetch_fsdd(archive=archive, known_hash="0" * 64)


def test_fetch_downloads_the_pinned_release_with_its_checksum(tmp_path, monkeypatch):
    archive = _fsdd_zip(tmp_path)
    calls = []

    def fake_retrieve(url, known_hash, fname, path, **kwargs):
        calls.append((url, known_hash, fname))
        return str(archive)

    monkeypatch.setattr("spoken100.data.fetch.pooch.retrieve", fake_retrieve)
    folder = fetch_fsdd(destination=tmp_path / "out", progress=False)
    assert calls == [(fsdd.FSDD_URL, f"sha256:{FSDD_SHA256}", "free-spoken-digit-dataset-v1.0.9.tar.gz")]
    assert len(fsdd_index(folder)) == 3


@pytest.mark.parametrize("name", ["../evil.wav", "/abs/1_x_0.wav", "a/../../1_x_0.wav"])
def test_fetch_refuses_unsafe_zip_entries(tmp_path, name):
    archive = _fsdd_zip(tmp_path, {name: b"x"})
    with pytest.raises(FetchError, match="refusing entry"):
        fetch_fsdd(archive=archive, destination=tmp_path / "out")
    assert not (tmp_path / "out" / "recordings").exists() and not (tmp_path / "evil.wav").exists()


def test_fetch_tar_archives_and_refuses_links(tmp_path):
    source = _write_fsdd(tmp_path / "source", speakers=("nicolas",), digits=[4])
    good = tmp_path / "fsdd.tar.gz"
    with tarfile.open(good, "w:gz") as tf:
        tf.add(source / "recordings", arcname="free-spoken-digit-dataset-1.0.9/recordings")
    folder = fetch_fsdd(archive=good, destination=tmp_path / "out")
    assert fsdd_index(folder).speaker.tolist() == ["nicolas"]

    bad = tmp_path / "link.tar"
    with tarfile.open(bad, "w") as tf:
        info = tarfile.TarInfo("recordings/1_x_0.wav")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(FetchError, match="link"):
        fetch_fsdd(archive=bad, destination=tmp_path / "out2")

    empty = tmp_path / "empty.tar"
    with tarfile.open(empty, "w") as tf:
        info = tarfile.TarInfo("README.md")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"FSDD"))
    with pytest.raises(FetchError, match="is this FSDD"):
        fetch_fsdd(archive=empty, destination=tmp_path / "out3")


# ---- evaluation ----------------------------------------------------------------------------------


def test_digit_scores_restricted_and_unrestricted():
    digits = np.array([0, 1, 2, 3])
    logits = np.full((4, 100), -5.0)
    logits[0, 0] = 1  # right
    logits[1, 7] = 1  # wrong digit
    logits[2, 2], logits[2, 42] = 1, 3  # right among digits, "42" overall
    logits[3, 3], logits[3, 13] = 2, 1  # right
    scores = digit_scores(logits, digits, speakers=["a", "a", "b", "b"])
    assert scores.accuracy == 0.75 and scores.accuracy_unrestricted == 0.5 and scores.out_of_range == 0.25
    assert (
        scores.confusion.shape == (10, 10)
        and scores.confusion.loc[1, 7] == 1
        and scores.confusion.to_numpy().sum() == 4
    )
    assert scores.per_speaker.to_dict("list") == {
        "speaker": ["a", "b"], "n": [2, 2], "accuracy": [0.5, 1.0], "accuracy_unrestricted": [0.5, 0.5],
    }  # fmt: skip
    with pytest.raises(ValueError, match="n_classes >= 10"):
        digit_scores(logits[:, :4], digits)


def test_evaluate_digits_runs_a_model():
    model = torch.nn.Linear(10, 100)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
        model.weight[:10, :10] = torch.eye(10)
    X = np.eye(10, dtype=np.float32)[[3, 1, 4, 1, 5]]
    result = evaluate_digits(model, X, np.array([3, 1, 4, 1, 5]), speakers=np.array(["x"] * 5))
    assert result.accuracy == 1.0 and result.per_speaker.n.tolist() == [5]


# ---- the real dataset, where the developers' copy is present ---------------------------------------


@pytest.mark.skipif(not (REAL_FSDD / "recordings").is_dir(), reason="the reference FSDD copy is absent")
def test_real_fsdd_copy(monkeypatch):
    monkeypatch.setenv("SPOKEN100_SHARED", str(SHARED))
    assert fsdd_dir() == REAL_FSDD
    index, problems = fsdd_scan(REAL_FSDD)
    assert problems.empty
    assert len(index) == 1500 and sorted(index.digit.unique()) == list(range(10))
    assert set(index.speaker) == {"george", "jackson", "lucas"} and index.sample_rate.eq(8000).all()
    assert (index.split == "test").sum() == 150
    rows = index.iloc[[0, 700, 1499]]
    mel = fsdd_inputs(REAL_FSDD, rows, "logmel", n_jobs=1, progress=False)
    assert mel.shape == (3, 128, 32) and np.isfinite(mel).all() and mel.max() == 0.0


# ---- the command line (issue 14, item 5) ----------------------------------------------------------


def test_fetch_fsdd_command(tmp_path, monkeypatch, isolated_home):
    import tarfile

    from click.testing import CliRunner

    from spoken100.cli import main

    monkeypatch.delenv("SPOKEN100_FSDD", raising=False)
    monkeypatch.delenv("SPOKEN100_SHARED", raising=False)
    assert "`spoken100 fetch --fsdd`" in fsdd_status()
    source = _write_fsdd(tmp_path / "repo" / "free-spoken-digit-dataset-1.0.9", digits=[3])
    archive = tmp_path / "fsdd.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(source, arcname=source.name)
    runner = CliRunner()
    offline = runner.invoke(main, ["fetch", "--fsdd", "--optional", "--url", "http://127.0.0.1:9/fsdd.tar.gz"])
    assert offline.exit_code == 0 and "was not fetched" in offline.output and fsdd_dir() is None
    failed = runner.invoke(main, ["fetch", "--fsdd", "--url", "http://127.0.0.1:9/fsdd.tar.gz"])
    assert failed.exit_code == 1 and failed.output.startswith("Error: ") and "Traceback" not in failed.output
    done = runner.invoke(main, ["fetch", "--fsdd", "--zip", str(archive)])
    assert done.exit_code == 0, done.output
    assert fsdd_dir() == isolated_home / "fsdd" and "make book" in done.output
    again = runner.invoke(main, ["fetch", "--fsdd", "--optional"])
    assert again.exit_code == 0 and "already" in again.output
    assert runner.invoke(main, ["fetch", "--optional"]).exit_code == 2  # --optional only with --fsdd
