"""The stand-in generator: byte-identical reruns and resumes, and loud failure on ignored voices."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from spoken100.data import synth
from spoken100.data.generate import MANIFEST, SIZES, check_distinct, check_variants, generate_standin
from spoken100.data.layout import LANGUAGES
from spoken100.data.speakers import voices

TWO = ["Ada", "Anton"]


def _digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.wav")}


@pytest.fixture(scope="module")
def two_speakers(tmp_path_factory):
    home = tmp_path_factory.mktemp("standin")
    root = generate_standin(TWO, n_jobs=2, home=home, progress=False)
    return home, root, _digests(root)


def test_layout_and_manifest(two_speakers):
    home, root, digests = two_speakers
    assert len(digests) == len(TWO) * len(LANGUAGES) * 100
    assert (root / "mandarin_numbers" / "Anton" / "99.wav").is_file()
    assert (home / MANIFEST).is_file()


def test_resume_writes_the_same_bytes(two_speakers):
    home, root, digests = two_speakers
    (root / "french_numbers" / "Ada" / "17.wav").unlink()
    (root / "german_numbers" / "Anton" / "0.wav").unlink()
    for clip in (root / "english_numbers" / "Anton").glob("*.wav"):
        clip.unlink()
    generate_standin(TWO, n_jobs=2, home=home, progress=False)
    assert _digests(root) == digests


def test_resume_regenerates_damaged_clips(two_speakers, capsys):
    """Issue 13 (9): a 0-byte, a truncated and a wrongly sized clip are not kept as "already there"."""
    home, root, digests = two_speakers
    assert (home / SIZES).is_file()
    empty, cut, other = (root / "french_numbers" / "Ada" / "3.wav", root / "german_numbers" / "Anton" / "42.wav",
                         root / "mandarin_numbers" / "Ada" / "99.wav")  # fmt: skip
    empty.write_bytes(b"")
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 3])
    other.write_bytes(other.read_bytes()[:44] + bytes(100))  # same header, another size: only the record tells
    generate_standin(TWO, n_jobs=2, home=home, progress=False)
    assert _digests(root) == digests
    message = capsys.readouterr().err
    assert "regenerating 3 damaged clips" in message and f"{empty}: empty file (0 bytes)" in message

    (home / SIZES).unlink()  # a stand-in from before the size record: the headers are checked
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 3])
    generate_standin(TWO, n_jobs=2, home=home, progress=False)
    assert _digests(root) == digests and (home / SIZES).is_file()
    assert f"{cut}: truncated: the header declares" in capsys.readouterr().err


def test_fresh_run_writes_the_same_bytes(two_speakers, tmp_path):
    _, root, digests = two_speakers
    again = generate_standin(TWO, n_jobs=2, home=tmp_path, progress=False)
    assert _digests(again) == digests


def test_unknown_variant_fails_loudly():
    bogus = dataclasses.replace(voices(["Ada"])[0], speaker="Nobody", variant="no-such-variant")
    with pytest.raises(synth.SynthesisError, match="Nobody.*no-such-variant"):
        check_variants([bogus], n_jobs=1)


def test_language_voice_that_drops_variants_fails_loudly(monkeypatch):
    monkeypatch.setitem(synth.LANGUAGE_VOICES, "french", "fr-fr")
    with pytest.raises(synth.SynthesisError, match="fr-fr"):
        check_variants(voices(["Ada"]), n_jobs=1)


def test_identical_speakers_are_caught(two_speakers):
    _, root, _ = two_speakers
    known = {(s, lang): [f"{lang}{n}" for n in range(100)] for s in TWO for lang in LANGUAGES}
    with pytest.raises(synth.SynthesisError, match="identically"):
        check_distinct(root, TWO, known)
    check_distinct(root, TWO)  # the real clips differ
