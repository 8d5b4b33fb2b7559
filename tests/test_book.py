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


def test_no_broken_links_or_images():
    from spoken100.book.sitecheck import check_site, format_report

    problems = check_site(HTML)
    assert not problems, format_report(problems, HTML)


def test_no_unrendered_markup():
    from spoken100.book.sitecheck import find_unrendered_markup, format_report

    problems = find_unrendered_markup(HTML)
    assert not problems, format_report(problems, HTML)


def test_every_page_loads_in_a_real_browser():
    """Headless Chromium opens every page; screenshots go to _build/test/screenshots (CI artefact).

    Not skipped without Chromium: CI installs it (`.ci/run`, `make system-deps`), and a missing
    browser fails with the apt command that installs it.
    """
    from spoken100.book.browsercheck import BrowserMissing, check_pages, format_report

    try:
        reports = check_pages(HTML, HTML.parent / "screenshots")
    except BrowserMissing as err:
        pytest.fail(str(err))
    report = format_report(reports)
    assert reports and not [r.page for r in reports if not r.loaded], report
    chapters = [r for r in reports if r.page.startswith("notebooks/")]
    assert chapters, report
    assert not [r.page for r in chapters if r.figures < 1], report
    assert not [r.page for r in reports if r.broken_images], report
    assert not [r.page for r in reports if r.console_errors], report
    assert not [r.page for r in reports if not (r.screenshot and r.screenshot.is_file())], report


def test_landing_page_shows_this_builds_results_and_figure():
    html = (HTML / "book" / "intro.html").read_text()
    assert "This build: stand-in corpus" in html and "profile smoke" in html
    assert "checks pass" in html and "headline.png" in html
    for chapter in ("01_generation_audit", "03_umap", "04_baselines", "05_evonas", "06_deployment"):
        assert f"notebooks/{chapter}.html" in html  # every chapter one click away


def test_paper_vs_companion_page_sets_both_side_by_side():
    html = (HTML / "book" / "comparison.html").read_text()
    assert "84.77 ± 3.70 %" in html and "368 ms" in html  # the paper's figures, with their sources
    assert "12,800 = 100 × 4 × 32" in html
    # every source is one a reader can open (the paper, its repository, a summary), never a private note
    assert 'href="https://github.com/ankilab/SpokeN-100"' in html and 'href="https://arxiv.org/abs/2403.09753"' in html
    assert "paper-facts" not in html
    assert "3,200" in html  # this build's clip count, glued by chapter 1
