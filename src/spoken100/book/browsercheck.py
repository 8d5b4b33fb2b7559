"""Open every page of the rendered book in a real browser (headless Chromium) and report what a
reader would meet: pages that do not load, images that do not render, and errors on the
JavaScript console. A screenshot of each page is kept as a build artefact.

A static check (:mod:`spoken100.book.sitecheck`) sees files; only a browser sees a PNG that exists but
cannot be decoded, a script that throws, or a theme that logs an error on first visit.

The pages are served by a small HTTP server on 127.0.0.1 inside this process rather than opened
as ``file://`` URLs: readers get the book from a web server (``make serve``, a static host), and
browsers treat ``file://`` pages differently (no shared origin, fetch() refused). The server
answers the browser's automatic ``/favicon.ico`` request with "204 No Content" when the site has
none, so that request is not reported as an error; a favicon that a page names explicitly is
checked like any other file.

Chromium and its driver come from the system packages (``apt-get install chromium
chromium-driver`` on Debian); Selenium is pointed at them explicitly so that it never tries to
download a browser. Run it with ``python -m spoken100.book.browsercheck _build/html --screenshots
DIR``; the exit code is 1 when a page has a problem.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from spoken100.book.sitecheck import site_pages

APT_HINT = "sudo apt-get install chromium chromium-driver"
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver",)
WINDOW = (1280, 2000)
#: Longest full-page screenshot, in CSS pixels; taller pages are cut at this height.
MAX_SCREENSHOT_HEIGHT = 16000

#: Every <img> of the page (lazy ones are switched to eager so that they load too).
_IMAGES_JS = """
const images = Array.from(document.images);
images.forEach(img => { if (img.loading === 'lazy') img.loading = 'eager'; });
return images.map(img => ({src: img.currentSrc || img.getAttribute('src') || '', complete: img.complete,
                           width: img.naturalWidth}));
"""


class BrowserMissing(RuntimeError):
    """Chromium or chromedriver is not installed; the message names the command that installs them."""


@dataclass
class PageReport:
    """What the browser saw on one page.

    page: path relative to the site root; url: the address loaded; final_url: where the browser
    ended up (different for redirect pages such as the root ``index.html``).
    figures: images that rendered (``naturalWidth > 0``); images: all ``<img>`` elements.
    broken_images: sources of images that finished loading with no pixels, or never finished.
    console_errors: messages the browser logged at level SEVERE (uncaught exceptions,
    ``console.error``, failed requests).
    """

    page: str
    url: str
    loaded: bool = False
    final_url: str = ""
    title: str = ""
    images: int = 0
    figures: int = 0
    broken_images: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the page loaded with no broken image and no console error."""
        return self.loaded and not self.broken_images and not self.console_errors

    def problems(self) -> list[str]:
        """One line per problem on this page (empty when ``ok``)."""
        lines = [] if self.loaded else [f"did not load: {self.error or 'unknown error'}"]
        lines += [f"broken image: {_short(src)}" for src in self.broken_images]
        lines += [f"console error: {msg}" for msg in self.console_errors]
        return lines


def find_browser() -> tuple[str, str]:
    """Paths of the Chromium binary and of chromedriver; BrowserMissing names the apt command.

    ``SPOKEN100_CHROMIUM`` and ``SPOKEN100_CHROMEDRIVER`` override the search on ``PATH``.
    """
    browser = os.environ.get("SPOKEN100_CHROMIUM") or next(filter(None, map(shutil.which, BROWSER_NAMES)), None)
    driver = os.environ.get("SPOKEN100_CHROMEDRIVER") or next(filter(None, map(shutil.which, DRIVER_NAMES)), None)
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path]
    if missing:
        raise BrowserMissing(
            f"{' and '.join(missing)} not found; the browser check needs headless Chromium and its driver. "
            f"Install them with: {APT_HINT}"
        )
    return str(browser), str(driver)


