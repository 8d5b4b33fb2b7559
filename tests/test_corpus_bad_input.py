"""Issue 13: empty, damaged and unreachable corpora end in one clear message and a non-zero exit.

Each test builds the bad input, runs the command line on it and checks the message (the file and
the problem), the exit code, the absence of a traceback, and that nothing the user had was lost.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from spoken100.cli import LISTING_ROWS, main
from spoken100.data.corpus import CorpusError, open_corpus

from .conftest import tone


def cli(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def small_layout(tmp_path):
    """English clips 0-4 of two real speakers (a corpus far from complete, but every clip well-formed)."""
    root = tmp_path / "SpokeN-100"
    for k, speaker in enumerate(("Bella", "Arnold")):
        folder = root / "english_numbers" / speaker
        folder.mkdir(parents=True)
        for number in range(5):
            sf.write(folder / f"{number}.wav", tone(0.3, freq=200 + 40 * number + 13 * k), 44_100, subtype="PCM_16")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---- 5: no usable clip -------------------------------------------------------------------------
def test_a_layout_of_flac_files_says_what_it_found(tmp_path):
    root = tmp_path / "flac" / "SpokeN-100"
    for n in range(27):
        folder = root / "english_numbers" / ("Bella", "Arnold", "Bill")[n % 3]
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"{n}.flac", tone(0.2), 44_100, format="FLAC")
    before = _files(root)
    for command in ("index", "audit"):
        result = cli(command, "--data", root)
        assert result.exit_code == 1
        assert f"Error: {root}: 0 clips: 27 files: not a .wav file" in result.output
        assert "merge" not in result.output
    assert _files(root) == before


def test_an_empty_layout_says_it_holds_no_clips(tmp_path):
    root = tmp_path / "SpokeN-100"
    for language in ("english", "german"):
        (root / f"{language}_numbers").mkdir(parents=True)
    result = cli("index", "--data", root)
    assert result.exit_code == 1 and f"{root}: 0 clips: the language folders hold no" in result.output


def test_n_speakers_without_a_matching_speaker_names_both_sides(small_layout):
    for speaker in ("Bella", "Arnold"):
        (small_layout / "english_numbers" / speaker).rename(small_layout / "english_numbers" / f"Not{speaker}")
    result = cli("audit", "--data", small_layout, "--n-speakers", 2)
    assert result.exit_code == 1
    assert "0 clips of the 2 chosen speakers (Bella, Arnold)" in result.output and "NotArnold" in result.output
    with pytest.raises(CorpusError, match="0 clips"):
        open_corpus(small_layout, 2, progress=False)


# ---- 6: truncated clips ------------------------------------------------------------------------
def test_a_truncated_wav_is_reported_by_index_audit_and_predict(small_layout):
    from spoken100.nas.predict import ClipError, load_clip_for_model

    clip = small_layout / "english_numbers" / "Bella" / "3.wav"
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 3])
    index = cli("index", "--data", small_layout)
    assert index.exit_code == 1
    assert f"problem: {clip}: truncated: the header declares" in index.output and "(33%)" in index.output
    audit = cli("audit", "--data", small_layout)
    assert audit.exit_code == 1
    assert "english_numbers/Bella/3.wav" in audit.output and "truncated" in audit.output
    with pytest.raises(ClipError, match=r"3\.wav: truncated"):
        load_clip_for_model(clip)
    assert clip.read_bytes() == data[: len(data) // 3]


# ---- 7: silent and too-short clips fail the audit ------------------------------------------------
def test_silent_and_very_short_clips_fail_the_audit(small_layout):
    silent = small_layout / "english_numbers" / "Bella" / "1.wav"
    short = small_layout / "english_numbers" / "Arnold" / "2.wav"
    sf.write(silent, np.zeros(22_050), 44_100, subtype="PCM_16")
    sf.write(short, tone(0.3)[5000:5022], 44_100, subtype="PCM_16")
    from spoken100.audit.checks import FAIL, run_audit

    report = run_audit(open_corpus(small_layout, progress=False), progress=False)
    status = report.summary().set_index("check").result
    assert status["not silent"] == FAIL and status["long enough"] == FAIL
    problems = report.issues().groupby("path").problem.apply(" | ".join)
    assert "silent (every sample is zero)" in problems["english_numbers/Bella/1.wav"]
    assert "only 0.5 ms long (under 50 ms)" in problems["english_numbers/Arnold/2.wav"]
    result = cli("audit", "--data", small_layout)
    assert result.exit_code == 1 and "english_numbers/Arnold/2.wav" in result.output


# ---- 8: prepare fails on a corpus the profile cannot use ---------------------------------------
def _profile(tmp_path, n_speakers: int | None = 2) -> Path:
    path = tmp_path / "two.yml"
    path.write_text(f"description: test\ncorpus:\n  n_speakers: {'null' if n_speakers is None else n_speakers}\n")
    return path


def test_prepare_passes_a_complete_corpus(tiny_layout, tmp_path):
    out = tmp_path / "work" / "corpus.json"
    result = cli("prepare", "--data", tiny_layout, "--profile", _profile(tmp_path), "--out", out)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["n_clips"] == 800


def test_prepare_fails_on_an_incomplete_corpus_with_the_problem_list(small_layout, tmp_path):
    out = tmp_path / "work" / "corpus.json"
    result = cli("prepare", "--data", small_layout, "--profile", _profile(tmp_path), "--out", out)
    assert result.exit_code == 1
    assert f"Error: {small_layout}: the corpus is not usable for the two profile (10 of 800" in result.output
    assert "complete grid: 790 of 800 expected clips missing" in result.output
    assert "english_numbers/Arnold/5.wav" in result.output and "... and 770 more files" in result.output
    assert "ALLOW_PROBLEMS=1" in result.output and not out.exists()
    anyway = cli("prepare", "--allow-problems", "--data", small_layout, "--profile", _profile(tmp_path), "--out", out)
    assert anyway.exit_code == 0 and "warning (ALLOW_PROBLEMS)" in anyway.output
    assert json.loads(out.read_text())["n_clips"] == 10


def test_prepare_fails_on_a_corpus_without_clips(tmp_path):
    root = tmp_path / "SpokeN-100" / "english_numbers" / "Bella"
    root.mkdir(parents=True)
    (root / "0.wav").write_bytes(b"")
    out = tmp_path / "corpus.json"
    result = cli("prepare", "--data", root.parent.parent, "--profile", _profile(tmp_path), "--out", out)
    assert result.exit_code == 1 and "0 clips: 1 file: empty file" in result.output and not out.exists()


# ---- 10: file-system faults ---------------------------------------------------------------------
def test_a_dangling_symlink_clip_is_a_named_problem(small_layout):
    link = small_layout / "english_numbers" / "Bella" / "7.wav"
    link.symlink_to(small_layout / "nowhere.wav")
    result = cli("index", "--data", small_layout)
    assert result.exit_code == 1
    assert f"problem: {link}: broken symbolic link (its target {small_layout / 'nowhere.wav'} does not exist)" in (
        result.output
    )
    assert link.is_symlink()


def test_an_unreadable_speaker_folder_is_a_named_problem(small_layout, monkeypatch):
    """Simulated (tests may run as root, whom permission bits do not stop): listing the folder raises."""
    locked = small_layout / "english_numbers" / "Arnold"
    listing = Path.iterdir

    def iterdir(self):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    result = cli("index", "--data", small_layout)
    assert result.exit_code == 1
    assert f"problem: {locked}: cannot list the folder (Permission denied)" in result.output
    assert '"n_clips": 5' in result.output  # Bella's clips are still indexed


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their permission bits")
def test_an_unreadable_speaker_folder_for_real(small_layout):
    locked = small_layout / "english_numbers" / "Arnold"
    locked.chmod(0)
    try:
        result = cli("index", "--data", small_layout)
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 1 and "cannot list the folder (Permission denied)" in result.output


def test_a_read_only_data_home_is_one_line(small_layout, isolated_home, monkeypatch):
    """Simulated with a mkdir that refuses under the data home (root ignores read-only bits)."""
    isolated_home.mkdir(parents=True, exist_ok=True)
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        if str(path).startswith(str(isolated_home)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    result = cli("index", "--data", small_layout)
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert (
        line.startswith(f"Error: {isolated_home / 'cache'}")
        and "Permission denied" in line
        and "SPOKEN100_HOME" in line
    )


@pytest.mark.parametrize("command", ["index", "audit"])
def test_out_on_an_existing_folder_is_refused_before_anything_is_written(small_layout, tmp_path, command):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "mine.csv").write_text("keep me")
    result = cli(command, "--data", small_layout, "--out", folder)
    assert result.exit_code == 1 and f"Error: {folder}: is a folder; --out needs a file name" in result.output
    assert _files(folder) == {"mine.csv": b"keep me"}


def test_a_model_json_that_is_not_an_object_is_named(tmp_path):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(64))
    (tmp_path / "model.json").write_text("[true]")
    clip = tmp_path / "clip.wav"
    sf.write(clip, tone(0.5), 44_100, subtype="PCM_16")
    result = cli("predict", model, clip)
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'model.json'}: a JSON list, not an object" in result.output


# ---- 13: the audit listing says what it left out -------------------------------------------------
def test_a_long_audit_listing_says_how_many_rows_were_left_out_and_where_they_are(small_layout, tmp_path):
    result = cli("audit", "--data", small_layout)
    assert result.exit_code == 1
    n_missing = 4 * 32 * 100 - 10
    assert f"... {n_missing - LISTING_ROWS:,} more rows left out ({n_missing:,} in all)" in result.output
    assert "--out FILE.csv" in result.output
    out = tmp_path / "issues.csv"
    saved = cli("audit", "--data", small_layout, "--out", out)
    assert saved.exit_code == 1 and f"the full table is in {out}" in saved.output
    assert len(out.read_text().splitlines()) == n_missing + 1
