"""sitecheck on tiny hand-made sites: each kind of broken reference is reported, nothing else is."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from spoken100.book.sitecheck import check_site, find_unrendered_markup, format_report, main, site_pages

PNG = base64.b64decode(  # a 1x1 transparent PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def page(body: str, title: str = "t") -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"


@pytest.fixture
def site(tmp_path) -> Path:
    """A clean two-level site: index, a chapter with an image, anchors and external links."""
    root = tmp_path / "html"
    (root / "notebooks").mkdir(parents=True)
    (root / "_images").mkdir()
    (root / "_static").mkdir()
    (root / "_images" / "fig.png").write_bytes(PNG)
    (root / "_static" / "style.css").write_text("body {}")
    (root / "_static" / "macros.html").write_text("{% macro x() %}<a href='missing.html'>{% endmacro %}")
    (root / "index.html").write_text(
        page(
            '<link rel="stylesheet" href="_static/style.css?digest=abc">'
            '<a href="notebooks/ch1.html#results">results</a> <a href="#top">top</a> <h1 id="top">Top</h1>'
            '<a href="notebooks/">folder</a> <a href="notebooks/ch%201.html">spaced name</a>'
        )
    )
    (root / "notebooks" / "index.html").write_text(page("folder index"))
    (root / "notebooks" / "ch 1.html").write_text(page("spaced"))
    (root / "notebooks" / "ch1.html").write_text(
        page(
            '<h2 id="results">Results</h2><a name="old-anchor"></a>'
            '<img src="../_images/fig.png" alt="a figure"> <img src="data:image/png;base64,'
            + base64.b64encode(PNG).decode()
            + '"> <a href="../index.html">home</a> <a href="#old-anchor">old</a>'
            '<a href="https://example.org/nowhere.html#x">external</a> <a href="mailto:a@b.c">mail</a>'
            '<img src="https://example.org/remote.png"> <a href="//cdn.example.org/x.js">cdn</a>'
            "<pre>```{admonition} shown on purpose\n```</pre> <code>{cite}`key`</code>"
        )
    )
    return root


def test_clean_site_has_no_problems(site):
    assert check_site(site) == []
    assert find_unrendered_markup(site) == []
    assert "no broken links" in format_report([], site)


def test_pages_leave_out_asset_folders(site):
    names = [p.relative_to(site).as_posix() for p in site_pages(site)]
    assert names == ["index.html", "notebooks/ch 1.html", "notebooks/ch1.html", "notebooks/index.html"]


def test_broken_link_is_reported_with_page_and_target(site):
    (site / "notebooks" / "ch2.html").write_text(page('<a href="../book/gone.html">gone</a>'))
    [problem] = check_site(site)
    assert (problem.page, problem.kind, problem.target) == ("notebooks/ch2.html", "broken link", "../book/gone.html")
    assert "no file book/gone.html" in str(problem)


def test_missing_image_and_empty_data_uri_are_reported(site):
    (site / "notebooks" / "ch2.html").write_text(
        page(
            '<img src="../_images/lost.png"><img src="data:image/png;base64,"><img><img src="data:image/png;base64,@@">'
        )
    )
    (site / "_images" / "empty.png").write_bytes(b"")
    (site / "notebooks" / "ch3.html").write_text(page('<img src="../_images/empty.png">'))
    kinds = sorted((p.page, p.kind) for p in check_site(site))
    assert kinds == [
        ("notebooks/ch2.html", "broken data URI"),
        ("notebooks/ch2.html", "broken data URI"),
        ("notebooks/ch2.html", "image without src"),
        ("notebooks/ch2.html", "missing image"),
        ("notebooks/ch3.html", "empty image file"),
    ]


def test_missing_anchor_on_other_page_and_on_same_page(site):
    (site / "notebooks" / "ch2.html").write_text(
        page('<a href="ch1.html#conclusions">x</a> <a href="#nowhere">y</a> <a href="ch1.html#results">ok</a>')
    )
    problems = check_site(site)
    assert [(p.kind, p.target) for p in problems] == [
        ("missing anchor", "ch1.html#conclusions"),
        ("missing anchor", "#nowhere"),
    ]
    assert "no id 'conclusions' on notebooks/ch1.html" in problems[0].detail
    assert "this page" in problems[1].detail


def test_missing_script_and_links_leaving_the_site_or_to_local_files(site):
    (site / "notebooks" / "ch2.html").write_text(
        page(
            '<script src="../_static/gone.js"></script><script>let inline = 1;</script>'
            '<a href="../../outside.html">up</a> <a href="file:///home/me/book/x.html">local</a>'
        )
    )
    kinds = [p.kind for p in check_site(site)]
    assert kinds == ["missing file", "broken link", "local file address"]


def test_external_links_are_not_followed(site):
    (site / "notebooks" / "ch2.html").write_text(
        page('<a href="http://localhost:1/x">a</a> <img src="https://nowhere.invalid/i.png"> <a href="tel:123">t</a>')
    )
    assert check_site(site) == []


def test_unrendered_myst_markup_in_prose_is_reported(site):
    (site / "notebooks" / "ch2.html").write_text(
        page("<p>```{admonition} Built from <code>smoke</code>\n:class: warning</p><p>see {cite}`groh2024`</p>")
    )
    problems = find_unrendered_markup(site)
    assert [(p.page, p.kind) for p in problems] == [("notebooks/ch2.html", "unrendered markup")] * 2
    assert problems[0].target.startswith("```{admonition} Built from")


def test_cli_exit_codes_and_report(site, capsys):
    assert main([str(site)]) == 0
    (site / "notebooks" / "ch2.html").write_text(page('<img src="../_images/lost.png">'))
    assert main([str(site)]) == 1
    out = capsys.readouterr().out
    assert "1 problem(s) on 1 of 5 pages" in out and "notebooks/ch2.html" in out and "lost.png" in out
    assert main([str(site / "nothing")]) == 2