def check_pages(
    html_root: Path, screenshot_dir: Path, pages: list[str] | None = None, *, full_page: bool = True
) -> list[PageReport]:
    """Load each page of the site at ``html_root`` in headless Chromium, one after the other.

    pages: paths relative to ``html_root`` (default: every page, as :func:`site_pages` lists them).
    screenshot_dir: gets one PNG per page at the page's path with ``.png`` appended
    (``notebooks/01_generation_audit.html.png``); full_page captures the whole page up to
    MAX_SCREENSHOT_HEIGHT pixels, otherwise the 1280x2000 window.

    Each page is loaded as if on a first visit (the browser's storage is cleared between pages),
    so an error that only shows on a reader's first page is reported on every page that has it.

    Raises BrowserMissing when Chromium or chromedriver is not installed, FileNotFoundError when
    ``html_root`` has no ``index.html``.
    """
    html_root = Path(html_root).resolve()
    if not (html_root / "index.html").is_file():
        raise FileNotFoundError(f"{html_root}: no index.html - build the book first")
    if pages is None:
        pages = [p.relative_to(html_root).as_posix() for p in site_pages(html_root)]
    screenshot_dir = Path(screenshot_dir)
    browser, driver_path = find_browser()
    reports = []
    with _serve(html_root) as base_url, _chromium(browser, driver_path) as driver:
        for page in tqdm(pages, desc="browser check", unit="page", disable=None):
            reports.append(_check_one(driver, base_url, page, screenshot_dir, full_page))
    return reports


def format_report(reports: list[PageReport]) -> str:
    """A readable report: one line per page (images, time), problems indented under it."""
    bad = [r for r in reports if not r.ok]
    lines = []
    for r in reports:
        landed = "" if not r.final_url or r.final_url == r.url else f" -> {_relative(r.final_url, r.url)}"
        status = "ok " if r.ok else "BAD"
        lines.append(f"{status} {r.page}{landed}: {r.figures}/{r.images} images rendered, {r.seconds:.1f} s")
        lines.extend(f"      {line}" for line in r.problems())
    lines.append(
        f"{len(reports) - len(bad)} of {len(reports)} pages clean"
        + (f"; problems on {len(bad)}: {', '.join(r.page for r in bad)}" if bad else "")
    )
    return "\n".join(lines)


# ---- internals -----------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site without logging each request; answers a missing /favicon.ico with 204."""

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        if urlsplit(self.path).path == "/favicon.ico" and not Path(self.translate_path(self.path)).is_file():
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


