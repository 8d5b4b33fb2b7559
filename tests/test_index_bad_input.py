"""Each bad input named in the foundation issue is listed with its file and problem."""

import shutil

import numpy as np
import pandas as pd
import soundfile as sf

from spoken100 import open_corpus
from spoken100.audit.checks import FAIL, run_audit

from .conftest import tone


def _problems(corpus):
    return dict(zip(corpus.problems.path, corpus.problems.problem, strict=True))


def test_clean_layout_passes(tiny_layout):
    corpus = open_corpus(tiny_layout, progress=False)
    assert corpus.kind == "real" and len(corpus.index) == 800 and corpus.problems.empty
    grid = run_audit(corpus, progress=False).grid
    # only the two speakers exist, so the other 30 real speakers are reported missing
    assert set(grid.issue) == {"missing"} and len(grid) == 4 * 30 * 100


def test_each_bad_input_is_reported(tiny_layout):
    en = tiny_layout / "english_numbers" / "Bella"
    (en / "3.wav").write_bytes(b"RIFF not really a wav")  # corrupt
    (en / "4.wav").write_bytes(b"")  # empty
    sf.write(en / "5.wav", tone(channels=2), 44_100, subtype="PCM_16")  # stereo
    sf.write(en / "6.wav", tone(sr=8_000), 8_000, subtype="PCM_16")  # 8 kHz
    sf.write(en / "seven.wav", tone(), 44_100)  # non-numeric
    sf.write(en / "150.wav", tone(), 44_100)  # outside 0-99
    (tiny_layout / "klingon_numbers" / "Bella").mkdir(parents=True)  # unknown language
    shutil.rmtree(tiny_layout / "german_numbers" / "Arnold")  # missing speaker folder

    corpus = open_corpus(tiny_layout, progress=False)
    problems = _problems(corpus)
    assert problems["english_numbers/Bella/3.wav"].startswith("unreadable audio")
    assert problems["english_numbers/Bella/4.wav"] == "empty file"
    assert problems["english_numbers/Bella/seven.wav"] == "non-numeric file name"
    assert problems["english_numbers/Bella/150.wav"] == "number 150 outside 0-99"
    assert problems["klingon_numbers"].startswith("unknown language folder")

    report = run_audit(corpus, progress=False)
    issues = report.issues()
    by_path = issues.groupby("path").problem.apply(" | ".join).to_dict()
    assert "not mono" in by_path["english_numbers/Bella/5.wav"]
    assert "sample rate is not 44100 Hz" in by_path["english_numbers/Bella/6.wav"]
    assert by_path["german_numbers/Arnold/0.wav"] == "missing"
    assert "unreadable audio" in by_path["english_numbers/Bella/3.wav"]
    status = report.summary().set_index("check").result
    assert status["sample rate"] == FAIL and status["channels"] == FAIL and status["complete grid"] == FAIL
    assert not report.passed


def test_index_cache_sees_changed_files(tiny_layout):
    first = open_corpus(tiny_layout, progress=False)
    path = tiny_layout / "english_numbers" / "Bella" / "0.wav"
    sf.write(path, np.zeros(100) + 0.1, 44_100, subtype="PCM_16")
    second = open_corpus(tiny_layout, progress=False)
    assert first.digest != second.digest
    row = second.index.set_index("path").loc["english_numbers/Bella/0.wav"]
    assert row.frames == 100


def test_index_cache_reads_no_audio_for_unchanged_files(tiny_layout, monkeypatch):
    from spoken100.data import index as index_module

    first = open_corpus(tiny_layout, progress=False)

    def must_not_read(path):
        raise AssertionError(f"{path} was re-read although unchanged")

    monkeypatch.setattr(index_module, "_audio_facts", must_not_read)
    second = open_corpus(tiny_layout, progress=False)
    assert second.digest == first.digest
    pd.testing.assert_frame_equal(second.index, first.index)


def test_unknown_speaker_is_reported_not_silently_genderless(tiny_layout):
    (tiny_layout / "english_numbers" / "Arnold").rename(tiny_layout / "english_numbers" / "Stranger")
    corpus = open_corpus(tiny_layout, progress=False)
    assert set(corpus.index.loc[corpus.index.speaker == "Stranger", "gender"]) == {"unknown"}
    [problem] = corpus.problems[corpus.problems.path.str.contains("Stranger")].problem
    assert "gender unknown" in problem
