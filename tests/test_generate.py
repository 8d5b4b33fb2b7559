"""The stand-in generator: byte-identical reruns and resumes, and loud failure on ignored voices."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from spoken100.data import synth
from spoken100.data.generate import MANIFEST, check_distinct, check_variants, generate_standin
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
