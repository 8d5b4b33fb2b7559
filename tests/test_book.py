"""Checks on the smoke-profile book that `make book-test` has just built (marked slow)."""

from pathlib import Path

import pytest

HTML = Path(__file__).resolve().parents[1] / "_build" / "test" / "html"
pytestmark = pytest.mark.slow


def test_pages_exist():
    for page in ["index.html", "book/intro.html", "book/reproducing.html", "notebooks/01_generation_audit.html"]:
        assert (HTML / page).is_file(), page


def test_audit_chapter_states_its_corpus_and_passes():
    html = (HTML / "notebooks" / "01_generation_audit.html").read_text()
    assert "stand-in" in html and "3,200 clips" in html
    assert "fail</td>" not in html
    assert html.count("<img") >= 5


def test_intro_names_corpus_and_profile():
    html = (HTML / "book" / "intro.html").read_text()
    assert "profile" in html and "smoke" in html and "stand-in" in html
