"""Find broken internal links, missing images and unrendered markup in a rendered HTML site.

Sphinx's own ``-n`` mode catches broken cross-references in the sources, but not what the
rendered site refers to: images copied under another name, links written as raw HTML in a
notebook output, anchors that a template expects, or a ``data:`` URI left empty by a plotting
call that drew nothing. This module reads every page of the built site and checks each local
reference against the files that are really there. It also looks for MyST markup that was
printed as text instead of being rendered (:func:`find_unrendered_markup`), which Sphinx does not
warn about.

External addresses (``http(s)://``, ``mailto:``, protocol-relative ``//host``) are not
followed: the machines that build the book cannot reach them, and their state changes without
any change here.

Run both checks on a built book with ``python -m spoken100.book.sitecheck _build/html``; the exit
code is 1 when something is broken.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

#: Folders of a Sphinx build that hold assets and templates, not pages a reader opens.
NOT_PAGES = ("_static", "_sources", "_images", "_downloads")

#: (tag, attribute) pairs that refer to another file; ``img`` is handled separately.
LINKING = (("a", "href"), ("link", "href"), ("area", "href"))
EMBEDDING = (("img", "src"), ("script", "src"), ("source", "src"), ("audio", "src"), ("video", "src"),
             ("iframe", "src"), ("embed", "src"), ("track", "src"))  # fmt: skip

#: MyST markup that should never survive rendering into prose: a code fence, a colon fence, a role.
UNRENDERED = re.compile(r"```|:::\{|\{[a-z][\w:-]*\}`")
#: Elements whose text is shown literally on purpose (code, examples) or is not shown at all.
LITERAL_TAGS = {"pre", "code", "kbd", "samp", "tt", "script", "style", "textarea", "template", "noscript"}

#: URL schemes that point outside the site; never followed.
EXTERNAL_SCHEMES = {"http", "https", "mailto", "tel", "ftp", "ftps", "javascript", "news", "irc", "ssh", "git"}


@dataclass(frozen=True)
class Problem:
    """One broken reference: on ``page`` (relative to the site root), ``target`` is ``kind``."""

    page: str
    kind: str
    target: str
    detail: str = ""

    def describe(self) -> str:
        """The problem without the page name: ``kind: target (detail)``; long targets are cut."""
        shown = self.target if len(self.target) <= 100 else self.target[:97] + "..."
        return f"{self.kind}: {shown}" + (f" ({self.detail})" if self.detail else "")

    def __str__(self) -> str:
        return f"{self.page}: {self.describe()}"


def site_pages(html_root: Path) -> list[Path]:
    """The HTML pages of a rendered site, sorted; asset folders such as ``_static`` are left out.

    Sphinx themes leave Jinja macro files like ``_static/webpack-macros.html`` in the output;
    they are not pages and are never linked to, so they are not checked. Hidden files (a name
    starting with ``.``, such as a half-written ``.page.part-xyz.html``) are not pages either.
    """
    html_root = Path(html_root)
    pages = []
    for path in html_root.rglob("*.html"):
        parts = path.relative_to(html_root).parts
        if parts[0] not in NOT_PAGES and not any(part.startswith(".") for part in parts):
            pages.append(path)
    return sorted(pages, key=lambda p: p.relative_to(html_root).as_posix())


def check_site(html_root: Path) -> list[Problem]:
    """Check every page under ``html_root`` and return the broken references, page by page.

    Reported: a link or embedded file (image, script, stylesheet, audio source, ...) whose
    target file does not exist; a link whose ``#fragment`` names no element on the target page;
    an ``<img>`` with no ``src``, an empty image file, or an empty or corrupt ``data:`` URI; a
    ``file://`` address (it only works on the machine that built the site); and a relative link
    that climbs out of the site.

    Raises FileNotFoundError when ``html_root`` holds no ``index.html`` (no site was built).
    """
    html_root = Path(html_root).resolve()
    if not (html_root / "index.html").is_file():
        raise FileNotFoundError(f"{html_root}: no index.html - build the book first")
    anchors = _AnchorCache()
    problems: list[Problem] = []
    for page in site_pages(html_root):
        soup = BeautifulSoup(page.read_text(encoding="utf-8", errors="replace"), "html.parser")
        anchors.remember(page, soup)
        problems.extend(_check_page(html_root, page, soup, anchors))
    return problems


def find_unrendered_markup(html_root: Path) -> list[Problem]:
    """Prose that still shows MyST source: a stray code fence, a ``:::{`` or a ``{role}`` and backtick.

    A directive that MyST failed to parse is not an error to Sphinx: it is printed as text, and
    a code fence left open swallows whatever follows it. Text inside code elements (``pre``,
    ``code`` ...) is not examined, so examples of markup in the book are fine.
    """
    html_root = Path(html_root).resolve()
    problems = []
    for page in site_pages(html_root):
        soup = BeautifulSoup(page.read_text(encoding="utf-8", errors="replace"), "html.parser")
        body = soup.body or soup
        for text in body.find_all(string=UNRENDERED):
            if any(parent.name in LITERAL_TAGS for parent in text.parents):
                continue
            line = " ".join(str(text).split())
            where = UNRENDERED.search(line)
            snippet = line[max(0, where.start() - 20) : where.start() + 60] if where else line[:80]
            problems.append(Problem(page.relative_to(html_root).as_posix(), "unrendered markup", snippet,
                                    "MyST source shown as text"))  # fmt: skip
    return problems


def format_report(problems: list[Problem], html_root: Path, n_pages: int | None = None) -> str:
    """A readable report: one line per problem grouped by page, or a one-line all-clear."""
    n_pages = len(site_pages(html_root)) if n_pages is None else n_pages
    if not problems:
        return f"{html_root}: no broken links, images or markup in {n_pages} pages"
    pages = sorted({p.page for p in problems})
    lines = [f"{html_root}: {len(problems)} problem(s) on {len(pages)} of {n_pages} pages"]
    for page in pages:
        lines.append(f"  {page}")
        lines.extend(f"    {p.describe()}" for p in problems if p.page == page)
    return "\n".join(lines)


# ---- internals -----------------------------------------------------------------------------------


class _AnchorCache:
    """The ids and names each page defines, parsed once per page."""

    def __init__(self) -> None:
        self._ids: dict[Path, set[str]] = {}

    def remember(self, page: Path, soup: BeautifulSoup) -> None:
        self._ids[page] = _anchor_names(soup)

    def names(self, page: Path) -> set[str]:
        if page not in self._ids:
            soup = BeautifulSoup(page.read_text(encoding="utf-8", errors="replace"), "html.parser")
            self._ids[page] = _anchor_names(soup)
        return self._ids[page]


def _anchor_names(soup: BeautifulSoup) -> set[str]:
    names = {tag["id"] for tag in soup.find_all(id=True)}
    names |= {tag["name"] for tag in soup.find_all("a", attrs={"name": True})}
    return {str(n) for n in names}


def _references(soup: BeautifulSoup) -> Iterator[tuple[str, str, str | None]]:
    """(tag name, attribute, value) for every reference, in document order; value None when missing."""
    attribute = dict(LINKING + EMBEDDING)
    for tag in soup.find_all(list(attribute)):
        attr = attribute[tag.name]
        value = tag.get(attr)
        if value is None and tag.name != "img":
            continue  # an <a> without href is a plain anchor; a <script> may be inline
        yield tag.name, attr, None if value is None else str(value).strip()


def _check_page(root: Path, page: Path, soup: BeautifulSoup, anchors: _AnchorCache) -> Iterable[Problem]:
    rel = page.relative_to(root).as_posix()
    for tag_name, attr, value in _references(soup):
        is_image = tag_name == "img"
        missing = "missing image" if is_image else "broken link" if attr == "href" else "missing file"
        if value is None or value == "":
            if is_image:
                yield Problem(rel, "image without src", f"<{tag_name}>")
            continue
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme in EXTERNAL_SCHEMES or (not scheme and parts.netloc):
            continue
        if scheme == "data":
            if error := _data_uri_error(value):
                yield Problem(rel, "broken data URI", value, error)
            continue
        if scheme == "file":
            yield Problem(rel, "local file address", value, "works only on the machine that built the site")
            continue
        if scheme:
            continue  # some other protocol (e.g. vscode:, zotero:) that a browser hands to an app
        target = _resolve(root, page, unquote(parts.path))
        if target is None:
            yield Problem(rel, missing, value, "points outside the site")
            continue
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            yield Problem(rel, missing, value, f"no file {target.relative_to(root).as_posix()}")
            continue
        if is_image and target.stat().st_size == 0:
            yield Problem(rel, "empty image file", value)
            continue
        fragment = unquote(parts.fragment)
        if (
            fragment
            and tag_name in ("a", "area")
            and target.suffix == ".html"
            and fragment not in anchors.names(target)
        ):
            where = "this page" if target == page else target.relative_to(root).as_posix()
            yield Problem(rel, "missing anchor", value, f"no id {fragment!r} on {where}")


def _resolve(root: Path, page: Path, path: str) -> Path | None:
    """The file a URL path points to, or None when it leaves the site. ``""`` is the page itself."""
    if not path:
        return page
    if path.startswith("/"):
        parts = PurePosixPath(path).parts[1:]
        base = root
    else:
        parts = PurePosixPath(path).parts
        base = page.parent
    target = base.joinpath(*parts).resolve() if parts else base.resolve()
    if target != root and root not in target.parents:
        return None
    return target


def _data_uri_error(uri: str) -> str | None:
    """Why a ``data:`` URI is unusable (no payload, bad base64), or None when it is fine."""
    header, sep, payload = uri[5:].partition(",")
    if not sep:
        return "no comma between header and data"
    payload = "".join(payload.split())
    if not payload:
        return "no data"
    if header.endswith(";base64"):
        try:
            decoded = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as err:
            return f"invalid base64: {err}"
        if not decoded:
            return "no data"
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m spoken100.book.sitecheck HTML_DIR``: print the report; exit code 1 on problems."""
    parser = argparse.ArgumentParser(prog="python -m spoken100.book.sitecheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", type=Path, help="the rendered site, e.g. _build/html")
    args = parser.parse_args(argv)
    try:
        problems = check_site(args.html_dir) + find_unrendered_markup(args.html_dir)
    except FileNotFoundError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    print(format_report(problems, args.html_dir))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