@contextmanager
def _serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free port of 127.0.0.1 in a background thread; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="browsercheck-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def _chromium(browser: str, driver_path: str):
    """A headless Chromium driven by Selenium, with a throwaway profile; quit on exit."""
    from selenium import webdriver  # deferred: optional extra 'check'; only the browser check needs it
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import (
        Service,  # deferred: optional extra 'check'; only the browser check needs it
    )

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        "--mute-audio",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--renderer-process-limit=1",
        "--no-proxy-server",  # every page is on 127.0.0.1; an http_proxy in CI must not see them
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with tempfile.TemporaryDirectory(prefix="browsercheck-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        # Both paths are given, so Selenium Manager (which would download a browser) never runs.
        service = Service(executable_path=driver_path)
        try:
            with _loopback_without_proxy():
                driver = webdriver.Chrome(service=service, options=options)
        except WebDriverException as err:
            raise BrowserMissing(
                f"could not start {browser} with {driver_path}: {err.msg or err}. "
                f"Are chromium and chromium-driver the same version? ({APT_HINT})"
            ) from err
        try:
            driver.set_page_load_timeout(60)
            yield driver
        finally:
            driver.quit()


@contextmanager
def _loopback_without_proxy() -> Iterator[None]:
    """Keep Selenium's own requests to chromedriver (on 127.0.0.1) away from an ``http_proxy``.

    Selenium honours the proxy variables when it opens its connection to the driver; with a proxy
    set and ``no_proxy`` not naming localhost, every command would go to the proxy and fail.
    """
    if not any(os.environ.get(name) for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY")):
        yield
        return
    saved = {name: os.environ.get(name) for name in ("no_proxy", "NO_PROXY")}
    current = saved["no_proxy"] or saved["NO_PROXY"] or ""
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = ",".join(filter(None, [current, "127.0.0.1", "localhost"]))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _check_one(driver, base_url: str, page: str, screenshot_dir: Path, full_page: bool) -> PageReport:
    from selenium.common.exceptions import (  # deferred: optional extra 'check'; only the browser check needs it
        TimeoutException,
        WebDriverException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    url = base_url + page
    report = PageReport(page=page, url=url)
    start = time.perf_counter()
    _forget(driver)
    try:
        driver.get(url)
        # A meta-refresh page (the book's index.html) moves on by itself: wait for the target.
        if driver.execute_script("return !!document.querySelector('meta[http-equiv=refresh i]')"):
            WebDriverWait(driver, 10).until(lambda d: d.current_url != url)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
        driver.execute_script(_IMAGES_JS)  # switch lazy images to eager, then wait for all of them
        try:
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)")
            )
        except TimeoutException:
            pass  # the unfinished ones are reported as broken below
        images = driver.execute_script(_IMAGES_JS)
        report.loaded = True
        report.final_url = driver.current_url
        report.title = driver.title
        report.images = len(images)
        report.figures = sum(1 for img in images if img["complete"] and img["width"] > 0)
        report.broken_images = [img["src"] for img in images if not (img["complete"] and img["width"] > 0)]
        report.screenshot = _screenshot(driver, screenshot_dir / f"{page}.png", full_page)
    except WebDriverException as err:
        report.error = (err.msg or type(err).__name__).splitlines()[0]
    report.console_errors = [
        _console_text(entry, base_url) for entry in _browser_log(driver) if entry["level"] == "SEVERE"
    ]
    report.seconds = time.perf_counter() - start
    return report


def _forget(driver) -> None:
    """Empty the console buffer and the site's storage, so the next page starts as a first visit."""
    _browser_log(driver)
    try:
        driver.execute_script("try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}")
    except Exception:  # about:blank at the start has no storage; nothing to clear
        pass


def _browser_log(driver) -> list[dict]:
    try:
        return driver.get_log("browser")
    except Exception:  # a crashed tab has no log; the page is reported as not loaded
        return []


def _console_text(entry: dict, base_url: str) -> str:
    """A console message with the server's address shortened to the site path."""
    return " ".join(str(entry.get("message", "")).replace(base_url, "/").split())


def _screenshot(driver, path: Path, full_page: bool) -> Path:
    """Save a PNG of the page (the whole page up to MAX_SCREENSHOT_HEIGHT if ``full_page``)."""

    path.parent.mkdir(parents=True, exist_ok=True)
    if full_page:
        try:
            width, height = driver.execute_script(
                "return [window.innerWidth, Math.max(document.documentElement.scrollHeight,"
                " document.body ? document.body.scrollHeight : 0)];"
            )
            height = min(max(height, 1), MAX_SCREENSHOT_HEIGHT)
            # What Puppeteer's fullPage does: make the viewport as tall as the page, then shoot it.
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
            try:
                shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
            finally:
                driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            path.write_bytes(base64.b64decode(shot["data"]))
            return path
        except Exception:  # fall back to the visible window
            pass
    driver.save_screenshot(str(path))
    return path


def _short(src: str) -> str:
    return src if len(src) <= 100 else src[:97] + "..."


def _relative(final_url: str, url: str) -> str:
    base = url.rsplit("/", 1)[0] + "/"
    return final_url[len(base) :] if final_url.startswith(base) else final_url


def main(argv: list[str] | None = None) -> int:
    """``python -m spoken100.book.browsercheck HTML_DIR --screenshots DIR``; exit code 1 on problems."""
    parser = argparse.ArgumentParser(prog="python -m spoken100.book.browsercheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", type=Path, help="the rendered site, e.g. _build/html")
    parser.add_argument("--screenshots", type=Path, required=True, help="folder for one PNG per page")
    parser.add_argument("--page", action="append", dest="pages", help="check only this page (repeatable)")
    parser.add_argument("--window-only", action="store_true", help="screenshot the 1280x2000 window, not the page")
    args = parser.parse_args(argv)
    try:
        reports = check_pages(args.html_dir, args.screenshots, args.pages, full_page=not args.window_only)
    except (BrowserMissing, FileNotFoundError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    print(format_report(reports))
    print(f"screenshots: {args.screenshots}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
