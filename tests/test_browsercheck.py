"""browsercheck on a tiny site in headless Chromium: figures, broken images, console errors, screenshots.

Skipped when Chromium is not installed here; the slow book test (tests/test_book.py) does not skip.
"""

from __future__ import annotations

import base64

import pytest

from spoken100.book.browsercheck import APT_HINT, BrowserMissing, check_pages, find_browser, format_report, main

PNG = base64.b64decode(  # a 1x1 transparent PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def chromium():
    try:
        return find_browser()
    except BrowserMissing as err:
        pytest.skip(f"headless Chromium is not installed ({err})")


def page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>tiny</title></head><body>{body}</body></html>"


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "html"
    (root / "ch").mkdir(parents=True)
    (root / "good.png").write_bytes(PNG)
    (root / "corrupt.png").write_bytes(b"not a png at all")
    (root / "index.html").write_text(
        page('<h1>Home</h1><img src="good.png" alt="fig"><img src="good.png" loading="lazy">')
    )
    (root / "ch" / "broken.html").write_text(
        page('<img src="../good.png"><img src="../gone.png"><img src="../corrupt.png">')
    )
    (root / "ch" / "noisy.html").write_text(page('<p>text</p><script>console.error("x"); console.warn("w")</script>'))
    (root / "redirect.html").write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0; url=index.html"></head></html>'
    )
    return root


def test_reports_figures_broken_images_console_errors_and_writes_screenshots(chromium, site, tmp_path):
    shots = tmp_path / "shots"
    reports = {r.page: r for r in check_pages(site, shots)}
    assert sorted(reports) == ["ch/broken.html", "ch/noisy.html", "index.html", "redirect.html"]
    assert all(r.loaded for r in reports.values())

    home = reports["index.html"]
    assert home.ok and (home.images, home.figures) == (2, 2) and home.title == "tiny"

    broken = reports["ch/broken.html"]
    assert not broken.ok and (broken.images, broken.figures) == (3, 1)
    assert sorted(src.rsplit("/", 1)[1] for src in broken.broken_images) == ["corrupt.png", "gone.png"]

    noisy = reports["ch/noisy.html"]
    assert noisy.figures == 0 and not noisy.broken_images
    assert len(noisy.console_errors) == 1 and '"x"' in noisy.console_errors[0]  # the warning is not an error

    redirect = reports["redirect.html"]
    assert redirect.ok and redirect.final_url.endswith("/index.html") and redirect.figures == 2

    for name in reports:
        png = shots / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name

    text = format_report(list(reports.values()))
    assert "BAD ch/broken.html" in text and "gone.png" in text and "2 of 4 pages clean" in text


def test_pages_argument_limits_the_check_and_cli_exit_code(chromium, site, tmp_path, capsys):
    [only] = check_pages(site, tmp_path / "a", pages=["index.html"], full_page=False)
    assert only.ok and (tmp_path / "a" / "index.html.png").is_file()
    assert main([str(site), "--screenshots", str(tmp_path / "b"), "--page", "index.html"]) == 0
    assert main([str(site), "--screenshots", str(tmp_path / "c"), "--page", "ch/noisy.html"]) == 1
    assert "console error" in capsys.readouterr().out


def test_missing_browser_names_the_apt_command(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("SPOKEN100_CHROMIUM", raising=False)
    monkeypatch.delenv("SPOKEN100_CHROMEDRIVER", raising=False)
    with pytest.raises(BrowserMissing, match="apt-get install chromium chromium-driver"):
        find_browser()
    assert "chromium-driver" in APT_HINT
